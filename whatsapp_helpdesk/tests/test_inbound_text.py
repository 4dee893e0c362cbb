"""Issue 8, section 4, finding 4: what a customer writes stays text wherever Odoo shows it."""

import dataclasses
import json
import random

import lxml.html
from markupsafe import Markup, escape
from odoo.tests import TransactionCase, tagged

from ..tools import payloads, webhook
from ..tools import text as wa_text
from .common import WhatsappCase

HOSTILE = "Chegou quebrado <img src=x onerror=alert(1)> <b>urgente</b> & rápido"


@tagged("post_install", "-at_install")
class TestInboundTextIsNeverMarkup(WhatsappCase, TransactionCase):
    def assert_escaped(self, html, where):
        html = str(html)
        self.assertNotIn("<img", html, where)
        self.assertNotIn("<b>", html, where)
        self.assertIn("&lt;img src=x onerror=alert(1)&gt;", html, where)
        self.assertIn("&lt;b&gt;urgente&lt;/b&gt;", html, where)

    def customer_writes(self, text):
        self.deliver(self.inbound(None, payloads.text_message(self.customer_wa_id, text)))
        return self.env["whatsapp.conversation"].search([("wa_id", "=", self.customer_wa_id)])

    def test_ticket_opened_by_keyword_or_by_hand(self):
        team = self.env["helpdesk.ticket.team"].create(
            {"name": "Support", "whatsapp_enabled": True, "whatsapp_ticket_keywords": "quebrado"}
        )
        conversation = self.customer_writes(HOSTILE)
        self.assertEqual(conversation.team_id, team)
        ticket = conversation.ticket_ids
        self.assertEqual(len(ticket), 1)
        self.assert_escaped(ticket.description, "ticket opened by keyword")
        self.assertEqual(ticket.name, HOSTILE, "a plain-text name, shown escaped")
        action = conversation.action_create_ticket()
        by_hand = self.env["helpdesk.ticket"].browse(action["res_id"])
        self.assert_escaped(by_hand.description, "ticket opened by hand")

    def test_conversation_thread_and_order_chatter(self):
        order = self.env["sale.order"].create({"partner_id": self.customer.id})
        conversation = self.customer_writes(f"{HOSTILE} pedido {order.name}")
        inbound = conversation.whatsapp_message_ids.filtered(lambda m: m.direction == "in")
        self.assert_escaped(inbound.mail_message_id.body, "conversation thread")
        self.assertEqual(conversation.sale_order_ids, order)
        note = order.message_ids.filtered(lambda m: "WhatsApp from" in (m.body or ""))
        self.assertEqual(len(note), 1)
        self.assert_escaped(note.body, "note on the sales order")


# What customers write that the sanitizer must neutralize or rewrite: markup, event handlers,
# NUL, lone surrogates, characters HTML cannot hold, e-mail quotes and signatures, entities.
HOSTILE_TEXTS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<a href='javascript:alert(1)'>x</a> onerror=alert(1)",
    "nul\x00inside",
    "lone \ud800 surrogate \udfff",
    "bell\x07 vtab\x0b ff\x0c esc\x1b \ufffe\uffff",
    "quoted\n> reply\n>> older",
    "regards\n-- \nsignature",
    "&amp; &#39; &lt;b&gt; ]]> <!-- -->",
    "no-break\xa0space, 😀, 中文, \u2028",
    "",
]


@tagged("post_install", "-at_install")
class TestInboundBodies(WhatsappCase, TransactionCase):
    """The chatter body of a customer message is written without the ORM's two sanitizer passes
    when ``tools.text.chatter_paragraph`` knows what the sanitizer stores; otherwise sanitized."""

    def sanitized(self, text):
        """What the ORM's sanitizer stores for the escaped paragraph of ``text``."""
        Message = self.env["mail.message"]
        field = Message._fields["body"]
        return str(field.convert_to_cache(Markup("<p>%s</p>") % escape(text), Message))

    def test_paragraph_is_what_the_sanitizer_stores(self):
        rng = random.Random(15)
        pieces = [*HOSTILE_TEXTS, "a", " ", "\n", "\r", "\t", "&", "<", ">", '"', "'", "-", "é"]
        texts = list(HOSTILE_TEXTS)
        for _ in range(400):
            texts.append("".join(rng.choice(pieces) for _ in range(rng.randint(1, 8))))
            texts.append("".join(chr(rng.randint(1, 0x3000)) for _ in range(rng.randint(1, 20))))
        fast = 0
        for text in texts:
            html, sanitize = wa_text.chatter_paragraph(text)
            if not sanitize:
                fast += 1
                self.assertEqual(html, self.sanitized(text), repr(text))
        self.assertGreater(fast, len(texts) // 2, "most texts skip the sanitizer")

    def assert_inert(self, body, text):
        self.assertNotIn("\x00", body, repr(text))
        self.assertFalse(any("\ud800" <= c <= "\udfff" for c in body), repr(text))
        for element in lxml.html.fragment_fromstring(body, create_parent="div").iter():
            self.assertIn(element.tag, ("div", "p", "span"), repr(text))
            self.assertLessEqual(set(element.attrib), {"data-o-mail-quote"}, repr(text))

    def stored_bodies(self, mail_messages):
        """{id: body} as the database holds them, after checking the cache agrees."""
        cached = {m.id: str(m.body) for m in mail_messages}
        self.env.invalidate_all()
        self.env.cr.execute(
            "SELECT id, body FROM mail_message WHERE id IN %s", [tuple(mail_messages.ids)]
        )
        stored = dict(self.env.cr.fetchall())
        self.assertEqual(cached, stored, "the cache holds what was written")
        return stored

    def test_hostile_texts_are_stored_inert(self):
        # NUL and lone surrogates never reach the storing (the webhook's JSON is cleaned of
        # them: see the next test); the rest is stored as the customer wrote it
        texts = [t for t in HOSTILE_TEXTS if "\x00" not in t and "\ud800" not in t]
        template = webhook.parse(payloads.encode(self.inbound())).events[0]
        received = [
            (self.account, dataclasses.replace(template, wamid=f"wamid.hostile{i}", text=text))
            for i, text in enumerate(texts)
        ]
        created = self.env["whatsapp.message"]._store_inbound(received)
        self.assertEqual(created.mapped("body"), texts)
        stored = self.stored_bodies(created.mail_message_id)
        for message, text in zip(created, texts, strict=True):
            body = stored[message.mail_message_id.id]
            self.assertEqual(body, self.sanitized(text), repr(text))
            self.assert_inert(body, text)
        self.assertEqual(
            stored[created[0].mail_message_id.id], "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
        )
        quoted = created.filtered(lambda m: m.body and m.body.startswith("quoted"))
        self.assertIn("data-o-mail-quote", stored[quoted.mail_message_id.id], "sanitized")

    def test_nul_and_lone_surrogates_through_the_webhook(self):
        text = "nul\x00<script>alert(1)</script> lone \ud800 <img src=x onerror=alert(1)>"
        payload = self.inbound(None, payloads.text_message(self.customer_wa_id, text))
        # JSON escapes, as a hostile sender writes them (raw, they are not UTF-8)
        self.env["whatsapp.webhook.event"]._intake(webhook.parse(json.dumps(payload).encode()))
        self.env["whatsapp.webhook.event"]._cron_process()
        conversation = self.env["whatsapp.conversation"].search(
            [("wa_id", "=", self.customer_wa_id)]
        )
        message = conversation.whatsapp_message_ids.filtered(lambda m: m.direction == "in")
        self.assertEqual(
            message.body, "nul<script>alert(1)</script> lone \ufffd <img src=x onerror=alert(1)>"
        )
        body = self.stored_bodies(message.mail_message_id)[message.mail_message_id.id]
        self.assertEqual(
            body,
            "<p>nul&lt;script&gt;alert(1)&lt;/script&gt; lone \ufffd "
            "&lt;img src=x onerror=alert(1)&gt;</p>",
        )
        self.assert_inert(body, text)

    def test_automatic_posts_are_stored_as_sanitized(self):
        conversation = self.say("Oi")
        self.assertFalse(conversation.message_follower_ids, "posted directly, not message_post")
        Message = self.env["mail.message"]
        field = Message._fields["body"]
        bot = self.env.ref("base.partner_root").id
        for body in [*HOSTILE_TEXTS, "\x1b", Markup("<p>kept <b>as</b> markup</p>")]:
            if "\x00" in body or "\ud800" in body:
                continue  # never a text of ours
            posted = conversation._post_automatic(body, "mail.mt_comment", bot)
            stored = self.stored_bodies(posted)[posted.id]
            # a text is the paragraph of a customer's message; markup is kept as sanitized
            html = body if isinstance(body, Markup) else Markup("<p>%s</p>") % escape(body)
            self.assertEqual(stored, str(field.convert_to_cache(html, Message)), repr(body))
            if not isinstance(body, Markup):
                self.assert_inert(stored, body)
            self.assertEqual(posted.author_id.id, bot)
            self.assertEqual(posted.res_id, conversation.id)

    def test_bulk_chatter_rows_come_back_in_their_order(self):
        conversation = self.say("Oi")
        other = self.say("Olá", wa_id="5511977776666")
        threads = [conversation, other, conversation, other, conversation]
        rows = [
            thread._chatter_row(thread.id, thread.name, Markup("<p>%s</p>") % f"row {i}", False)
            for i, thread in enumerate(threads)
        ]
        messages = self.env["mail.message"].sudo()._whatsapp_insert(rows)
        messages.invalidate_recordset()
        self.assertEqual(messages.mapped("body"), [Markup(f"<p>row {i}</p>") for i in range(5)])
        self.assertEqual(messages.mapped("res_id"), [thread.id for thread in threads])
        self.assertEqual(len(set(messages.mapped("message_id"))), 5)

    def test_campaign_posts_are_stored_as_sanitized(self):
        conversation = self.say("Oi")
        texts = [t for t in HOSTILE_TEXTS if "\x00" not in t and "\ud800" not in t]
        for text in texts:
            posted = conversation._post_many(
                [("key", conversation.id, "Campaign", text, None, None)]
            )
            message = self.env["mail.message"].browse(posted["key"])
            stored = self.stored_bodies(message)[message.id]
            self.assertEqual(stored, self.sanitized(text), repr(text))
            self.assert_inert(stored, text)
            self.assertEqual(message.record_name, "Campaign")

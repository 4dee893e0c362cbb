import base64
import json
from collections import defaultdict

from lxml import etree
from odoo.addons.mail.tools.discuss import Store
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from ..tools import payloads
from .common import WhatsappCase


@tagged("post_install", "-at_install")
class TestWorkspace(WhatsappCase, TransactionCase):
    """What the chat workspace asks the server, as a non-admin agent, with hostile input."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        groups = "base.group_user,whatsapp_helpdesk.group_whatsapp_user"
        # agents may create and edit contacts, as the demo's Sofia
        cls.sofia = new_test_user(
            cls.env, login="ws_agent", groups=f"{groups},base.group_partner_manager"
        )
        cls.other = new_test_user(cls.env, login="ws_other", groups=groups)
        Team = cls.env["helpdesk.ticket.team"]
        cls.team = Team.create(
            {"name": "Brasil", "whatsapp_enabled": True, "user_ids": [(6, 0, cls.sofia.ids)]}
        )
        cls.other_team = Team.create(
            {"name": "Global", "whatsapp_enabled": True, "user_ids": [(6, 0, cls.other.ids)]}
        )
        cls.Workspace = cls.env["whatsapp.workspace"].with_user(cls.sofia)

    def setUp(self):
        super().setUp()
        self.conversation = self.open_window()
        self.conversation.write({"team_id": self.team.id, "user_id": self.sofia.id})

    def test_the_list_by_tab_with_previews_and_unread_counts(self):
        result = self.Workspace.load_conversations("mine")
        card = result["conversations"][0]
        self.assertEqual(card["id"], self.conversation.id)
        self.assertEqual(card["preview"]["body"], "Hi there")
        self.assertEqual(card["unread"], 1)
        self.assertTrue(card["window_open"])
        self.assertEqual(result["unread"]["mine"], 1)
        self.assertFalse(self.Workspace.load_conversations("unassigned")["conversations"])
        self.assertEqual(
            self.Workspace.load_conversations("all", search="Ana")["conversations"][0]["id"],
            self.conversation.id,
        )
        for tab, search, limit in (
            ("../etc", None, -5),
            (None, 42, "x"),
            ("mine", "a" * 10**5, 10**9),
        ):
            self.Workspace.load_conversations(tab, search, limit)
        self.conversation.with_user(self.sofia).action_mark_seen()
        self.assertEqual(self.conversation.unread_count, 0)

    def test_what_only_we_started_is_no_unassigned_work(self):
        """A campaign's or a notification's conversation (only we wrote) waits for the customer:
        not in the Unassigned tab, tile and filter, nor in the backlog report, until they write."""
        Conversation = self.env["whatsapp.conversation"]
        customer = self.make_customer("Bia Campaign", "+5511977770001")
        started = Conversation._get_or_create_many(
            self.account, {customer.whatsapp_e164: customer}
        )[customer.whatsapp_e164]
        started.team_id = self.team
        single = Conversation._get_or_create(self.account, "+5511977770002")
        self.assertEqual((started | single).mapped("inbox_state"), ["waiting", "waiting"])

        arch = etree.fromstring(
            Conversation.get_views([(False, "search")])["views"]["search"]["arch"]
        )
        (unassigned_filter,) = arch.xpath("//filter[@name='unassigned']")
        filter_domain = safe_eval(unassigned_filter.get("domain"), {"uid": self.env.uid})

        def unassigned():
            cards = self.Workspace.load_conversations("unassigned")["conversations"]
            listed = Conversation.search(filter_domain)
            self.env.flush_all()
            backlog = self.env["whatsapp.report.backlog"].search([]).conversation_id
            tiles = self.env["whatsapp.dashboard"]._live(manager=True)
            tile = next(tile["value"] for tile in tiles if tile["key"] == "unassigned")
            return {card["id"] for card in cards}, listed, backlog, tile

        cards, listed, backlog, tile = unassigned()
        self.assertFalse({started.id, single.id} & cards)
        self.assertFalse((started | single) & listed)
        self.assertFalse((started | single) & backlog)
        # the customer answers the campaign: now it is work for the team
        wa_id = customer.whatsapp_e164.lstrip("+")
        self.deliver(self.inbound(wa_id, payloads.text_message(wa_id, "Quero!")))
        self.assertEqual(started.inbox_state, "new")
        cards, listed, backlog, tile_after = unassigned()
        self.assertEqual(tile_after, tile + 1)
        self.assertIn(started.id, cards)
        self.assertIn(started, listed)
        self.assertIn(started, backlog)

    def test_a_thread_pages_back_through_history(self):
        wa_id = self.customer_wa_id
        for index in range(5):
            self.deliver(self.inbound(wa_id, payloads.text_message(wa_id, f"msg {index}")))
        page = self.Workspace.load_thread(self.conversation.id, limit=3)
        self.assertEqual([m["body"] for m in page["messages"]], ["msg 2", "msg 3", "msg 4"])
        self.assertTrue(page["has_more"])
        older = self.Workspace.load_thread(
            self.conversation.id, before_id=page["messages"][0]["id"], limit=3
        )
        self.assertEqual([m["body"] for m in older["messages"]], ["Hi there", "msg 0", "msg 1"])
        self.assertFalse(older["has_more"])

    def test_a_reply_quotes_the_customers_message(self):
        inbound = self.conversation.whatsapp_message_ids
        [bubble] = self.Workspace.send_text(self.conversation.id, "Claro!", reply_to_id=inbound.id)
        self.assertEqual(bubble["state"], "queued")
        self.assertEqual(bubble["quote"]["body"], "Hi there")
        message = self.assertWhatsappOutgoing(self.conversation, body="Claro!")
        self.assertEqual(message.reply_to_wamid, inbound.wamid)
        with self.mock_cloud_api(self.sent_answer("wamid.Q")) as calls:
            self.env["whatsapp.message"]._cron_send()
        self.assertEqual(calls[0][2]["json"]["context"], {"message_id": inbound.wamid})

    def test_hostile_sends(self):
        cid = self.conversation.id
        for bad in ("1", None, True, [cid], 10**12):
            with self.assertRaises(UserError):
                self.Workspace.send_text(bad, "x")
        with self.assertRaises(ValidationError):
            self.Workspace.send_text(cid, "x", reply_to_id="7")
        # a message of another conversation is not quoted
        other = self.open_window(
            self.env["res.partner"].create({"name": "B", "mobile": "+5511911112222"})
        )
        [bubble] = self.Workspace.send_text(cid, "x", reply_to_id=other.whatsapp_message_ids.id)
        self.assertFalse(bubble["quote"])
        with self.assertRaisesRegex(UserError, "needs some text"):
            self.Workspace.send_text(cid, {"body": "x"})
        self.assertEqual(
            len(self.Workspace.send_text(cid, "y" * 10**6)[0]["body"]), 4096, "cut to a page"
        )

    def test_another_teams_conversation_stays_closed(self):
        self.conversation.write({"team_id": self.other_team.id, "user_id": self.other.id})
        with self.assertRaises(AccessError):
            self.Workspace.load_thread(self.conversation.id)
        with self.assertRaises(AccessError):
            self.Workspace.send_text(self.conversation.id, "hi")
        self.assertFalse(self.Workspace.load_conversations("all")["conversations"])

    def test_files_go_as_media_within_metas_limits(self):
        png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 100).decode()
        [bubble] = self.Workspace.send_file(
            self.conversation.id, "photo.png", "image/png", png, "Olha"
        )
        self.assertEqual(bubble["type"], "image")
        self.assertEqual(bubble["attachment"]["name"], "photo.png")
        too_big = base64.b64encode(b"0" * (5 * 1024 * 1024 + 1)).decode()
        with self.assertRaisesRegex(UserError, "5 MB"):
            self.Workspace.send_file(self.conversation.id, "big.png", "image/png", too_big)
        for data in ("not base64!", "", None, 42):
            with self.assertRaises(UserError):
                self.Workspace.send_file(self.conversation.id, "x.pdf", "application/pdf", data)
        [doc] = self.Workspace.send_file(
            self.conversation.id, None, "text/html<script>", base64.b64encode(b"hi").decode()
        )
        self.assertNotIn("html", doc["attachment"]["mimetype"])

    def test_templates_in_the_customers_language_and_sent_as_chosen(self):
        self.env["res.lang"]._activate_lang("pt_BR")
        self.customer.lang = "pt_BR"
        self.Workspace.set_language(self.conversation.id, "pt_BR")
        en = self.approved_template(body="Hello {{1}}!")
        pt = self.approved_template(body="Olá {{1}}!", language="pt_BR")
        (en | pt).variable_ids.write({"field_path": "name", "sample": "Ana"})
        options = self.Workspace.template_options(self.conversation.id)
        self.assertEqual(
            [(o["language"], o["customer_language"]) for o in options],
            [("pt_BR", True), ("en_US", False)],
        )
        self.assertEqual(options[0]["preview"], "Olá Ana Souza!")
        [bubble] = self.Workspace.send_template(self.conversation.id, en.id)
        self.assertEqual(bubble["body"], "Hello Ana Souza!")
        for bad in ("1", None, 10**9):
            with self.assertRaises(UserError):
                self.Workspace.send_template(self.conversation.id, bad)

    def test_quick_replies_are_filled_for_the_customer(self):
        self.env["mail.canned.response"].with_user(self.sofia).create(
            {"source": "thanks", "substitution": "Obrigado, {first_name}! — {agent}"}
        )
        [reply] = self.Workspace.canned_responses(self.conversation.id, "/tha")
        self.assertEqual(reply["text"], f"Obrigado, Ana! — {self.sofia.name}")
        self.assertFalse(self.Workspace.canned_responses(self.conversation.id, "%"))

    def test_the_customer_panel_and_its_edits(self):
        panel = self.Workspace.load_customer(self.conversation.id)
        self.assertEqual(panel["partner"]["name"], "Ana Souza")
        self.assertEqual(panel["phone"], "+5511981234567")
        tag = self.env["res.partner.category"].create({"name": "VIP"})
        panel = self.Workspace.save_customer(
            self.conversation.id, note="Prefers mornings", tag_ids=[tag.id]
        )
        self.assertEqual(self.customer.category_id, tag)
        self.assertIn("Prefers mornings", panel["partner"]["note"])
        for bad in ("1", [True], ["x"], 5):
            with self.assertRaises(ValidationError):
                self.Workspace.save_customer(self.conversation.id, tag_ids=bad)
        self.conversation.partner_id = False
        panel = self.Workspace.set_partner(self.conversation.id, name="Ana Nova")
        self.assertEqual(panel["partner"]["name"], "Ana Nova")
        with self.assertRaises(UserError):
            self.Workspace.set_partner(self.conversation.id, name="  ")
        with self.assertRaises(ValidationError):
            self.Workspace.set_partner(self.conversation.id, partner_id="3")

    def test_another_companys_records_and_a_user_without_the_group(self):
        company_b, _account_b = self.make_company_account("Company B")
        partner_b = self.env["res.partner"].create({"name": "B's", "company_id": company_b.id})
        tag = self.env["res.partner.category"].create({"name": "VIP"})  # tags are shared
        with self.assertRaises(AccessError):
            self.Workspace.set_partner(self.conversation.id, partner_id=partner_b.id)
        self.assertEqual(self.conversation.partner_id, self.customer)
        self.Workspace.save_customer(self.conversation.id, tag_ids=[tag.id, 10**9])
        self.assertEqual(self.customer.category_id, tag, "an id that is gone is left out")
        outsider = new_test_user(self.env, login="ws_outsider", groups="base.group_user")
        Outside = self.env["whatsapp.workspace"].with_user(outsider)
        for call in (
            lambda: Outside.load_conversations("all"),
            lambda: Outside.load_thread(self.conversation.id),
            lambda: Outside.send_text(self.conversation.id, "hi"),
            lambda: Outside.set_language(self.conversation.id, "pt_BR"),
        ):
            with self.assertRaises(AccessError):
                call()

    def test_chatter_messages_carry_their_whatsapp_state(self):
        message = self.conversation._send_text("Olá")
        message.sudo().write({"state": "failed", "failure_reason": "Not on WhatsApp"})
        store = Store()
        message.mail_message_id.with_user(self.sofia)._to_store(store)
        [data] = [
            m for m in store.get_result()["mail.message"] if m["id"] == message.mail_message_id.id
        ]
        self.assertEqual(data["whatsapp_state"], "failed")
        self.assertEqual(data["whatsapp_failure"], "Not on WhatsApp")

    def test_a_batch_reaches_each_conversations_watchers(self):
        """The live notice of a batch of queued messages (a campaign's, read by one query) goes
        to the watchers of each message's conversation as _watchers_each tells them: its
        assignee and team, or every WhatsApp user of its company when no team holds it."""
        company, account = self.make_company_account()
        outsider = new_test_user(
            self.env,
            login="ws_outsider",
            groups="base.group_user,whatsapp_helpdesk.group_whatsapp_user",
            company_id=company.id,
            company_ids=[(6, 0, company.ids)],
        )
        bruno = self.make_customer("Bruno Lima", "+55 11 98123-0001")
        carla = self.make_customer("Carla Dias", "+55 11 98123-0002")
        unassigned = self.account._get_conversation(bruno)
        elsewhere = account._get_conversation(carla)
        assigned_only = self.account._get_conversation(carla)
        (unassigned | elsewhere | assigned_only).team_id = False
        assigned_only.user_id = self.other
        conversations = self.conversation | unassigned | elsewhere | assigned_only
        self.env.cr.precommit.run()
        self.env["bus.bus"].search([]).unlink()
        messages = (
            self.env["whatsapp.message"]
            .sudo()
            ._insert_outbound(
                [
                    {"conversation_id": c.id, "message_type": "text", "body": f"m{c.id}"}
                    for c in conversations
                ]
            )
        )
        self.env.cr.precommit.run()
        received = {}
        notices = self.env["bus.bus"].search([("message", "like", "whatsapp_helpdesk/messages")])
        for notice in notices:
            payload = json.loads(notice.message)["payload"]
            partner_id = json.loads(notice.channel)[2]
            self.assertNotIn(partner_id, received, "one notice per watcher")
            received[partner_id] = [m["id"] for m in payload["messages"]]
        expected = defaultdict(list)
        for message in messages:
            for user in message.conversation_id._watchers_each()[message.conversation_id]:
                expected[user.partner_id.id].append(message.id)
        self.assertEqual(received, dict(expected))
        first, no_team, other_company, assigned = messages.ids
        self.assertEqual(received[outsider.partner_id.id], [other_company])
        self.assertEqual(received[self.sofia.partner_id.id], [first, no_team, assigned])
        self.assertEqual(received[self.other.partner_id.id], [no_team, assigned])

    def test_ticks_reach_the_watchers_in_one_notice_per_batch(self):
        messages = self.env["whatsapp.message"]
        for index in range(3):
            messages |= self.conversation._send_text(f"m{index}")
        with self.mock_cloud_api(*[self.sent_answer(f"wamid.B{i}") for i in range(3)]):
            self.env["whatsapp.message"]._cron_send()
        self.env.cr.precommit.run()
        self.env["bus.bus"].search([]).unlink()
        self.deliver(
            self.statuses(
                *[
                    payloads.status(f"wamid.B{i}", "delivered", self.customer_wa_id)
                    for i in range(3)
                ]
            )
        )
        self.env.cr.precommit.run()
        notices = self.env["bus.bus"].search([("message", "like", "whatsapp_helpdesk/messages")])
        self.assertEqual(len(notices), 1, "one watcher, one notice for the batch")
        self.assertIn('"delivered"', notices.message)
        self.assertEqual(set(messages.mapped("state")), {"delivered"})

    def test_templates_show_their_price_before_sending(self):
        self.approved_template("offer", body="Offer", category="MARKETING")
        self.approved_template("news", body="News", category="UTILITY")
        prices = {
            option["name"]: option["price"]
            for option in self.Workspace.template_options(self.conversation.id)
        }
        self.assertIn("marketing message to Brazil", prices["offer"])
        # a utility template inside the customer-service window costs nothing
        self.assertIn("Free", prices["news"])

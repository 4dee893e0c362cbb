"""Click-to-chat entry points: the tag of the first message records where the customer came
from (website, page, product, campaign, QR code); buttons follow the opening hours."""

import base64
from datetime import datetime
from unittest.mock import patch
from urllib.parse import parse_qs, urlsplit

from freezegun import freeze_time
from odoo.addons.whatsapp_helpdesk.tests.common import WhatsappCase
from odoo.addons.whatsapp_helpdesk.tools import click_to_chat, payloads
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import TransactionCase, tagged


class EntryCase(WhatsappCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.website = cls.env["website"].create({"name": "Shop", "company_id": cls.env.company.id})
        cls.website.whatsapp_account_id = cls.account
        cls.product = cls.env["product.template"].create(
            {"name": "Office Chair", "default_code": "CHAIR-1", "is_published": True}
        )

    def say(self, text, wa_id=None):
        wa_id = wa_id or self.customer_wa_id
        self.deliver(self.inbound(wa_id, payloads.text_message(wa_id, text)))
        return self.env["whatsapp.conversation"].search([("wa_id", "=", wa_id)])


@tagged("post_install", "-at_install")
class TestEntryRecorded(EntryCase, TransactionCase):
    def test_the_product_button_link_records_website_product_and_reference(self):
        values = self.website._whatsapp_button_values(self.product)
        self.assertTrue(values["link"].startswith("https://wa.me/15550009999?text="))
        text = click_to_chat_text(values["link"])
        self.assertIn("[CHAIR-1] Office Chair", text)
        conversation = self.say(text)
        self.assertRecordValues(
            conversation,
            [
                {
                    "entry_website_id": self.website.id,
                    "entry_product_id": self.product.id,
                    "source": "website",
                }
            ],
        )
        self.assertTrue(conversation.entry_at)
        self.assertEqual(self.product.whatsapp_conversation_count, 1)
        action = self.product.action_open_whatsapp_conversations()
        self.assertEqual(action["domain"], [("entry_product_id", "=", self.product.id)])

    def test_only_the_first_tagged_message_counts(self):
        first = click_to_chat.prefilled_text("Hi", {"w": self.website.id, "c": "summer"})
        conversation = self.say(first)
        self.say(click_to_chat.prefilled_text("Again", {"w": self.website.id, "c": "winter"}))
        self.assertEqual(conversation.entry_campaign, "summer")

    def test_the_tag_is_read_once_for_the_intake_and_the_website(self):
        text = click_to_chat.prefilled_text("Hi", {"w": self.website.id, "c": "summer"})
        parse = click_to_chat.parse_source
        with patch.object(click_to_chat, "parse_source", side_effect=parse) as parsed:
            conversation = self.say(text)
        self.assertEqual(parsed.call_count, 1)
        self.assertRecordValues(
            conversation,
            [
                {
                    "source": "website",
                    "entry_website_id": self.website.id,
                    "entry_campaign": "summer",
                }
            ],
        )

    def test_a_message_without_tag_records_nothing(self):
        conversation = self.say("Hello, [ref is a word here]")
        self.assertFalse(conversation.entry_at)
        self.assertFalse(conversation.source)

    def test_an_entry_point_gives_its_campaign_and_team(self):
        team = self.env["helpdesk.ticket.team"].create(
            {"name": "Shop window", "whatsapp_enabled": True}
        )
        entry = self.env["whatsapp.entry.point"].create(
            {
                "name": "Shop window Rio",
                "account_id": self.account.id,
                "team_id": team.id,
                "utm_campaign": "rio-window",
                "prefill": "Olá!",
            }
        )
        self.assertIn(f"e{entry.id}", click_to_chat_text(entry.link))
        png = base64.b64decode(entry.qr_code)
        self.assertTrue(png.startswith(b"\x89PNG"))
        conversation = self.say(click_to_chat_text(entry.link))
        self.assertRecordValues(
            conversation,
            [
                {
                    "entry_point_id": entry.id,
                    "entry_campaign": "rio-window",
                    "team_id": team.id,
                    "source": "link",
                }
            ],
        )
        self.assertEqual(entry.conversation_count, 1)
        html, _kind = self.env["ir.actions.report"]._render_qweb_html(
            "whatsapp_helpdesk_website.action_report_whatsapp_entry_point", entry.ids
        )
        self.assertIn(b"data:image/png;base64", html)

    def test_ids_of_another_company_in_a_typed_tag_are_dropped(self):
        company, account = self.make_company_account()
        other_site = self.env["website"].create({"name": "Other", "company_id": company.id})
        other_product = self.env["product.template"].create(
            {"name": "Secret", "company_id": company.id}
        )
        other_entry = self.env["whatsapp.entry.point"].create(
            {"name": "Theirs", "account_id": account.id, "company_id": company.id}
        )
        text = click_to_chat.prefilled_text(
            "hi", {"w": other_site.id, "p": other_product.id, "e": other_entry.id, "c": "x"}
        )
        conversation = self.say(text)
        self.assertRecordValues(
            conversation,
            [
                {
                    "entry_website_id": False,
                    "entry_product_id": False,
                    "entry_point_id": False,
                    "entry_campaign": "x",
                }
            ],
        )
        huge = self.say("[ref w99999999 p2147483647 e-1 pg=" + "a" * 5000 + "]", "5511900000001")
        self.assertFalse(huge.entry_website_id or huge.entry_product_id)
        self.assertLessEqual(len(huge.entry_page or ""), click_to_chat.MAX_SLUG)

    def test_users_cannot_write_where_a_customer_came_from(self):
        conversation = self.say("hi")
        for field, value in (("entry_campaign", "fake"), ("entry_product_id", self.product.id)):
            with self.assertRaises(AccessError):
                conversation.with_user(self.wa_user).write({field: value})

    def test_a_website_cannot_use_another_companys_number(self):
        _company, account = self.make_company_account()
        with self.assertRaises(ValidationError):
            self.website.whatsapp_account_id = account

    def test_settings_set_the_websites_button(self):
        self.env["res.config.settings"].create(
            {
                "website_id": self.website.id,
                "website_whatsapp_prefill": "Oi! Uma pergunta",
                "website_whatsapp_button": False,
            }
        ).execute()
        self.assertRecordValues(
            self.website, [{"whatsapp_prefill": "Oi! Uma pergunta", "whatsapp_button": False}]
        )


@tagged("post_install", "-at_install")
class TestOpeningHours(EntryCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        calendar = cls.env["resource.calendar"].create(
            {
                "name": "Shop hours",
                "tz": "America/Sao_Paulo",
                "attendance_ids": [
                    (
                        0,
                        0,
                        {"name": f"d{day}", "dayofweek": str(day), "hour_from": 9, "hour_to": 18},
                    )
                    for day in range(5)
                ],
            }
        )
        cls.team = cls.env["helpdesk.ticket.team"].create(
            {"name": "Shop", "whatsapp_calendar_id": calendar.id}
        )
        cls.website.whatsapp_team_id = cls.team

    def test_inside_hours_the_button_has_no_notice(self):
        with freeze_time(datetime(2026, 12, 1, 15, 0)):  # Tuesday 12:00 in Sao Paulo
            values = self.website._whatsapp_button_values()
        self.assertFalse(values["notice"])

    def test_before_opening_it_says_when_we_answer(self):
        with freeze_time(datetime(2026, 12, 1, 10, 0)):  # Tuesday 07:00 in Sao Paulo
            values = self.website._whatsapp_button_values()
        self.assertEqual(values["notice"], "We answer from 9:00")

    def test_on_friday_evening_it_names_monday(self):
        with freeze_time(datetime(2026, 12, 4, 23, 0)):  # Friday 20:00 in Sao Paulo
            values = self.website._whatsapp_button_values()
        self.assertEqual(values["notice"], "We answer from Monday 9:00")

    def test_hidden_outside_hours_when_asked(self):
        self.website.whatsapp_outside_hours = "hide"
        with freeze_time(datetime(2026, 12, 1, 10, 0)):
            self.assertIsNone(self.website._whatsapp_button_values())
            self.assertIsNone(self.website._whatsapp_button_values(self.product))

    def test_no_number_no_button(self):
        self.website.whatsapp_account_id = False
        self.assertIsNone(self.website._whatsapp_button_values())


def click_to_chat_text(link):
    """The prefilled text of a wa.me link."""
    return parse_qs(urlsplit(link).query)["text"][0]

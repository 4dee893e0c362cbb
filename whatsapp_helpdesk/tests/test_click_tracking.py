from odoo.exceptions import ValidationError
from odoo.tests import HttpCase, tagged

from ..tools import template_payloads
from .common import TemplateCase

TARGET = "https://shop.example/offers"


@tagged("post_install", "-at_install")
class TestClickTracking(TemplateCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.template = cls.tracked_template(target=TARGET)
        cls.bruno = cls.make_customer("Bruno Lima", "+55 21 99876-5432")
        cls.opt_in(cls.customer | cls.bruno)

    def launch(self, partners):
        campaign = self.make_campaign(partners, self.template, frequency_cap_hours=0)
        campaign.action_launch()
        self.env["whatsapp.campaign"]._cron_release()
        return campaign

    def message_of(self, campaign, partner):
        return campaign.whatsapp_message_ids.filtered(lambda m: m.partner_id == partner)

    def click(self, token):
        return self.url_open(f"/whatsapp/click/{token}", allow_redirects=False)

    def test_tracked_button_sends_each_message_its_token(self):
        button = self.template.button_ids
        self.assertEqual(button.url, f"{button.get_base_url()}/whatsapp/click/{{{{1}}}}")
        self.assertEqual(self.template.variable_ids.location_key, "button_0")
        campaign = self.launch(self.customer | self.bruno)
        messages = campaign.whatsapp_message_ids
        self.assertEqual(len(messages), 2)
        for message in messages:
            self.assertEqual(message.template_values["button_0"]["1"], message.uuid)
            components = template_payloads.send_components(
                self.template._to_spec(), message.template_values
            )
            url = next(c for c in components if c.get("sub_type") == "url")
            self.assertEqual(url["parameters"], [{"type": "text", "text": message.uuid}])
        # the one-message path carries its token too
        single = self.account._get_conversation(self.customer)._send_template(self.template)
        self.assertEqual(single.template_values["button_0"]["1"], single.uuid)

    def test_click_recorded_once_and_forwarded_to_the_button_target(self):
        campaign = self.launch(self.customer | self.bruno)
        message = self.message_of(campaign, self.customer)
        response = self.click(message.uuid)
        self.assertEqual(response.status_code, 303)
        self.assertEqual(response.headers["Location"], TARGET)
        first = message.clicked_at
        self.assertTrue(first)
        # clicked again, or with a target of its own in the query: same place, counted once
        response = self.url_open(
            f"/whatsapp/click/{message.uuid}?redirect=https://evil.example&url=//evil.example",
            allow_redirects=False,
        )
        self.assertEqual(response.headers["Location"], TARGET)
        message.invalidate_recordset()
        self.assertEqual(message.clicked_at, first)
        self.assertEqual(campaign.clicked_count, 1)
        self.assertFalse(self.message_of(campaign, self.bruno).clicked_at)

    def test_hostile_tokens_are_not_found_and_record_nothing(self):
        campaign = self.launch(self.customer)
        plain = self.approved_template("plain_news", body="News", category="MARKETING")
        untracked = self.account._get_conversation(self.bruno)._send_template(plain)
        for token in (
            "0" * 32,  # unknown
            "a" * 5000,  # too long
            "0123456789ABCDEF0123456789ABCDEF",  # not our alphabet
            "%27%20OR%201%3D1--",
            "..%2F..%2Fweb",
            untracked.uuid,  # a message without a tracked button
        ):
            self.assertEqual(self.click(token).status_code, 404, token[:40])
        # no token at all: never the target (the router may redirect the bare path)
        self.assertNotIn(TARGET, self.click("").headers.get("Location", ""))
        self.assertFalse(campaign.whatsapp_message_ids.clicked_at)
        self.assertFalse(untracked.clicked_at)
        self.assertEqual(campaign.clicked_count, 0)

    def test_another_campaigns_token_counts_for_its_own_campaign(self):
        first = self.launch(self.customer)
        second = self.launch(self.customer | self.bruno)
        self.assertEqual(self.click(self.message_of(first, self.customer).uuid).status_code, 303)
        first.invalidate_recordset()
        second.invalidate_recordset()
        self.assertEqual((first.clicked_count, second.clicked_count), (1, 0))

    def test_click_target_must_be_a_web_address_of_a_url_button(self):
        button = self.template.button_ids
        for bad in ("javascript:alert(1)", "//evil.example", "https://a b", "x" * 3000):
            with self.assertRaises(ValidationError), self.env.cr.savepoint():
                button.click_target_url = bad
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            self.approved_template(
                "quick",
                button_ids=[
                    (0, 0, {"button_type": "QUICK_REPLY", "text": "Hi", "click_target_url": TARGET})
                ],
            )

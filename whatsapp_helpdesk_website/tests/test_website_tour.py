"""A visitor's click builds the right link; the first message with its text gets the source."""

import re
from html import unescape

from odoo.addons.whatsapp_helpdesk.tests.common import WhatsappCase
from odoo.addons.whatsapp_helpdesk.tools import payloads
from odoo.tests import HttpCase, tagged

from .test_entry_points import click_to_chat_text

BLOCK = """<t t-call="website.layout"><div id="wrap">
<section class="s_whatsapp_chat pt32 pb32" data-snippet="s_whatsapp_chat"><div class="container">
<a class="o_whatsapp_helpdesk_link o_whatsapp_helpdesk_block btn btn-success" href="#"
   target="_blank" rel="noopener">Chat on WhatsApp</a></div></section></div></t>"""


@tagged("post_install", "-at_install")
class TestWebsiteTour(WhatsappCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.website = cls.env["website"].get_current_website()
        cls.website.write({"whatsapp_account_id": cls.account.id, "whatsapp_team_id": False})
        cls.product = cls.env["product.template"].create(
            {"name": "Tour Chair", "default_code": "TOUR-1", "is_published": True, "sale_ok": True}
        )
        cls.env["website.page"].create(
            {
                "name": "WhatsApp test",
                "url": "/whatsapp-test",
                "type": "qweb",
                "arch": BLOCK,
                "key": "whatsapp_helpdesk_website.whatsapp_test_page",
                "website_id": cls.website.id,
                "is_published": True,
            }
        )

    def page_link(self, url):
        """The link the server gives a page (the one the building block takes on click)."""
        html = self.url_open(url).text
        match = re.search(r'id="o_whatsapp_helpdesk_button"[^>]*data-link="([^"]+)"', html)
        self.assertTrue(match, "the page carries its WhatsApp link")
        return unescape(match.group(1))

    def test_the_block_on_a_page_of_a_campaign(self):
        self.start_tour("/whatsapp-test?utm_campaign=summer", "whatsapp_helpdesk_website_block")
        text = click_to_chat_text(self.page_link("/whatsapp-test?utm_campaign=summer"))
        wa_id = self.customer_wa_id
        self.deliver(self.inbound(wa_id, payloads.text_message(wa_id, text)))
        conversation = self.env["whatsapp.conversation"].search([("wa_id", "=", wa_id)])
        self.assertRecordValues(
            conversation,
            [
                {
                    "entry_website_id": self.website.id,
                    "entry_page": "/whatsapp-test",
                    "entry_campaign": "summer",
                    "source": "website",
                }
            ],
        )

    def test_ask_about_this_product(self):
        url = f"{self.product.website_url}?utm_source=instagram"
        self.start_tour(url, "whatsapp_helpdesk_website_product")
        html = self.url_open(url).text
        match = re.search(r'o_whatsapp_helpdesk_product[^>]*href="([^"]+)"', html)
        text = click_to_chat_text(unescape(match.group(1)))
        self.assertIn("[TOUR-1] Tour Chair", text)
        wa_id = self.customer_wa_id
        self.deliver(self.inbound(wa_id, payloads.text_message(wa_id, text)))
        conversation = self.env["whatsapp.conversation"].search([("wa_id", "=", wa_id)])
        self.assertRecordValues(
            conversation,
            [{"entry_product_id": self.product.id, "entry_source": "instagram"}],
        )

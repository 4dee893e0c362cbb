from odoo.tests import TransactionCase, tagged

from .common import WhatsappCase


@tagged("post_install", "-at_install")
class TestPartnerNumber(WhatsappCase, TransactionCase):
    def test_e164_uses_partner_country(self):
        partner = self.env["res.partner"].create(
            {"name": "Rahul", "mobile": "098200 12345", "country_id": self.env.ref("base.in").id}
        )
        self.assertEqual(partner.whatsapp_e164, "+919820012345")

    def test_e164_falls_back_to_company_country(self):
        self.env.company.country_id = self.env.ref("base.mx")
        partner = self.env["res.partner"].create({"name": "Lucía", "mobile": "55 1234 5678"})
        self.assertEqual(partner.whatsapp_e164, "+525512345678")

    def test_e164_prefers_mobile_then_phone(self):
        partner = self.env["res.partner"].create(
            {"name": "Budi", "phone": "+62 812 3456 7890", "country_id": self.env.ref("base.id").id}
        )
        self.assertEqual(partner.whatsapp_e164, "+6281234567890")
        partner.mobile = "+62 813 1111 2222"
        self.assertEqual(partner.whatsapp_e164, "+6281311112222")

    def test_invalid_number_gives_no_whatsapp_number(self):
        partner = self.env["res.partner"].create({"name": "Nobody", "mobile": "12"})
        self.assertFalse(partner.whatsapp_e164)

    def test_e164_is_searchable(self):
        found = self.env["res.partner"].search([("whatsapp_e164", "=", "+5511981234567")])
        self.assertEqual(found, self.customer)

    def test_compose_action_opens_wizard(self):
        action = self.customer.action_whatsapp_compose()
        self.assertEqual(action["res_model"], "whatsapp.composer")
        self.assertEqual(action["context"]["default_partner_id"], self.customer.id)

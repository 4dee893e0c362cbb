from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger
from psycopg2 import IntegrityError

from .common import TemplateCase


@tagged("post_install", "-at_install")
class TestSegments(TemplateCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Tag = cls.env["res.partner.category"]
        cls.vip, cls.member, cls.churned = Tag.create(
            [{"name": "VIP"}, {"name": "Member"}, {"name": "Churned"}]
        )
        cls.bruno = cls.make_customer("Bruno Lima", "+55 21 99876-5432")
        cls.carla = cls.make_customer("Carla Díaz", "+52 55 1234 5678", "base.mx", lang="es_MX")
        cls.nonum = cls.env["res.partner"].create({"name": "No Number"})
        cls.customer.category_id = cls.vip | cls.member
        cls.bruno.category_id = cls.vip
        cls.carla.category_id = cls.member | cls.churned
        cls.nonum.category_id = cls.vip
        cls.everyone = cls.customer | cls.bruno | cls.carla | cls.nonum

    def members(self, segment, among=None):
        among = among or self.everyone
        found = self.env["res.partner"].search(
            [("whatsapp_segment_id", "=", segment.id), ("id", "in", among.ids)]
        )
        self.assertEqual(segment.partner_count >= len(found), True)
        return found

    def segment(self, **values):
        return self.env["whatsapp.segment"].create({"name": "Test", **values})

    def test_form_builds_a_segment_with_live_count_and_preview(self):
        form = Form(self.env["whatsapp.segment"].with_user(self.manager))
        form.name = "VIP Brazil"
        form.tag_any_ids.add(self.vip)
        before = form.partner_count
        form.country_ids.add(self.env.ref("base.br"))
        self.assertLessEqual(form.partner_count, before)
        self.assertIn("Ana Souza", form.preview)
        segment = form.save()
        self.assertEqual(self.members(segment), self.customer | self.bruno)
        inside, outside = segment._preview_partners(limit=200)
        self.assertIn(self.customer, inside)
        reasons = {partner.id: why for partner, why in outside}
        self.assertIn("has none of the tags", reasons[self.carla.id])
        self.assertIn("another country", " ".join(reasons[self.carla.id]))

    def test_tag_rules(self):
        self.assertEqual(
            self.members(self.segment(tag_all_ids=[(6, 0, (self.vip | self.member).ids)])),
            self.customer,
        )
        self.assertEqual(
            self.members(self.segment(tag_any_ids=[(6, 0, self.churned.ids)])), self.carla
        )
        self.assertEqual(
            self.members(self.segment(tag_none_ids=[(6, 0, self.churned.ids)])),
            self.customer | self.bruno,
        )
        self.assertEqual(
            self.members(self.segment(require_whatsapp=False, tag_any_ids=[(6, 0, self.vip.ids)])),
            self.customer | self.bruno | self.nonum,
        )

    def test_country_language_and_company(self):
        self.env["res.lang"]._activate_lang("es_MX")
        self.assertEqual(
            self.members(self.segment(country_ids=[(6, 0, self.env.ref("base.mx").ids)])),
            self.carla,
        )
        self.assertEqual(
            self.members(self.segment(lang_ids=[(6, 0, self.env.ref("base.lang_es_MX").ids)])),
            self.carla,
        )
        other = self.env["res.company"].create({"name": "Other"})
        self.bruno.company_id = other
        self.assertNotIn(self.bruno, self.members(self.segment()))
        self.assertIn(self.bruno, self.members(self.segment(only_company_contacts=False)))

    def test_optin_rules(self):
        self.opt_in(self.customer)
        self.opt_in(self.bruno, state="opted_out")
        self.opt_in(self.carla, category="utility")
        self.assertEqual(self.members(self.segment(marketing_optin="opted_in")), self.customer)
        self.assertEqual(
            self.members(self.segment(marketing_optin="not_opted_out")),
            self.customer | self.carla,
        )
        self.assertEqual(self.members(self.segment(utility_optin="opted_in")), self.carla)
        # another company's consent does not count here
        company, _account = self.make_company_account()
        self.env["whatsapp.optin"]._record(
            self.bruno.whatsapp_e164, "opted_in", categories=["marketing"], company=company
        )
        self.assertNotIn(self.bruno, self.members(self.segment(marketing_optin="opted_in")))

    def test_stored_consent_follows_optins_numbers_and_stop(self):
        """The consent segments read on the partner follows the opt-ins of its number: given,
        withdrawn (a STOP, which also blacklists), deleted, another company's; and the number
        changing; the opt-in rule counts by it."""
        company = self.account.company_id
        marketing_in = self.segment(marketing_optin="opted_in", only_company_contacts=False)
        not_out = self.segment(marketing_optin="not_opted_out", only_company_contacts=False)
        self.assertFalse(self.bruno.whatsapp_consent)
        self.opt_in(self.bruno)
        self.assertEqual(self.bruno.whatsapp_consent, f",{company.id}:marketing:in,")
        self.assertIn(self.bruno, self.members(marketing_in))
        # a twin contact with the same number shares the number's consent
        twin = self.make_customer("Bruno (work)", "+55 21 99876-5432")
        self.assertEqual(twin.whatsapp_consent, self.bruno.whatsapp_consent)
        # STOP from the customer: opted out of everything, blacklisted
        self.env["whatsapp.optin"]._record(self.bruno.whatsapp_e164, "opted_out", source="keyword")
        self.assertTrue(
            self.env["phone.blacklist"].sudo().search([("number", "=", self.bruno.whatsapp_e164)])
        )
        self.assertEqual(
            self.bruno.whatsapp_consent,
            f",{company.id}:marketing:out,{company.id}:utility:out,",
        )
        self.assertNotIn(self.bruno, self.members(marketing_in))
        self.assertNotIn(self.bruno, self.members(not_out))
        self.assertNotIn(twin, self.members(not_out, twin))
        # another company's opt-in is another mark: this company's rule still says out
        other, _account = self.make_company_account()
        self.env["whatsapp.optin"]._record(
            self.bruno.whatsapp_e164, "opted_in", categories=["marketing"], company=other
        )
        self.assertIn(f",{other.id}:marketing:in,", self.bruno.whatsapp_consent)
        self.assertNotIn(self.bruno, self.members(marketing_in))
        # the number changes: the new number's consent (none), then back
        self.bruno.mobile = "+55 21 99876-0000"
        self.assertFalse(self.bruno.whatsapp_consent)
        self.assertIn(self.bruno, self.members(not_out))
        self.bruno.mobile = "+55 21 99876-5432"
        self.assertIn(f",{company.id}:marketing:out,", self.bruno.whatsapp_consent)
        # the opt-ins deleted: no mark left
        self.env["whatsapp.optin"].sudo().search(
            [("phone_e164", "=", self.bruno.whatsapp_e164)]
        ).unlink()
        self.assertFalse(self.bruno.whatsapp_consent)
        self.assertFalse(twin.whatsapp_consent)
        self.assertIn(self.bruno, self.members(not_out))
        # the set-wise refresh (after an import by SQL) finds the same
        self.opt_in(self.carla)
        expected = self.carla.whatsapp_consent
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_partner SET whatsapp_consent = NULL WHERE id = %s", [self.carla.id]
        )
        self.env.cr.execute(
            "UPDATE res_partner SET whatsapp_consent = ',1:utility:in,' WHERE id = %s",
            [self.bruno.id],
        )
        self.env["whatsapp.optin"]._refresh_consent()
        self.assertEqual(self.carla.whatsapp_consent, expected)
        self.assertFalse(self.bruno.whatsapp_consent)

    def test_consent_is_kept_by_the_system(self):
        """Nobody writes the stored consent (an RPC write would put a customer in a segment)."""
        for values in ({"whatsapp_consent": ",1:marketing:in,"}, {"whatsapp_consent": False}):
            with self.assertRaises(AccessError):
                self.bruno.with_user(self.manager).write(values)
            with self.assertRaises(AccessError):
                self.env["res.partner"].with_user(self.manager).create({"name": "X", **values})
        self.assertFalse(self.bruno.whatsapp_consent)

    def test_recent_inbound_and_orders(self):
        self.open_window()
        conversation = self.env["whatsapp.conversation"].search(
            [("phone_e164", "=", self.customer.whatsapp_e164)]
        )
        self.assertEqual(self.members(self.segment(inbound_days=7)), self.customer)
        conversation.sudo().last_inbound_at = fields.Datetime.now() - timedelta(days=10)
        self.assertFalse(self.members(self.segment(inbound_days=7)))
        # the order of setUpClass: one confirmed order of 1,234.56 on 2026-03-01
        self.assertEqual(self.members(self.segment(order_min_count=1)), self.customer)
        self.assertFalse(self.members(self.segment(order_min_count=2)))
        self.assertEqual(self.members(self.segment(order_min_amount=1000)), self.customer)
        self.assertFalse(self.members(self.segment(order_min_amount=5000)))
        self.order.date_order = fields.Datetime.now() - timedelta(days=400)
        self.assertFalse(self.members(self.segment(order_min_count=1, order_days=365)))

    def test_combination_and_extra_domain(self):
        self.opt_in(self.customer | self.bruno)
        segment = self.segment(
            tag_any_ids=[(6, 0, self.vip.ids)],
            marketing_optin="opted_in",
            extra_domain="[('name', 'ilike', 'bruno')]",
        )
        self.assertEqual(self.members(segment), self.bruno)
        _inside, outside = segment._preview_partners(limit=500)
        reasons = {partner.id: why for partner, why in outside}
        self.assertEqual(reasons[self.customer.id], ["extra filter"])

    def test_hostile_extra_domain_and_values(self):
        for bad in (
            "__import__('os').system('true')",
            "[('nope', '=', 1)]",
            "{'a': 1}",
            "[('name', 'ilike')]",
            "['|', ('name', '=', 'x')]",
            "[" * 5000,
            "x" * 5000,
        ):
            with self.assertRaises(ValidationError, msg=bad):
                self.segment(extra_domain=bad)
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            with self.env.cr.savepoint():
                self.segment(inbound_days=10**9)
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            with self.env.cr.savepoint():
                self.segment(order_min_amount=float("nan"))
        with self.assertRaises(UserError):
            self.env["res.partner"].search([("whatsapp_segment_id", "=", "1 OR 1=1")])
        self.assertFalse(self.env["res.partner"].search([("whatsapp_segment_id", "=", 10**9)]))

    def test_rights_and_companies(self):
        agent_form = self.env["whatsapp.segment"].with_user(self.wa_user)
        with self.assertRaises(AccessError):
            agent_form.create({"name": "Not mine"})
        company, _account = self.make_company_account()
        foreign = self.env["whatsapp.segment"].create({"name": "Foreign", "company_id": company.id})
        outsider = new_test_user(
            self.env,
            login="wa_seg_outsider",
            groups="base.group_user,whatsapp_helpdesk.group_whatsapp_manager",
        )
        with self.assertRaises(AccessError):
            foreign.with_user(outsider).read(["partner_count"])
        with self.assertRaises(AccessError):
            self.env["res.partner"].with_user(outsider).search(
                [("whatsapp_segment_id", "=", foreign.id)]
            )

from datetime import timedelta
from itertools import product
from unittest.mock import patch

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger
from psycopg2 import IntegrityError

from ..tools import audience
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

    def assertTagsInStep(self, partners):
        """Each partner's stored tags are those of the tags' rel table (archived tags too)."""
        self.env.flush_all()
        for partner in partners:
            self.env.cr.execute(
                "SELECT category_id FROM res_partner_res_partner_category_rel"
                " WHERE partner_id = %s",
                [partner.id],
            )
            expected = audience.tags_text(row[0] for row in self.env.cr.fetchall()) or False
            self.assertEqual(partner.whatsapp_tags, expected, partner.name)

    def test_stored_tags_follow_every_way_tags_change(self):
        """The tags segments read on the partner follow the tags whichever side changes them:
        the contact, the tag, a tag deleted or archived, a merge of contacts, SQL."""
        Partner, Tag = self.env["res.partner"], self.env["res.partner.category"]
        self.assertEqual(
            self.customer.whatsapp_tags, audience.tags_text((self.vip | self.member).ids)
        )
        self.assertFalse(Partner.create({"name": "Untagged"}).whatsapp_tags)
        dora = Partner.create({"name": "Dora", "category_id": [Command.set(self.churned.ids)]})
        self.assertTagsInStep(dora | self.everyone)
        # from the contact
        dora.category_id = [Command.link(self.vip.id), Command.unlink(self.churned.id)]
        self.assertEqual(dora.whatsapp_tags, audience.tags_text(self.vip.ids))
        dora.write({"category_id": [Command.clear()]})
        self.assertFalse(dora.whatsapp_tags)
        # from the tag
        self.member.partner_ids = [Command.link(dora.id), Command.unlink(self.carla.id)]
        self.churned.write({"partner_ids": [Command.set(dora.ids)]})
        self.assertTagsInStep(dora | self.everyone)
        churned = self.segment(tag_all_ids=[(6, 0, self.churned.ids)], require_whatsapp=False)
        self.assertEqual(self.members(churned, dora | self.carla), dora)
        # an archived tag stays on the contact, as in the rel table; a deleted one goes
        self.churned.active = False
        self.assertIn(audience.tag_token(self.churned.id), dora.whatsapp_tags)
        self.member.unlink()
        self.assertTagsInStep(dora | self.everyone)
        self.assertFalse(Tag.search([("name", "=", "Member")]))
        # a merge moves the merged contacts' tags to the kept one by SQL
        extra = Tag.create({"name": "Merged"})
        twin = Partner.create({"name": "Bruno twin", "category_id": [Command.set(extra.ids)]})
        self.env["base.partner.merge.automatic.wizard"]._merge((self.bruno | twin).ids, self.bruno)
        self.assertEqual(self.bruno.whatsapp_tags, audience.tags_text((self.vip | extra).ids))
        self.assertIn(self.bruno, self.members(self.segment(tag_any_ids=[(6, 0, extra.ids)])))
        # by SQL (an import): the set-wise refresh puts them back in step
        self.env.cr.execute(
            "INSERT INTO res_partner_res_partner_category_rel (partner_id, category_id)"
            " VALUES (%s, %s)",
            [self.carla.id, self.vip.id],
        )
        self.env.cr.execute(
            "UPDATE res_partner SET whatsapp_tags = ',1,' WHERE id = %s", [self.nonum.id]
        )
        self.env.cr.execute(
            "DELETE FROM res_partner_res_partner_category_rel WHERE partner_id = %s",
            [self.nonum.id],
        )
        # only the partners asked, then every one
        self.assertEqual(Partner._whatsapp_refresh_tags([self.carla.id]), 1)
        self.assertTagsInStep(self.carla)
        self.assertEqual(self.nonum.whatsapp_tags, ",1,")
        self.assertEqual(Partner._whatsapp_refresh_tags([]), 0)
        self.assertEqual(Partner._whatsapp_refresh_tags(), 1)
        self.assertTagsInStep(dora | self.everyone)
        self.assertEqual(Partner._whatsapp_refresh_tags(), 0)

    def test_stored_tags_are_kept_by_the_system(self):
        """Nobody writes the stored tags (an RPC write would put a customer in a segment)."""
        for values in ({"whatsapp_tags": f",{self.churned.id},"}, {"whatsapp_tags": "%"}):
            with self.assertRaises(AccessError):
                self.bruno.with_user(self.manager).write(values)
            with self.assertRaises(AccessError):
                self.env["res.partner"].with_user(self.manager).create({"name": "X", **values})
        self.assertEqual(self.bruno.whatsapp_tags, audience.tags_text(self.vip.ids))
        # a tag rule given something that is no tag id is refused before any query
        with self.assertRaises(TypeError):
            audience.tag_domains({"tags_any": ["8) OR (1=1"]})

    def python_members(self, segment, partners):
        """The segment's partners among ``partners``, evaluated in Python (the reference)."""
        company = segment.company_id
        optins = {
            category: self.env["whatsapp.optin"]._states(
                [p.whatsapp_e164 for p in partners if p.whatsapp_e164], category, company
            )
            for category in ("marketing", "utility")
        }
        extra = audience.check_extra_domain(segment.extra_domain)
        now = fields.Datetime.now()

        def wrote(partner):
            conversations = (
                self.env["whatsapp.conversation"]
                .sudo()
                .search(
                    [("company_id", "=", company.id), ("phone_e164", "=", partner.whatsapp_e164)]
                )
            )
            since = now - timedelta(days=segment.inbound_days)
            return any(c.last_inbound_at and c.last_inbound_at >= since for c in conversations)

        def ordered(partner):
            orders = (
                self.env["sale.order"]
                .sudo()
                .search(
                    [
                        ("state", "=", "sale"),
                        ("company_id", "=", company.id),
                        ("partner_id.commercial_partner_id", "=", partner.commercial_partner_id.id),
                    ]
                )
            )
            if segment.order_days:
                since = now - timedelta(days=segment.order_days)
                orders = orders.filtered(lambda order: order.date_order >= since)
            return len(orders) >= max(segment.order_min_count, 1) and sum(
                orders.mapped("amount_total")
            ) >= (segment.order_min_amount or 0)

        def optin_holds(mode, partner, category):
            state = optins[category].get(partner.whatsapp_e164)
            if mode == "opted_in":
                return state == "opted_in"
            return mode == "any" or state != "opted_out"

        def holds(partner):
            tags = set(partner.with_context(active_test=False).category_id.ids)
            return all(
                (
                    not segment.only_company_contacts
                    or partner.company_id in (company, company.browse()),
                    not segment.require_whatsapp or partner.whatsapp_e164,
                    set(segment.tag_all_ids.ids) <= tags,
                    not segment.tag_any_ids or set(segment.tag_any_ids.ids) & tags,
                    not set(segment.tag_none_ids.ids) & tags,
                    not segment.country_ids or partner.country_id in segment.country_ids,
                    not segment.lang_ids or partner.lang in segment.lang_ids.mapped("code"),
                    optin_holds(segment.marketing_optin, partner, "marketing"),
                    optin_holds(segment.utility_optin, partner, "utility"),
                    not segment.inbound_days or (partner.whatsapp_e164 and wrote(partner)),
                    not (segment.order_min_count or segment.order_min_amount) or ordered(partner),
                    not extra or partner.filtered_domain(extra),
                )
            )

        return partners.filtered(holds)

    def test_counts_equal_a_python_evaluation_for_every_rule_and_combination(self):
        """Every tag rule with every other rule kind (and the extra filter), counted in SQL as a
        user with record rules, equal to the same rules evaluated in Python on the partners that
        user sees."""
        self.env["res.lang"]._activate_lang("es_MX")
        other, _account = self.make_company_account()
        archived = self.env["res.partner.category"].create({"name": "Old", "active": False})
        extra = self.make_customer("Eva Ramos", "+52 55 8765 4321", "base.mx", lang="es_MX")
        extra.category_id = self.vip | self.churned | archived
        foreign = self.make_customer("Fabio Rossi", "+55 21 91234-0000", company_id=other.id)
        foreign.category_id = self.vip
        self.opt_in(self.customer | extra)
        self.opt_in(self.bruno, state="opted_out")
        self.opt_in(self.carla, category="utility")
        self.opt_in(foreign, company=other)
        self.open_window()
        self.open_window(extra)
        tags = {
            "none": {},
            "all": {"tag_all_ids": [(6, 0, (self.vip | self.member).ids)]},
            "any": {"tag_any_ids": [(6, 0, (self.churned | archived).ids)]},
            "not": {"tag_none_ids": [(6, 0, self.churned.ids)]},
            "mixed": {
                "tag_all_ids": [(6, 0, self.vip.ids)],
                "tag_any_ids": [(6, 0, (self.member | archived).ids)],
                "tag_none_ids": [(6, 0, self.churned.ids)],
            },
        }
        others = {
            "plain": {},
            "anyone": {"require_whatsapp": False, "only_company_contacts": False},
            "country": {"country_ids": [(6, 0, self.env.ref("base.mx").ids)]},
            "language": {"lang_ids": [(6, 0, self.env.ref("base.lang_es_MX").ids)]},
            "marketing": {"marketing_optin": "opted_in"},
            "not_out": {"marketing_optin": "not_opted_out", "utility_optin": "not_opted_out"},
            "utility": {"utility_optin": "opted_in", "require_whatsapp": False},
            "extra": {"extra_domain": "['|', ('name', 'ilike', 'a'), ('lang', '=', 'es_MX')]"},
            "inbound": {"inbound_days": 7},
            "orders": {"order_min_count": 1, "order_days": 365},
            "amount": {"order_min_amount": 1000, "require_whatsapp": False},
        }
        Segment = self.env["whatsapp.segment"].with_user(self.manager)
        visible = self.env["res.partner"].with_user(self.manager).search([])
        self.assertNotIn(foreign, visible)  # another company's contact: record rules
        checked = 0
        for (tag_key, tag_values), (other_key, other_values) in product(
            tags.items(), others.items()
        ):
            segment = Segment.create(
                {"name": f"{tag_key} {other_key}", **tag_values, **other_values}
            )
            expected = self.python_members(segment, visible)
            found = visible.search([("whatsapp_segment_id", "=", segment.id)])
            self.assertEqual(found, expected, f"{tag_key} + {other_key}")
            self.assertEqual(segment.partner_count, len(expected), f"{tag_key} + {other_key}")
            checked += bool(expected)
        self.assertGreater(checked, 20)  # most combinations have members to compare

    def planner_settings(self):
        self.env.cr.execute("SELECT current_setting('random_page_cost'), current_setting('jit')")
        return self.env.cr.fetchone()

    def test_count_planner_settings_stay_inside_the_count(self):
        """The count prices index pages as cached ones, and only the count: the transaction's
        settings come back after it, after a refused extra filter too."""
        before = self.planner_settings()
        Partner = self.registry["res.partner"]
        search_count = Partner.search_count
        seen = []

        def spy(records, domain, *args, **kwargs):
            seen.append(self.planner_settings())
            return search_count(records, domain, *args, **kwargs)

        segment = self.segment(tag_any_ids=[(6, 0, self.vip.ids)])
        with patch.object(Partner, "search_count", spy):
            self.assertEqual(segment.partner_count, 2)
        self.assertEqual(seen, [("1.1", "off")])
        self.assertEqual(self.planner_settings(), before)
        # a stored filter that no longer parses (a field gone): no count, settings back
        self.env.cr.execute(
            "UPDATE whatsapp_segment SET extra_domain = %s WHERE id = %s",
            ["[('no_such_field', '=', 1)]", segment.id],
        )
        segment.invalidate_recordset()
        self.assertEqual(segment.partner_count, 0)
        self.assertEqual(self.planner_settings(), before)

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

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, TransactionCase, tagged

from .common import TemplateCase


@tagged("post_install", "-at_install")
class TestComposerCampaign(TemplateCase, TransactionCase):
    """A template sent from the composer to a selection is a campaign: the opt-in, the
    messaging limit, a record and a funnel, as a campaign launched from its own screen."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.template = cls.marketing_template()
        cls.campaign_audience()
        cls.opt_in(cls.customer | cls.bruno | cls.listed)
        cls.env["phone.blacklist"].sudo()._add([cls.listed.whatsapp_e164])
        cls.selection = cls.customer | cls.bruno | cls.carla | cls.twin | cls.nonum | cls.listed

    def composer(self, user, model, records):
        """The composer as a user opens it from a list's selection (Action > Send WhatsApp)."""
        form = Form(
            self.env["whatsapp.composer"]
            .with_user(user)
            .with_context(active_model=model, active_ids=records.ids)
        )
        form.account_id = self.account
        form.template_id = self.template
        return form

    def test_a_template_to_selected_contacts_becomes_a_running_campaign(self):
        form = self.composer(self.manager, "res.partner", self.selection)
        self.assertEqual(form.composition_mode, "mass")
        self.assertTrue(form.as_campaign)
        action = form.save().action_send()
        self.assertEqual(action["res_model"], "whatsapp.campaign")
        campaign = self.env["whatsapp.campaign"].browse(action["res_id"])
        self.assertRecordValues(
            campaign,
            [
                {
                    "state": "running",
                    "audience": "list",
                    "template_id": self.template.id,
                    "account_id": self.account.id,
                }
            ],
        )
        self.assertEqual(campaign.partner_ids, self.selection)
        self.assertEqual(
            {r.partner_id: (r.state, r.skip_reason) for r in campaign.recipient_ids},
            self.audience_reasons(),
        )
        # released through the outbox like any campaign: the opted-in customers only
        self.env["whatsapp.campaign"]._cron_release()
        self.assertEqual(campaign.whatsapp_message_ids.partner_id, self.customer | self.bruno)
        self.assertRecordValues(campaign, [{"queued_count": 2, "skipped_count": 4}])
        self.assertEqual(
            sorted(m.template_values["body"]["1"] for m in campaign.whatsapp_message_ids),
            ["Ana Souza", "Bruno Lima"],
        )

    def test_a_template_to_selected_orders_writes_once_to_each_customer(self):
        # a manager who sees every order
        self.manager.groups_id |= self.env.ref("sales_team.group_sale_salesman_all_leads")
        other = self.order.copy()
        brunos = self.order.copy({"partner_id": self.bruno.id})
        orders = self.order | other | brunos
        action = self.composer(self.manager, "sale.order", orders).save().action_send()
        campaign = self.env["whatsapp.campaign"].browse(action["res_id"])
        self.assertEqual(campaign.partner_ids, self.customer | self.bruno)
        self.assertEqual(campaign.recipient_count, 2)

    def test_only_campaign_managers_send_a_template_to_a_selection(self):
        composer = self.composer(self.salesman, "res.partner", self.selection).save()
        with self.assertRaisesRegex(AccessError, "only WhatsApp managers launch campaigns"):
            composer.action_send()
        self.assertFalse(
            self.env["whatsapp.campaign"].search([("template_id", "=", self.template.id)])
        )
        self.assertFalse(
            self.env["whatsapp.message"].search([("template_id", "=", self.template.id)])
        )

    def test_an_order_template_to_selected_orders_stays_one_message_per_order(self):
        template = self.make_template(status="approved")
        form = Form(
            self.env["whatsapp.composer"].with_context(
                active_model="sale.order", active_ids=(self.order | self.order.copy()).ids
            )
        )
        form.account_id = self.account
        form.template_id = template
        self.assertFalse(form.as_campaign)
        form.save().action_send()
        sent = self.env["whatsapp.message"].search(
            [("template_id", "in", template._variants().ids)]
        )
        self.assertEqual(sent.mapped("res_model"), ["sale.order"])

    def test_a_hostile_selection_keeps_only_the_users_own_customers(self):
        """res_ids as a client may send them: strings, booleans, floats, negative and absurd
        numbers, a missing record, another company's contact: only readable ids count."""
        other_company, _account = self.make_company_account()
        outsider = self.make_customer("Outsider", "+55 11 95555-0001", company_id=other_company.id)
        self.opt_in(outsider)
        composer = self.composer(self.manager, "res.partner", self.customer | self.bruno).save()
        composer.res_ids = [
            "1",
            None,
            True,
            1.5,
            -3,
            0,
            10**20,
            2**31,
            999_999_999,
            {"id": 1},
            outsider.id,
            self.customer.id,
            self.customer.id,
        ]
        action = composer.action_send()
        campaign = self.env["whatsapp.campaign"].browse(action["res_id"])
        self.assertEqual(campaign.partner_ids, self.customer)
        self.assertEqual(campaign.recipient_count, 1)
        for res_ids in ({"ids": [self.customer.id]}, "1,2", 42, []):
            composer = self.composer(self.manager, "res.partner", self.customer | self.bruno).save()
            composer.res_ids = res_ids
            with self.assertRaisesRegex(UserError, "no customer to write to"):
                composer.action_send()
        composer = self.composer(self.manager, "res.partner", self.customer | self.bruno).save()
        composer.res_model = "no.such.model"
        with self.assertRaisesRegex(UserError, "no customer to write to"):
            composer.action_send()

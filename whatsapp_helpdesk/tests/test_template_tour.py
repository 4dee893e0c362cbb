import time

from odoo.tests import HttpCase, tagged

from .common import LiveTourCase, TemplateCase


@tagged("post_install", "-at_install")
class TestTemplateTour(LiveTourCase, TemplateCase, HttpCase):
    def template_step(self, user):
        """The README's templates step as ``user`` clicks it; the order is ``user``'s."""
        self.customer.name = "Ana Tour"
        self.order.user_id = user
        # the Pricelists setting, on for every internal user as in the demo (not a role's group)
        self.env.ref("base.group_user").implied_ids |= self.env.ref(
            "product.group_product_pricelist"
        )

        def in_review(env):
            return env["whatsapp.template"].search(
                [("name", "=", "pedido_pronto"), ("status", "=", "pending")]
            )

        seen = []

        def shown_in_review(env):
            # Meta answers a while after the submission, as it does: the form shows In Review
            # first, then the verdict arrives over the bus (not with the form's reload).
            if in_review(env):
                seen.append(time.monotonic())
            return seen and time.monotonic() - seen[0] > 3

        def meta_approves(env):
            self.deliver_template_event(in_review(env), "APPROVED", env=env)

        with (
            self.mock_cloud_api({"id": "7001", "status": "PENDING", "category": "UTILITY"}),
            self.while_touring((shown_in_review, meta_approves)),
        ):
            self.start_tour(
                "/odoo/action-whatsapp_helpdesk.whatsapp_template_action",
                "whatsapp_helpdesk_template_tour",
                login=user.login,
            )
        template = self.env["whatsapp.template"].search([("name", "=", "pedido_pronto")])
        self.assertEqual(template.status, "approved")
        message = self.env["whatsapp.message"].search([("template_id", "=", template.id)])
        self.assertEqual(message.res_id, self.order.id)
        self.assertEqual(
            message.template_values, {"body": {"1": self.order.name, "2": "R$ 1.234,56"}}
        )

    def test_write_submit_approve_and_send_from_an_order_as_administrator(self):
        self.template_step(self.env.ref("base.user_admin"))

    def test_write_submit_approve_and_send_from_an_order_as_manager(self):
        """A WhatsApp manager with sales rights on their own documents, not an administrator."""
        self.assertFalse(self.manager.has_group("base.group_system"))
        self.template_step(self.manager)

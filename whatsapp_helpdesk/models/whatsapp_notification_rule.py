import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.safe_eval import safe_eval

from .whatsapp_optin import CATEGORIES, TEMPLATE_CATEGORIES

_logger = logging.getLogger(__name__)

EVENTS = [
    ("sale_confirmed", "Sales order confirmed"),
    ("invoice_paid", "Invoice paid"),
    ("delivery_shipped", "Delivery shipped"),
    ("delivery_delivered", "Delivered at the customer"),
]
EVENT_MODELS = {
    "sale_confirmed": "sale.order",
    "invoice_paid": "account.move",
    "delivery_shipped": "stock.picking",
    "delivery_delivered": "stock.picking",
}


class WhatsappNotificationRule(models.Model):
    """Send an approved template when an ERP event happens: once per event and record."""

    _name = "whatsapp.notification.rule"
    _description = "WhatsApp Notification Rule"
    _order = "event, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    event = fields.Selection(EVENTS, required=True)
    model = fields.Char(compute="_compute_model", store=True)
    template_id = fields.Many2one(
        "whatsapp.template",
        required=True,
        ondelete="restrict",
        check_company=True,
        help="Sent in the customer's language when Meta approved that variant.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    domain = fields.Char(
        default="[]", help="Only records matching this filter are notified, e.g. amount limits."
    )
    delay_minutes = fields.Integer(help="Wait this long after the event before sending.")
    category = fields.Selection(
        CATEGORIES,
        compute="_compute_category",
        help="The opt-in the customer needs.",
    )

    @api.depends("event")
    def _compute_model(self):
        for rule in self:
            rule.model = EVENT_MODELS.get(rule.event)

    @api.depends("template_id.category")
    def _compute_category(self):
        for rule in self:
            # an authentication template needs the utility opt-in here
            rule.category = TEMPLATE_CATEGORIES.get(rule.template_id.category, "utility")

    @api.model
    def _notify_event(self, event, records):
        """Queue the notifications of ``event`` for ``records`` (never raises into the ERP flow)."""
        if not records:
            return self.env["whatsapp.message"]
        rules = self.sudo().search([("event", "=", event)])
        messages = self.env["whatsapp.message"]
        for rule in rules:
            scoped = records.filtered(lambda r, rule=rule: r.company_id == rule.company_id)
            for record in rule._matching(scoped):
                try:
                    with self.env.cr.savepoint():
                        messages |= rule._notify_record(record)
                except UserError as error:
                    _logger.info(
                        "WhatsApp notification %s skipped for %s: %s", event, record, error
                    )
                    record.sudo().message_post(
                        body=self.env._(
                            "WhatsApp notification not sent: %(reason)s", reason=str(error)
                        ),
                        subtype_xmlid="mail.mt_note",
                    )
        return messages

    def _matching(self, records):
        self.ensure_one()
        domain = safe_eval(self.domain or "[]")
        return records.filtered_domain(domain) if domain else records

    def _key(self, record):
        return f"{self.event}:{record._name}:{record.id}"

    def _notify_record(self, record):
        """One notification for ``record``; a second call for the same event does nothing."""
        self.ensure_one()
        Message = self.env["whatsapp.message"].sudo()
        key = self._key(record)
        if Message.search_count([("notification_key", "=", key)]):
            return Message
        partner = record.partner_id
        account = self.template_id.account_id or self.env["whatsapp.account"]._get_default_account(
            record.company_id
        )
        if not account:
            raise UserError(
                self.env._("No WhatsApp account for %(company)s.", company=record.company_id.name)
            )
        conversation = account.sudo()._get_conversation(partner)
        skip_reason = None
        if not self.env["whatsapp.optin"]._is_opted_in(
            conversation.phone_e164, self.category, conversation.company_id
        ):
            skip_reason = self.env._(
                "%(partner)s has not opted in to %(category)s messages on WhatsApp.",
                partner=partner.display_name,
                category=dict(self._fields["category"].selection)[self.category],
            )
        message = conversation.with_context(whatsapp_skip_reason=skip_reason)._send_template(
            self.template_id, record=record, notification_key=key
        )
        if self.delay_minutes and message.state == "queued":
            when = fields.Datetime.now() + timedelta(minutes=self.delay_minutes)
            message.next_attempt_at = when
            message._trigger_send_at(when)
        record.sudo().message_post(
            body=(
                self.env._("WhatsApp notification queued: %(body)s", body=message.body)
                if not skip_reason
                else self.env._("WhatsApp notification skipped: %(reason)s", reason=skip_reason)
            ),
            subtype_xmlid="mail.mt_note",
        )
        return message

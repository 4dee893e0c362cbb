from odoo import api, models


class WhatsappInboundHook(models.AbstractModel):
    """Reacts to new customer messages: a model that inherits this mixin and implements
    :meth:`_whatsapp_on_inbound` is called for every batch of messages the webhook stores, after
    the conversation's own reactions (routing), in the order of ``_whatsapp_inbound_sequence``.

    The conversation finds its reactors by inheritance, never by name: opt-out keywords, order
    links, tickets and automatic answers plug in here, and the intake knows none of them.
    """

    _name = "whatsapp.inbound.hook"
    _description = "WhatsApp: reacts to customer messages"
    _whatsapp_inbound_sequence = 50

    @api.model
    def _whatsapp_on_inbound(self, messages):
        """React to ``messages`` (stored customer messages of any conversations); runs as the
        superuser from the processing cron, isolated from the storing of the messages."""

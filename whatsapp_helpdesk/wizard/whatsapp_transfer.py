from odoo import api, fields, models
from odoo.exceptions import UserError


class WhatsappTransfer(models.TransientModel):
    """Hand a conversation to another team or agent, with a word for them."""

    _name = "whatsapp.transfer"
    _description = "Transfer WhatsApp Conversation"

    _check_company_auto = True

    conversation_id = fields.Many2one("whatsapp.conversation", required=True)
    company_id = fields.Many2one(related="conversation_id.company_id")
    team_id = fields.Many2one(
        "helpdesk.ticket.team",
        domain="[('whatsapp_enabled', '=', True), ('company_id', '=', company_id)]",
        check_company=True,
    )
    user_id = fields.Many2one(
        "res.users", "Agent", domain="[('share', '=', False)]", check_company=True
    )
    note = fields.Text()

    @api.onchange("team_id")
    def _onchange_team_id(self):
        if self.team_id and self.user_id and self.user_id not in self.team_id.user_ids:
            self.user_id = False

    def action_transfer(self):
        self.ensure_one()
        if not self.team_id and not self.user_id:
            raise UserError(self.env._("Choose a team or an agent."))
        conversation = self.conversation_id
        conversation._check_can_reply()
        target = self.user_id.name or self.team_id.display_name
        # noted first: once handed to another team, the sender may no longer see the thread
        conversation.message_post(
            body=self.env._(
                "Transferred to %(target)s by %(user)s. %(note)s",
                target=target,
                user=self.env.user.name,
                note=self.note or "",
            ),
            subtype_xmlid="mail.mt_note",
        )
        values = {"user_id": self.user_id.id}
        if self.team_id:
            values["team_id"] = self.team_id.id
        conversation.write(values)
        if self.user_id:
            conversation.sudo()._notify_agents()
        else:
            conversation.sudo()._route()
        return {"type": "ir.actions.act_window_close"}

from odoo import api, fields, models
from odoo.tools import SQL, sql

from ..tools import campaign_plan

SKIP_REASONS = [*campaign_plan.SKIP_REASONS, ("refused", "Refused when queued")]
INSERT_CHUNK = 20000


class WhatsappCampaignRecipient(models.Model):
    """One customer of a campaign, fixed at launch: skipped with its reason, waiting for its
    turn (the messaging limit, the local window), or released to the outbox as one message."""

    _name = "whatsapp.campaign.recipient"
    _description = "WhatsApp Campaign Recipient"
    _order = "id"
    _rec_name = "partner_id"

    campaign_id = fields.Many2one(
        "whatsapp.campaign", required=True, index=True, ondelete="cascade", readonly=True
    )
    # the campaign's (read through it by the multi-company rule): a stored copy cost each of a
    # campaign's hundred thousand rows a column and a foreign-key check (see init)
    company_id = fields.Many2one(related="campaign_id.company_id")
    partner_id = fields.Many2one("res.partner", index=True, ondelete="set null", readonly=True)
    phone_e164 = fields.Char("Number", readonly=True)
    state = fields.Selection(
        [
            ("pending", "Waiting"),
            ("skipped", "Skipped"),
            ("released", "Queued"),
            ("canceled", "Canceled"),
        ],
        required=True,
        default="pending",
        readonly=True,
    )
    skip_reason = fields.Selection(SKIP_REASONS, readonly=True)
    tz = fields.Char(
        "Time Zone",
        readonly=True,
        help="Where the customer's local hours are read (a campaign sent in the customers' "
        "local hours): the customer's zone, else their number's or country's, else the "
        "company's; fixed at launch.",
    )
    note = fields.Char(readonly=True)
    message_id = fields.Many2one(
        "whatsapp.message", index="btree_not_null", ondelete="set null", readonly=True
    )
    message_state = fields.Selection(related="message_id.state", string="Message State")
    failure_type = fields.Selection(related="message_id.failure_type")

    def init(self):
        # the company is the campaign's: the column earlier versions stored goes (with its
        # index, which no query read while the release rewrote every row once)
        if sql.column_exists(self.env.cr, self._table, "company_id"):
            self.env.cr.execute("ALTER TABLE whatsapp_campaign_recipient DROP COLUMN company_id")
        # the release picks the next waiting recipients of a campaign
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS whatsapp_campaign_recipient_pending_idx
                ON whatsapp_campaign_recipient (campaign_id, id) WHERE state = 'pending'
            """
        )

    @api.model
    def _insert(self, campaign, rows):
        """Store ``rows`` [(partner id, E.164 or None, skip reason or None)] of ``campaign`` in a
        few statements (a large campaign has hundreds of thousands). Created by: nobody, as the
        campaign's outbox rows: the campaign tells who launched it, and the columns would cost
        each row two foreign-key checks."""
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start : start + INSERT_CHUNK]
            self.env.cr.execute(
                SQL(
                    """
                    INSERT INTO whatsapp_campaign_recipient
                        (campaign_id, partner_id, phone_e164, state, skip_reason,
                         create_date, write_date)
                    SELECT %(campaign)s, p, n, CASE WHEN r IS NULL THEN 'pending'
                           ELSE 'skipped' END, r,
                           now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
                      FROM unnest(%(partners)s::int[], %(numbers)s::varchar[],
                                  %(reasons)s::varchar[]) AS v(p, n, r)
                    """,
                    campaign=campaign.id,
                    partners=[row[0] for row in chunk],
                    numbers=[row[1] for row in chunk],
                    reasons=[row[2] for row in chunk],
                )
            )
        self.invalidate_model()

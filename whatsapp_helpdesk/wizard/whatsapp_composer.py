import re
from collections import Counter

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..models.common import notification
from ..tools import pricing

# The document Odoo prints for a record, sent by "Send by WhatsApp".
REPORTS = {
    "sale.order": "sale.action_report_saleorder",
    "account.move": "account.account_invoices",
}


class WhatsappComposer(models.TransientModel):
    """Send a WhatsApp message about any record with a customer: free text while the 24-hour
    window is open, an approved template at any time; one record or a whole selection."""

    _name = "whatsapp.composer"
    _description = "Send WhatsApp Message"

    res_model = fields.Char("Document Model")
    res_id = fields.Many2oneReference("Document", model_field="res_model")
    res_ids = fields.Json("Documents", help="The selection, in mass mode.")
    composition_mode = fields.Selection(
        [("single", "Single"), ("mass", "Mass")], default="single", required=True
    )
    partner_id = fields.Many2one("res.partner")
    account_id = fields.Many2one(
        "whatsapp.account",
        required=True,
        default=lambda self: self.env["whatsapp.account"]._get_default_account(),
        domain="[('company_id', 'in', allowed_company_ids)]",
    )
    template_id = fields.Many2one(
        "whatsapp.template",
        domain="[('id', 'in', template_choice_ids)]",
        help="The approved templates, each in the customer's language when Meta approved it.",
    )
    template_choice_ids = fields.Many2many(
        "whatsapp.template", compute="_compute_template_choices", string="Template Choices"
    )
    template_variant_id = fields.Many2one(
        "whatsapp.template",
        "Language",
        compute="_compute_template_variant",
        store=True,
        readonly=False,
        domain="[('id', 'in', template_variant_ids)]",
        help="The language variant sent: the customer's by default; the one chosen here is sent.",
    )
    template_variant_ids = fields.Many2many(
        "whatsapp.template", compute="_compute_template_variant_ids", string="Variants"
    )
    customer_language = fields.Char(compute="_compute_conversation")
    phone_e164 = fields.Char(related="partner_id.whatsapp_e164")
    conversation_id = fields.Many2one("whatsapp.conversation", compute="_compute_conversation")
    window_open = fields.Boolean(compute="_compute_conversation")
    window_end = fields.Datetime(compute="_compute_conversation")
    canned_response_id = fields.Many2one(
        "mail.canned.response",
        "Quick Reply",
        help="Inserts the canned response; {customer}, {first_name}, {record}, {agent} and "
        "{company} are filled in.",
    )
    body = fields.Text("Message")
    attachment_ids = fields.Many2many(
        "ir.attachment",
        "whatsapp_composer_ir_attachment_rel",
        "composer_id",
        "attachment_id",
        "Files",
        help="Sent as WhatsApp images, videos, audio or documents; the message is the caption of "
        "the first. With a template whose header is a file, the file of that header.",
    )
    report_available = fields.Boolean(compute="_compute_report_available")
    attach_report = fields.Boolean(
        "Send the PDF",
        help="Sends the document Odoo would print (the quotation, the invoice) to each customer.",
    )
    preview = fields.Text(compute="_compute_preview")
    recipient_count = fields.Integer(compute="_compute_recipient_count")
    price_estimate = fields.Char("Price", compute="_compute_price_estimate")
    as_campaign = fields.Boolean(
        compute="_compute_as_campaign",
        help="A template to a selection of customers is sent as a campaign.",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        context = self.env.context
        model = values.get("res_model") or context.get("active_model")
        ids = context.get("active_ids") or (
            [context["active_id"]] if context.get("active_id") else []
        )
        if model and not values.get("res_model"):
            values["res_model"] = model
        if len(ids) > 1 and not values.get("res_id"):
            values.update(composition_mode="mass", res_ids=ids)
        elif ids and not values.get("res_id"):
            values["res_id"] = ids[0]
        if values.get("composition_mode") != "mass" and not values.get("partner_id"):
            record = self._record(values.get("res_model"), values.get("res_id"))
            partner = self._partner_of(record) if record else None
            if partner:
                values["partner_id"] = partner.id
        if values.get("partner_id") and "account_id" in fields_list:
            # the number the customer writes to, when there are several
            latest = (
                self.env["whatsapp.conversation"]
                .sudo()
                .search(
                    [
                        ("partner_id", "=", values["partner_id"]),
                        ("company_id", "in", self.env.companies.ids),
                    ],
                    limit=1,
                )
            )
            if latest:
                values["account_id"] = latest.account_id.id
        return values

    @api.model
    def _record(self, model, res_id):
        if model and res_id and model in self.env:
            return self.env[model].browse(res_id).exists()
        return None

    @api.model
    def _partner_of(self, record):
        """The customer of a record: the partner itself, or its ``partner_id``."""
        if record._name == "res.partner":
            return record
        if "partner_id" in record._fields and record._fields["partner_id"].comodel_name == (
            "res.partner"
        ):
            return record.partner_id
        return self.env["res.partner"]

    def _records(self):
        self.ensure_one()
        if self.composition_mode == "mass":
            if self.res_model not in self.env:
                return self.env["res.partner"]
            # the selection as the client sent it: ids only, and only records this user may read
            # (another company's stay out)
            ids = self.res_ids if isinstance(self.res_ids, list) else []
            ids = [i for i in ids if type(i) is int and 0 < i < 2**31]
            return self.env[self.res_model].browse(ids).exists()._filtered_access("read")
        return self._record(self.res_model, self.res_id) or self.env["res.partner"]

    @api.onchange("canned_response_id")
    def _onchange_canned_response_id(self):
        if self.canned_response_id:
            record = self._record(self.res_model, self.res_id)
            self.body = self._fill_placeholders(
                self.canned_response_id.substitution, self.partner_id, record
            )
            self.canned_response_id.sudo().last_used = fields.Datetime.now()

    def _fill_placeholders(self, text, partner, record):
        """Quick-reply placeholders, filled for this customer and record; unknown ones stay."""
        values = {
            "customer": partner.name or "",
            "first_name": (partner.name or "").split(" ")[0],
            "record": record.display_name if record else "",
            "agent": self.env.user.name,
            "company": self.env.company.name,
        }
        return re.sub(
            r"\{(\w+)\}", lambda match: values.get(match.group(1), match.group(0)), text or ""
        )

    @api.depends("partner_id", "account_id")
    def _compute_conversation(self):
        # The window is a fact about the customer, the same for every user: found as superuser
        # (a conversation another team holds is still open); sending checks the user's rights.
        Conversation = self.env["whatsapp.conversation"].sudo()
        for composer in self:
            number = composer.partner_id.whatsapp_e164
            conversation = Conversation
            if number and composer.account_id:
                conversation = Conversation.search(
                    [("account_id", "=", composer.account_id.id), ("phone_e164", "=", number)],
                    limit=1,
                )
            composer.conversation_id = conversation.with_env(self.env)
            composer.window_open = conversation.window_open
            composer.window_end = conversation.window_end
            composer.customer_language = conversation.language or composer.partner_id.lang

    @api.depends("account_id", "res_model", "partner_id")
    def _compute_template_choices(self):
        """One choice per template name: the customer's language variant."""
        Template = self.env["whatsapp.template"]
        for composer in self:
            approved = Template.search(
                [
                    ("status", "=", "approved"),
                    ("account_id", "=", composer.account_id.id),
                    "|",
                    ("model", "=", False),
                    ("model", "=", composer.res_model or False),
                ]
            )
            choices = Template
            for name in dict.fromkeys(approved.mapped("name")):
                first = approved.filtered(lambda t, name=name: t.name == name)[:1]
                choices |= first._variant_for(composer.partner_id, composer.customer_language)
            composer.template_choice_ids = choices

    @api.depends("template_id")
    def _compute_template_variant(self):
        for composer in self:
            composer.template_variant_id = composer.template_id

    @api.depends("template_id")
    def _compute_template_variant_ids(self):
        for composer in self:
            composer.template_variant_ids = (
                composer.template_id._variants() if composer.template_id else False
            )

    @api.depends("template_variant_id", "partner_id", "res_id", "res_model", "body")
    def _compute_preview(self):
        for composer in self:
            variant = composer.template_variant_id
            if not variant:
                composer.preview = composer.body or False
                continue
            records = composer._records()
            record = records[:1] if records else None
            partner = composer.partner_id or (
                composer._partner_of(record) if record else self.env["res.partner"]
            )
            try:
                values = variant._render_values(record, partner, composer.customer_language)
            except UserError as error:
                composer.preview = str(error)
                continue
            composer.preview = variant._preview_for(values)

    @api.depends("res_model")
    def _compute_report_available(self):
        for composer in self:
            composer.report_available = composer.res_model in REPORTS

    @api.depends("template_id", "partner_id", "account_id", "res_ids", "composition_mode")
    def _compute_price_estimate(self):
        """What Meta will charge: free inside the window, else the template category's rate in
        the customers' markets."""
        for composer in self:
            company = composer.account_id.company_id or self.env.company
            if composer.composition_mode == "mass":
                partners = [composer._partner_of(record) for record in composer._records()]
                numbers = [partner.whatsapp_e164 for partner in partners if partner]
                window_open = False
            else:
                numbers = [composer.partner_id.whatsapp_e164] if composer.partner_id else []
                window_open = composer.window_open
            category = pricing.estimate_category(
                composer.template_id.category if composer.template_id else None, window_open
            )
            markets = Counter(pricing.market_of(number) for number in numbers if number)
            composer.price_estimate = self.env["whatsapp.rate"]._estimate_text(
                company, category, dict(markets)
            )

    @api.depends("composition_mode", "template_id", "attach_report")
    def _compute_as_campaign(self):
        """A template read on the customer, to a selection, without each record's PDF: a
        campaign (the opt-in of its category, the messaging limit, a record and a funnel). A
        template read on each document (an order's number, its PDF) stays one message per
        record."""
        for composer in self:
            composer.as_campaign = bool(
                composer.composition_mode == "mass"
                and composer.template_id
                and composer.template_id.model in (False, "res.partner")
                and not composer.attach_report
            )

    @api.depends("res_ids", "composition_mode")
    def _compute_recipient_count(self):
        for composer in self:
            composer.recipient_count = (
                len(composer.res_ids or []) if composer.composition_mode == "mass" else 1
            )

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------

    def action_send(self):
        self.ensure_one()
        if not self.account_id:
            raise UserError(self.env._("Configure a WhatsApp account first."))
        if (
            not self.template_id
            and not (self.body or "").strip()
            and not self.attachment_ids
            and not self.attach_report
        ):
            raise UserError(self.env._("Write a message, add a file or choose a template."))
        if self.attach_report and self.res_model not in REPORTS:
            raise UserError(self.env._("There is no document to print for this record."))
        if self.composition_mode == "mass" and self.attachment_ids:
            raise UserError(
                self.env._(
                    "Files are sent to one customer at a time; to a selection, send a template "
                    "(with each record's PDF)."
                )
            )
        if self.composition_mode == "mass":
            return self._send_mass()
        record = self._record(self.res_model, self.res_id)
        partner = self.partner_id or (self._partner_of(record) if record else None)
        if not partner:
            raise UserError(self.env._("There is no customer to write to."))
        message = self._send_to(partner, record)
        self._log_on_record(record, message)
        return notification(
            self.env._(
                "Queued for %(name)s: leaving now. Its ticks (sent, delivered, read) show on "
                "the conversation.",
                name=partner.display_name,
            ),
            close=True,
        )

    def _send_to(self, partner, record):
        conversation = self.account_id._get_conversation(partner)
        if not conversation._filtered_access("read"):
            raise UserError(
                self.env._(
                    "The conversation with %(name)s is handled by %(team)s, which you are not "
                    "part of: ask them, or a manager, to answer.",
                    name=partner.display_name,
                    team=conversation.sudo().team_id.display_name,
                )
            )
        files = self.attachment_ids
        if self.attach_report and record:
            files = self._report_attachment(record) | files
        if self.template_id:
            chosen = self.template_variant_id or self.template_id
            # the language a person chose is sent as chosen; in mass mode, unless one was chosen,
            # each customer gets their own
            exact = self.composition_mode == "single" or chosen != self.template_id
            header_file = None
            if files:
                if self.template_id.header_type not in ("image", "video", "document"):
                    raise UserError(
                        self.env._(
                            "The template %(name)s has no file header: send the file as a "
                            "message inside the 24-hour window instead.",
                            name=self.template_id.name,
                        )
                    )
                if len(files) > 1:
                    raise UserError(self.env._("A template carries one file only."))
                header_file = files
            return conversation._send_template(
                chosen, record=record, exact=exact, header_attachment=header_file
            )
        return conversation._send_post(self.body, files, record=record)

    def _report_attachment(self, record):
        """The PDF Odoo prints for ``record``, rendered with the sender's rights and kept on the
        record (a quotation as the customer received it)."""
        report_ref = REPORTS.get(record._name)
        if not report_ref:
            raise UserError(self.env._("There is no document to print for this record."))
        record.check_access("read")
        content, kind = self.env["ir.actions.report"]._render_qweb_pdf(report_ref, record.ids)
        if kind != "pdf":
            raise UserError(
                self.env._("Odoo could not print %(name)s as a PDF.", name=record.display_name)
            )
        name = record._get_report_base_filename()
        return (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": f"{name}.pdf".replace("/", "_"),
                    "raw": content,
                    "mimetype": "application/pdf",
                    "res_model": record._name,
                    "res_id": record.id,
                }
            )
            .with_env(self.env)
        )

    def _log_on_record(self, record, message):
        """A trace in the record's chatter for whoever can read it (the thread has the message)."""
        if (
            not record
            or record._name == "whatsapp.conversation"
            or not hasattr(record, "message_post")
        ):
            return
        record.check_access("read")
        record.sudo().message_post(
            body=self.env._(
                "WhatsApp message queued: %(body)s",
                # a post with files is one message per file: its text, then the files' names
                body=", ".join(
                    dict.fromkeys(
                        filter(None, message.mapped("body") + message.mapped("media_filename"))
                    )
                ),
            ),
            message_type="comment",
            subtype_xmlid="mail.mt_note",
            author_id=self.env.user.partner_id.id,
        )

    @api.model
    def _blacklisted(self, number):
        """A mass send skips blacklisted numbers whatever the message (like Odoo's mass SMS); a
        single send follows the conversation's rule (see whatsapp.conversation._send_problem)."""
        return bool(number) and bool(
            self.env["phone.blacklist"].sudo().search_count([("number", "=", number)])
        )

    def _skip_reason(self, record, partner, seen):
        if not partner:
            return self.env._("no customer")
        number = partner.whatsapp_e164
        if not number:
            return self.env._("no valid mobile number")
        if number in seen:
            return self.env._("same number as another recipient")
        if self._blacklisted(number):
            return self.env._("opted out of messages")
        conversation = self.env["whatsapp.conversation"].search(
            [("account_id", "=", self.account_id.id), ("phone_e164", "=", number)], limit=1
        )
        if conversation:
            problem = conversation._send_problem(self.template_id or None)
            return problem[1] if problem else None
        if not self.template_id:
            return self.env._("24-hour window closed: a template is needed")
        return None

    def _send_mass(self):
        """One message per record; a recipient that cannot be reached is skipped with a reason.
        A template read on the customer goes as a campaign instead (:meth:`_send_campaign`)."""
        if self.as_campaign:
            return self._send_campaign()
        sent, skipped, seen = 0, [], set()
        for record in self._records():
            partner = self._partner_of(record)
            reason = self._skip_reason(record, partner, seen)
            if reason is None:
                try:
                    message = self._send_to(partner, record)
                except UserError as error:
                    reason = str(error)
                else:
                    seen.add(partner.whatsapp_e164)
                    self._log_on_record(record, message)
                    sent += 1
            if reason is not None:
                skipped.append(f"{record.display_name}: {reason}")
        text = self.env._("%(sent)s WhatsApp message(s) queued.", sent=sent)
        if skipped:
            text += " " + self.env._(
                "%(count)s skipped: %(reasons)s", count=len(skipped), reasons="; ".join(skipped)
            )
        return notification(
            text, "warning" if skipped else "success", sticky=bool(skipped), close=True
        )

    def _send_campaign(self):
        """Launch a campaign of the template to the selection's customers and open it: the
        campaign skips who did not opt in to the template's category, is blacklisted, has no
        valid number or got a template lately (each with its reason), paces the sends at the
        number's tier and spreads them over the days its messaging limit allows."""
        if not self.env.su and not self.env.user.has_group(
            "whatsapp_helpdesk.group_whatsapp_manager"
        ):
            raise AccessError(
                self.env._(
                    "A template sent to a selection of customers is a campaign, and only "
                    "WhatsApp managers launch campaigns: ask a manager, or send the template to "
                    "one customer at a time."
                )
            )
        Partner = self.env["res.partner"]
        partners = Partner.union(*(self._partner_of(record) for record in self._records()))
        if not partners:
            raise UserError(self.env._("There is no customer to write to."))
        campaign = self.env["whatsapp.campaign"].create(
            {
                "name": self.env._(
                    "%(template)s to %(count)s selected customers (%(date)s)",
                    template=self.template_id.name,
                    count=len(partners),
                    date=fields.Date.to_string(fields.Date.context_today(self)),
                ),
                "account_id": self.account_id.id,
                "company_id": self.account_id.company_id.id,
                "template_id": self.template_id.id,
                "audience": "list",
                "partner_ids": [Command.set(partners.ids)],
            }
        )
        campaign.action_launch()
        return {
            "type": "ir.actions.act_window",
            "name": campaign.name,
            "res_model": "whatsapp.campaign",
            "res_id": campaign.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

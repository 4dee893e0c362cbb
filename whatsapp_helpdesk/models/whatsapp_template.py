import logging
from datetime import datetime, timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..tools import (
    cloud_api,
    formatting,
    template_import,
    template_lint,
    template_payloads,
    template_spec,
)
from ..tools import messages as wa_messages

_logger = logging.getLogger(__name__)

# Meta keeps uploaded media for 30 days: a header media id is reused for a bit less than that.
MEDIA_ID_LIFETIME = timedelta(days=28)
# Fields whose change makes an approved template go back to Meta's review.
CONTENT_FIELDS = {
    "category",
    "parameter_format",
    "header_type",
    "header_text",
    "body",
    "footer",
    "button_ids",
    "variable_ids",
}
CATEGORIES = [(category, category.capitalize()) for category in template_spec.CATEGORIES]


def _language_selection(_model):
    return [(code, code) for code in sorted(formatting.META_LANGUAGES)]


class WhatsappTemplate(models.Model):
    """A WhatsApp message template: what may be sent outside the 24-hour window once approved.

    Language variants share the name; the customer's language picks the variant.
    """

    _name = "whatsapp.template"
    _description = "WhatsApp Template"
    _inherit = ["mail.thread"]
    _order = "name, language"

    name = fields.Char(
        required=True,
        tracking=True,
        help="Meta's template name: lowercase letters, digits and underscores.",
    )
    account_id = fields.Many2one(
        "whatsapp.account",
        ondelete="cascade",
        help="The WhatsApp Business Account that owns it; shipped drafts get the company's "
        "account when submitted.",
        default=lambda self: self.env["whatsapp.account"]._get_default_account(),
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    active = fields.Boolean(default=True)
    language = fields.Selection(_language_selection, required=True, default="en_US")
    category = fields.Selection(
        CATEGORIES,
        required=True,
        default=template_spec.UTILITY,
        tracking=True,
    )
    parameter_format = fields.Selection(
        [("POSITIONAL", "Numbered {{1}}"), ("NAMED", "Named {{order_ref}}")],
        required=True,
        default="POSITIONAL",
    )
    model_id = fields.Many2one(
        "ir.model",
        "Applies To",
        ondelete="cascade",
        help="The kind of record whose fields fill the variables (e.g. Sales Order).",
    )
    model = fields.Char(related="model_id.model", store=True, index=True)
    header_type = fields.Selection(
        [
            ("none", "None"),
            ("text", "Text"),
            ("image", "Image"),
            ("video", "Video"),
            ("document", "Document"),
            ("location", "Location"),
        ],
        required=True,
        default="none",
    )
    header_text = fields.Char(help="At most 60 characters and one variable.")
    header_attachment_id = fields.Many2one("ir.attachment", "Header Media", copy=False)
    header_handle = fields.Char(copy=False, help="Meta's upload handle of the header sample.")
    header_media_id = fields.Char("Header Media ID", copy=False, readonly=True)
    header_media_uploaded_at = fields.Datetime(copy=False, readonly=True)
    body = fields.Text(required=True, help="At most 1,024 characters; variables as {{1}}.")
    footer = fields.Char(help="At most 60 characters, no variable.")
    button_ids = fields.One2many("whatsapp.template.button", "template_id", copy=True)
    variable_ids = fields.One2many("whatsapp.template.variable", "template_id", copy=True)
    status = fields.Selection(
        [
            ("draft", "Draft"),
            ("pending", "In Review"),
            ("approved", "Approved"),
            ("rejected", "Rejected"),
            ("paused", "Paused"),
            ("disabled", "Disabled"),
            ("in_appeal", "In Appeal"),
        ],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
        tracking=True,
    )
    rejected_reason = fields.Char(readonly=True, copy=False)
    rejection_recommendation = fields.Text(
        readonly=True, copy=False, help="What Meta recommends changing before submitting again."
    )
    quality_score = fields.Char(readonly=True, copy=False)
    pending_category = fields.Selection(
        CATEGORIES,
        readonly=True,
        copy=False,
        help="Meta announced that it will change the category to this one.",
    )
    pending_category_at = fields.Datetime(readonly=True, copy=False)
    meta_template_id = fields.Char("Meta Template ID", readonly=True, copy=False, index=True)
    lint_problems = fields.Text(compute="_compute_lint_problems")
    preview = fields.Text(compute="_compute_preview")

    _sql_constraints = [
        (
            "name_language_uniq",
            "unique(account_id, name, language)",
            "A template name exists once per language and account.",
        ),
    ]

    @api.depends("name", "language")
    def _compute_display_name(self):
        # language variants share the name: a picker must tell them apart
        for template in self:
            template.display_name = (
                f"{template.name} ({template.language})" if template.language else template.name
            )

    def copy_data(self, default=None):
        """A copy gets a free name (a name exists once per language and account)."""
        vals_list = super().copy_data(default=default)
        if default and "name" in default:
            return vals_list
        for template, vals in zip(self, vals_list, strict=True):
            taken = set(
                self.with_context(active_test=False)
                .search(
                    [
                        ("account_id", "=", template.account_id.id),
                        ("language", "=", vals.get("language", template.language)),
                        ("name", "=like", f"{template.name}_copy%"),
                    ]
                )
                .mapped("name")
            )
            name, number = f"{template.name}_copy", 1
            while name in taken:
                number += 1
                name = f"{template.name}_copy_{number}"
            vals["name"] = name
        return vals_list

    # ------------------------------------------------------------------
    # Spec (what tools/template_lint and template_payloads work on)
    # ------------------------------------------------------------------

    def _to_spec(self):
        self.ensure_one()
        samples = {}
        for variable in self.variable_ids:
            samples.setdefault(variable.location_key, {})[variable.name] = variable.sample or ""
        return {
            "name": self.name or "",
            "language": self.language or "",
            "category": self.category or "",
            "parameter_format": self.parameter_format or "POSITIONAL",
            "header_type": self.header_type or "none",
            "header_text": self.header_text or "",
            "header_handle": self.header_handle or "",
            "body": self.body or "",
            "footer": self.footer or "",
            "buttons": [button._to_spec() for button in self.button_ids.sorted("sequence")],
            "samples": samples,
        }

    @api.depends(
        "name",
        "language",
        "category",
        "parameter_format",
        "header_type",
        "header_text",
        "header_handle",
        "body",
        "footer",
        "button_ids",
        "variable_ids.sample",
    )
    def _compute_lint_problems(self):
        for template in self:
            problems = [template._problem_text(p) for p in template._lint()]
            template.lint_problems = "\n".join(f"• {p}" for p in problems) or False

    def _problem_text(self, problem):
        """A lint problem in the user's language (the English text is the translation key)."""
        try:
            return self.env._(problem.message, **problem.params)
        except (KeyError, TypeError, ValueError):
            return str(problem)

    def _lint(self):
        self.ensure_one()
        others = self.search(
            [("account_id", "=", self.account_id.id), ("id", "!=", self._origin.id or 0)]
        )
        return template_lint.lint(self._to_spec(), [(t.name, t.language) for t in others])

    @api.depends("body", "header_text", "footer", "button_ids", "variable_ids.sample")
    def _compute_preview(self):
        for template in self:
            spec = template._to_spec()
            template.preview = template._render_text(
                template_payloads.render(spec, spec["samples"])
            )

    @api.model
    def _render_text(self, rendered):
        parts = [rendered.get("header"), rendered.get("body"), rendered.get("footer")]
        text = "\n\n".join(part for part in parts if part)
        buttons = rendered.get("buttons") or []
        if buttons:
            text += "\n\n" + " | ".join(f"[{label}]" for label in buttons)
        return text

    # ------------------------------------------------------------------
    # Variables follow the placeholders
    # ------------------------------------------------------------------

    @api.onchange("body", "header_text", "header_type", "button_ids")
    def _onchange_sync_variables(self):
        self._sync_variables()

    def _expected_variables(self):
        """[(location, button, placeholder name)] that the texts contain."""
        self.ensure_one()
        expected = []
        if self.header_type == "text":
            expected += [("header", False, n) for n in template_spec.placeholders(self.header_text)]
        expected += [("body", False, n) for n in template_spec.placeholders(self.body)]
        for button in self.button_ids:
            if button.button_type == "URL":
                expected += [("button", button, n) for n in template_spec.placeholders(button.url)]
        return expected

    def _sync_variables(self):
        for template in self:
            wanted = template._expected_variables()
            keep = self.env["whatsapp.template.variable"]
            commands = []
            for location, button, name in wanted:
                line = template.variable_ids.filtered(
                    lambda v, loc=location, b=button, n=name: (
                        v.location == loc
                        and v.name == n
                        and (v.button_id == b if b else not v.button_id)
                    )
                )[:1]
                if line:
                    keep |= line
                else:
                    commands.append(
                        fields.Command.create(
                            {
                                "location": location,
                                "button_id": button.id if button else False,
                                "name": name,
                            }
                        )
                    )
            commands += [fields.Command.delete(v.id) for v in template.variable_ids - keep]
            if commands:
                template.variable_ids = commands

    @api.model_create_multi
    def create(self, vals_list):
        templates = super().create(vals_list)
        templates._sync_variables()
        templates.filtered("header_attachment_id")._adopt_header_attachment()
        return templates

    def write(self, vals):
        content_changed = bool(CONTENT_FIELDS & set(vals)) and not self.env.context.get(
            "whatsapp_no_resubmit"
        )
        resubmit = self.browse()
        if content_changed:
            resubmit = self.filtered(
                lambda t: t.status in ("approved", "rejected", "paused") and t.meta_template_id
            )
        res = super().write(vals)
        if vals.get("header_attachment_id"):
            self._adopt_header_attachment()
        if content_changed:
            self.with_context(whatsapp_no_resubmit=True)._sync_variables()
            resubmit._submit_edit()
        return res

    def _check_header_attachment(self):
        """The header media leaves with every send: whoever sets, submits or sends the template
        must be able to open it in Odoo (the environment's user; automation runs as superuser)."""
        self.env["whatsapp.message"]._check_attachment_readable(self.header_attachment_id)

    def _adopt_header_attachment(self):
        """Check a newly set header media with the user's rights; a file attached to nothing
        (uploaded for this template) becomes the template's, so whoever may read the template
        may send it. A file of another record keeps its owner and that record's rules."""
        self._check_header_attachment()
        for template in self:
            attachment = template.header_attachment_id.sudo()
            if not attachment.res_id:
                attachment.write({"res_model": self._name, "res_id": template.id})

    @api.constrains("header_text", "header_type")
    def _check_header(self):
        for template in self:
            if template.header_type == "text" and not template.header_text:
                raise ValidationError(self.env._("A text header needs its text."))

    # ------------------------------------------------------------------
    # Meta's review
    # ------------------------------------------------------------------

    def _check_lint(self):
        for template in self:
            problems = template._lint()
            if problems:
                raise UserError(
                    self.env._(
                        "Meta would reject the template %(name)s:\n%(problems)s",
                        name=template.name,
                        problems="\n".join(f"• {template._problem_text(p)}" for p in problems),
                    )
                )

    def _upload_header_handle(self, client):
        """Media headers need a sample: upload the attachment and keep its id as the handle."""
        attachment = self.header_attachment_id.sudo()
        if (
            self.header_type in ("image", "video", "document")
            and attachment
            and not self.header_handle
        ):
            self.header_handle = client.upload_media(
                attachment.raw, attachment.mimetype, attachment.name
            )

    def action_submit(self):
        self.check_access("write")
        for template in self:
            if not template.account_id:
                template.account_id = self.env["whatsapp.account"]._get_default_account()
            if not template.account_id:
                raise UserError(self.env._("Configure a WhatsApp account first."))
            if template.status not in ("draft", "rejected"):
                raise UserError(self.env._("Only a draft or rejected template can be submitted."))
            template._check_header_attachment()
            client = template.account_id._get_api_client()
            template._upload_header_handle(client)
            template._check_lint()
            try:
                answer = client.create_template(
                    template_payloads.create_payload(template._to_spec())
                )
            except cloud_api.CloudApiError as error:
                raise UserError(
                    self.env._("Meta refused the template: %(error)s", error=str(error))
                ) from error
            meta_id, status = template_import.read_created(answer)
            template.with_context(whatsapp_no_resubmit=True).write(
                {"meta_template_id": meta_id, "status": status, "rejected_reason": False}
            )
        return True

    def _submit_edit(self):
        """An approved template whose content changed goes back to Meta's review."""
        for template in self:
            template._check_lint()
            client = template.account_id._get_api_client()
            payload = template_payloads.edit_payload(template._to_spec())
            try:
                client.edit_template(template.meta_template_id, payload)
            except cloud_api.CloudApiError as error:
                raise UserError(
                    self.env._("Meta refused the change: %(error)s", error=str(error))
                ) from error
            template.with_context(whatsapp_no_resubmit=True).write(
                {"status": "pending", "rejected_reason": False}
            )

    def action_reset_draft(self):
        self.with_context(whatsapp_no_resubmit=True).write({"status": "draft"})

    @api.model
    def _apply_meta_update(self, update):
        """A template webhook (status, quality or category change). Returns False if unknown."""
        Template = self.sudo().with_context(active_test=False)
        accounts = self.env["whatsapp.account"].sudo().search([("waba_id", "=", update.waba_id)])
        template = Template.browse()
        if update.template_id:
            template = Template.search(
                [("account_id", "in", accounts.ids), ("meta_template_id", "=", update.template_id)],
                limit=1,
            )
        if not template and update.name and update.language:
            template = Template.search(
                [
                    ("account_id", "in", accounts.ids),
                    ("name", "=", update.name),
                    ("language", "=", update.language),
                ],
                limit=1,
            )
        if not template:
            return False
        values = {}
        categories = dict(self._fields["category"].selection)
        if update.field == "message_template_status_update" and update.event:
            rejected = update.event.upper() == "REJECTED"
            values["status"] = template_import.status_of(update.event, template.status)
            reason = update.rejection_reason or (update.reason if update.reason != "NONE" else "")
            values["rejected_reason"] = (reason or update.event) if rejected else False
            values["rejection_recommendation"] = (
                update.rejection_recommendation or False if rejected else False
            )
            if update.category.upper() in categories:
                values["category"] = update.category.upper()
        if update.new_quality_score:
            values["quality_score"] = update.new_quality_score
        if update.correct_category:
            # a notice: the change happens later, at category_update_at
            if update.correct_category.upper() in categories:
                values["pending_category"] = update.correct_category.upper()
                values["pending_category_at"] = (
                    datetime.utcfromtimestamp(update.category_update_at)
                    if update.category_update_at
                    else False
                )
        elif update.new_category.upper() in categories:
            values.update(
                category=update.new_category.upper(),
                pending_category=False,
                pending_category_at=False,
            )
        if update.template_id and not template.meta_template_id:
            values["meta_template_id"] = str(update.template_id)
        template.with_context(whatsapp_no_resubmit=True).write(values)
        template._notify_changed()
        return True

    def _notify_changed(self):
        """Open template forms and pickers show Meta's verdict without a reload."""
        users = (
            self.env.ref("whatsapp_helpdesk.group_whatsapp_user")
            .sudo()
            .users.filtered(lambda user: not self.company_id or user.company_ids & self.company_id)
        )
        if users:
            users._bus_send("whatsapp_helpdesk/templates", {"template_ids": self.ids})

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------

    def _check_sendable(self):
        self.ensure_one()
        if self.status == "approved":
            return
        reasons = {
            "paused": self.env._(
                "Meta paused the template %(name)s because customers reported or ignored it; "
                "it can be sent again once its quality recovers.",
                name=self.name,
            ),
            "disabled": self.env._("Meta disabled the template %(name)s.", name=self.name),
        }
        raise UserError(
            reasons.get(self.status)
            or self.env._(
                "The template %(name)s is not approved by Meta (status: %(status)s).",
                name=self.name,
                status=dict(self._fields["status"].selection)[self.status],
            )
        )

    def _variants(self):
        self.ensure_one()
        return self.search(
            [
                ("account_id", "=", self.account_id.id),
                ("name", "=", self.name),
                ("status", "=", "approved"),
            ]
        )

    def _variant_for(self, partner, lang=None):
        """The language variant of this template for ``partner``, whose language is ``lang``
        (default: the partner's), falling back to the company's."""
        self.ensure_one()
        variants = self._variants() or self
        chosen = formatting.pick_variant(
            variants.mapped("language"),
            lang or partner.lang or self.env.lang,
            self.company_id.partner_id.lang or self.env.lang,
        )
        return variants.filtered(lambda t: t.language == chosen)[:1] or self

    def _render_values(self, record, partner, lang=None, click_token=None, variables=None):
        """{location: {placeholder: text}} for ``record``, formatted in the customer's language
        ``lang`` (default: the partner's), whichever variant carries them; ``click_token``: the
        message's, the suffix of a tracked URL button; ``variables``: this template's, when a
        batch read them once."""
        self.ensure_one()
        values = {}
        for variable in self.variable_ids if variables is None else variables:
            # Meta refuses empty parameters (131008): an empty field shows as a dash
            value = variable._value_for(record, partner, lang or partner.lang, click_token) or "-"
            values.setdefault(variable.location_key, {})[variable.name] = value
        return values

    def _header_media(self, client):
        """The header media object of a send: uploaded once, its id reused while Meta keeps it."""
        self.ensure_one()
        if self.header_type not in ("image", "video", "document"):
            return None
        attachment = self.header_attachment_id.sudo()
        if not attachment:
            raise UserError(
                self.env._("The template %(name)s has no header media.", name=self.name)
            )
        fresh = (
            self.header_media_id
            and self.header_media_uploaded_at
            and fields.Datetime.now() - self.header_media_uploaded_at < MEDIA_ID_LIFETIME
        )
        if not fresh:
            media_id = client.upload_media(attachment.raw, attachment.mimetype, attachment.name)
            self.sudo().with_context(whatsapp_no_resubmit=True).write(
                {"header_media_id": media_id, "header_media_uploaded_at": fields.Datetime.now()}
            )
        return wa_messages.media_object(
            self.header_type,
            media_id=self.header_media_id,
            filename=attachment.name,
            strict=False,
        )

    def _preview_for(self, values, spec=None):
        """The text a customer reads, with ``values``; ``spec``: this template's
        :meth:`_to_spec`, when the caller renders many messages of it."""
        self.ensure_one()
        return self._render_text(template_payloads.render(spec or self._to_spec(), values))

    # ------------------------------------------------------------------
    # Import from Meta
    # ------------------------------------------------------------------

    @api.model
    def _import_from_meta(self, account, data):
        """Create or refresh the template described by Meta's ``data`` (list_templates item)."""
        Template = self.sudo().with_context(active_test=False, whatsapp_no_resubmit=True)
        listed = template_import.read_listed(data)
        spec = listed.spec
        domain = [
            ("account_id", "=", account.id),
            "|",
            ("meta_template_id", "=", listed.meta_id),
            "&",
            ("name", "=", spec["name"]),
            ("language", "=", spec["language"]),
        ]
        template = Template.search(domain, limit=1)
        values = {
            "meta_template_id": listed.meta_id,
            "status": listed.status,
            "rejected_reason": listed.rejected_reason or False,
            "quality_score": listed.quality_score or False,
        }
        if template:
            template.write(values)
            return template
        if spec["language"] not in formatting.META_LANGUAGES:
            _logger.info("Template %s skipped: language %s", spec["name"], spec["language"])
            return Template
        template = Template.create(
            {**values, **self._values_from_spec(spec), "account_id": account.id}
        )
        template._apply_samples(spec["samples"])
        return template

    @api.model
    def _values_from_spec(self, spec):
        """The field values of a template spec (the inverse of _to_spec, samples aside)."""
        return {
            "name": spec["name"],
            "language": spec["language"],
            "category": spec["category"],
            "parameter_format": spec["parameter_format"],
            "header_type": spec["header_type"],
            "header_text": spec["header_text"] or False,
            "body": spec["body"],
            "footer": spec["footer"] or False,
            "button_ids": [
                fields.Command.create(
                    {
                        "sequence": sequence,
                        "button_type": button["type"],
                        "text": button.get("text") or False,
                        "url": button.get("url") or False,
                        "phone_number": button.get("phone_number") or False,
                        "example": button.get("example") or False,
                    }
                )
                for sequence, button in enumerate(spec["buttons"])
            ],
        }

    def _apply_samples(self, samples):
        """Keep ``samples`` ({location: {placeholder: text}}) as the samples of the variables."""
        self.ensure_one()
        for variable in self.variable_ids:
            sample = samples.get(variable.location, {}).get(variable.name)
            if sample:
                variable.sample = sample

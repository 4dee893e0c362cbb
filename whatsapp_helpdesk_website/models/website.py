from datetime import UTC

from odoo import api, fields, models
from odoo.addons.whatsapp_helpdesk.tools import click_to_chat, formatting
from odoo.exceptions import ValidationError
from odoo.http import request

# Where a visitor came from: the UTM parameters of the URL, else the cookies Odoo's website
# keeps from an earlier page of the visit.
UTM_KEYS = (("c", "utm_campaign"), ("s", "utm_source"), ("m", "utm_medium"))


class Website(models.Model):
    _inherit = "website"

    whatsapp_account_id = fields.Many2one(
        "whatsapp.account",
        "WhatsApp Number",
        help="The number visitors chat with; no number, no WhatsApp button on this website.",
    )
    whatsapp_button = fields.Boolean(
        "Floating WhatsApp Button", default=True, help="On every page of the website."
    )
    whatsapp_product_button = fields.Boolean(
        "Ask About a Product", default=True, help="An 'Ask about this product' link on products."
    )
    whatsapp_prefill = fields.Char(
        "Prefilled Text",
        translate=True,
        help="What visitors find typed in WhatsApp (the page they came from is added).",
    )
    whatsapp_team_id = fields.Many2one(
        "helpdesk.ticket.team",
        "Opening Hours Of",
        help="The team whose working hours the button follows (none: always open).",
    )
    whatsapp_outside_hours = fields.Selection(
        [("notice", "Say when we answer"), ("hide", "Hide the button")],
        "Outside Opening Hours",
        default="notice",
        required=True,
    )

    @api.constrains("whatsapp_account_id", "whatsapp_team_id", "company_id")
    def _check_whatsapp_company(self):
        for website in self:
            for record in (website.whatsapp_account_id, website.whatsapp_team_id):
                if record and record.sudo().company_id != website.company_id:
                    raise ValidationError(
                        self.env._(
                            "The WhatsApp number and team of a website must belong to its "
                            "company (%(company)s).",
                            company=website.company_id.display_name,
                        )
                    )

    def _whatsapp_source(self, product=None):
        """Where the visitor is: this website, the product, the page and the visit's UTM."""
        self.ensure_one()
        source = {"w": self.id, "p": product.id if product else None}
        if request:
            source["pg"] = request.httprequest.path
            for key, name in UTM_KEYS:
                source[key] = request.params.get(name) or request.httprequest.cookies.get(
                    f"odoo_{name}"
                )
        return source

    def _whatsapp_button_values(self, product=None):
        """What a WhatsApp button shows (``link``, ``notice``), or None when it is hidden: no
        number, switched off, or outside the opening hours with "hide"."""
        self.ensure_one()
        website = self.sudo()
        account = website.whatsapp_account_id
        if not account or not (website.whatsapp_product_button if product else True):
            return None
        notice = False
        team = website.whatsapp_team_id
        now = fields.Datetime.now()
        if team and not team._whatsapp_in_hours(now):
            if website.whatsapp_outside_hours == "hide":
                return None
            notice = self._whatsapp_opening_notice(team, now)
        if product:
            text = self.env._(
                "Hello! I have a question about %(product)s", product=product.display_name
            )
        else:
            text = self.whatsapp_prefill or self.env._("Hello! I have a question.")
        try:
            link = click_to_chat.link(
                account.display_phone_number,
                click_to_chat.prefilled_text(text, self._whatsapp_source(product)),
            )
        except ValueError:
            return None
        return {"link": link, "notice": notice}

    def _whatsapp_opening_notice(self, team, now):
        """ "We answer from 9:00" (today) or "We answer from Monday 9:00", in the visitor's
        language and the team's time zone."""
        opening = team._whatsapp_next_opening(now)
        if not opening:
            return False
        time_text = f"{opening.hour}:{opening.minute:02d}"
        local_now = now.replace(tzinfo=UTC).astimezone(opening.tzinfo)
        if opening.date() == local_now.date():
            return self.env._("We answer from %(time)s", time=time_text)
        day = formatting.format_weekday(opening.weekday(), self.env.lang or "en_US")
        return self.env._("We answer from %(day)s %(time)s", day=day, time=time_text)

"""Issue 8, section 4: agents send through the conversation's checked methods only (finding 1),
and the send cron checks again what may leave (finding 2)."""

import base64
from datetime import timedelta

from markupsafe import Markup
from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, TransactionCase, new_test_user, tagged

from ..tools import cloud_api, payloads
from .common import TemplateCase, WhatsappCase

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)


class OutboxAccessCase(WhatsappCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent = cls.wa_user
        cls.manager = new_test_user(
            cls.env,
            login="wa_outbox_manager",
            groups="base.group_user,whatsapp_helpdesk.group_whatsapp_manager",
        )
        # a file nobody but its creator may open: unattached, created by the superuser
        cls.private_file = cls.env["ir.attachment"].create(
            {"name": "payroll.png", "datas": PNG, "mimetype": "image/png"}
        )
        # a file of another company's conversation: neither its agents nor its managers see it
        _company, other_account = cls.make_company_account()
        foreign = other_account._get_conversation(cls.customer)
        cls.foreign_file = cls.env["ir.attachment"].create(
            {
                "name": "foreign.png",
                "datas": PNG,
                "mimetype": "image/png",
                "res_model": "whatsapp.conversation",
                "res_id": foreign.id,
            }
        )


@tagged("post_install", "-at_install")
class TestOutboxAccess(OutboxAccessCase, TransactionCase):
    def test_agent_cannot_create_a_message_directly(self):
        conversation = self.open_window()
        Message = self.env["whatsapp.message"].with_user(self.agent)
        with self.assertRaises(AccessError):
            Message.create(
                {
                    "conversation_id": conversation.id,
                    "direction": "out",
                    "message_type": "image",
                    "attachment_id": self.private_file.id,
                }
            )
        with self.assertRaises(AccessError):
            conversation.with_user(self.agent).write(
                {
                    "whatsapp_message_ids": [
                        Command.create(
                            {
                                "direction": "out",
                                "message_type": "interactive",
                                "payload": {"type": "button"},
                            }
                        )
                    ]
                }
            )
        self.assertFalse(conversation.whatsapp_message_ids.filtered(lambda m: m.direction == "out"))

    def test_nobody_writes_outbox_fields_directly(self):
        conversation = self.open_window()
        message = conversation._send_text("Olá")
        for user in (self.agent, self.manager):
            for values in (
                {"state": "queued", "attempt_count": 0},
                {"attachment_id": self.private_file.id, "message_type": "image"},
                {"payload": {"type": "button"}, "template_values": {"body": {"1": "x"}}},
                {"direction": "out", "wamid": "wamid.FORGED"},
            ):
                with self.assertRaises(AccessError, msg=f"{user.login} wrote {list(values)}"):
                    message.with_user(user).write(values)
            with self.assertRaises(AccessError):
                self.env["whatsapp.message"].with_user(user).create(
                    {"conversation_id": conversation.id, "direction": "out", "body": "x"}
                )
        self.assertRecordValues(message, [{"state": "queued", "attachment_id": False}])

    def test_agent_cannot_move_the_number_or_open_the_window(self):
        conversation = self.account._get_conversation(self.customer).with_user(self.agent)
        self.assertFalse(conversation.window_open)
        for values in (
            {"last_inbound_at": "2099-01-01 00:00:00"},
            {"wa_id": "15550001111"},
            {"phone_e164": "+15550001111"},
            {"account_id": self.account.id},
            {"unread_count": 0},
        ):
            with self.assertRaises(AccessError, msg=list(values)):
                conversation.write(values)
        with self.assertRaises(AccessError):
            self.env["whatsapp.conversation"].with_user(self.agent).create(
                {"account_id": self.account.id, "phone_e164": "+15550001111", "wa_id": "1555"}
            )
        self.assertFalse(conversation.window_open)

    def test_agent_still_answers_and_closes_through_the_screens(self):
        conversation = self.open_window().with_user(self.agent)
        conversation.message_post(
            body=Markup("<p>Bom dia!</p>"), message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        sent = conversation.whatsapp_message_ids.filtered(lambda m: m.direction == "out")
        self.assertRecordValues(sent, [{"body": "Bom dia!", "state": "queued"}])
        self.assertEqual(sent.create_uid, self.agent, "queued on the agent's behalf")
        self.assertEqual(conversation.last_direction, "out")
        conversation.action_close()
        self.assertEqual(conversation.state, "closed")

    def test_media_is_checked_with_the_senders_rights(self):
        conversation = self.open_window().with_user(self.agent)
        for attachment in (self.private_file, self.foreign_file):
            with self.assertRaises(AccessError, msg=attachment.name):
                conversation._send_media(attachment.with_user(self.agent))
        self.assertFalse(conversation.whatsapp_message_ids.filtered(lambda m: m.direction == "out"))
        own = (
            self.env["ir.attachment"]
            .with_user(self.agent)
            .create({"name": "catalogue.png", "datas": PNG, "mimetype": "image/png"})
        )
        message = conversation._send_media(own, caption="Nosso catálogo")
        self.assertRecordValues(
            message, [{"message_type": "image", "attachment_id": own.id, "state": "queued"}]
        )
        with self.mock_cloud_api({"id": "media.1"}, self.sent_answer("wamid.M1")) as calls:
            self.env["whatsapp.message"]._cron_send()
        self.assertEqual(message.state, "sent")
        self.assertTrue(calls[0][1].endswith("/media"))
        self.assertEqual(
            calls[1][2]["json"]["image"], {"id": "media.1", "caption": "Nosso catálogo"}
        )

    def test_media_needs_the_window(self):
        conversation = self.account._get_conversation(self.customer).with_user(self.agent)
        own = (
            self.env["ir.attachment"]
            .with_user(self.agent)
            .create({"name": "late.png", "datas": PNG, "mimetype": "image/png"})
        )
        with self.assertRaisesRegex(UserError, "24-hour"):
            conversation._send_media(own)

    def test_retry_and_cancel_buttons_with_an_access_check(self):
        conversation = self.open_window()
        message = conversation._send_text("primeira")
        other = conversation._send_text("segunda")
        (message | other).sudo().write({"state": "failed", "failure_type": "server"})
        message.with_user(self.agent).action_retry()
        self.assertRecordValues(message, [{"state": "queued", "failure_type": False}])
        other.with_user(self.agent).action_cancel()
        self.assertEqual(other.state, "canceled")
        # an agent of another team neither sees nor retries the conversation's messages
        team = self.env["helpdesk.ticket.team"].create({"name": "Closed team"})
        conversation.team_id = team
        message.sudo().state = "failed"
        with self.assertRaises(AccessError):
            message.with_user(self.agent).action_retry()
        # someone else's conversation in an assignee-only team: read, but no retry
        team.write({"user_ids": [Command.link(self.agent.id)], "whatsapp_only_assignee": True})
        conversation.user_id = self.manager
        with self.assertRaisesRegex(UserError, "handling this conversation"):
            message.with_user(self.agent).action_retry()
        # outside the WhatsApp groups there is no retry either
        clerk = new_test_user(self.env, login="wa_clerk", groups="base.group_user")
        with self.assertRaises(AccessError):
            message.with_user(clerk).action_cancel()
        self.assertEqual(message.state, "failed")


@tagged("post_install", "-at_install")
class TestTemplateHeaderAccess(OutboxAccessCase, TemplateCase, TransactionCase):
    def test_header_media_is_checked_when_set(self):
        template = self.make_template(header_type="image").with_user(self.manager)
        with self.assertRaises(AccessError):
            template.header_attachment_id = self.private_file
        with self.assertRaises(AccessError):
            template.header_attachment_id = self.foreign_file
        upload = (
            self.env["ir.attachment"]
            .with_user(self.manager)
            .create({"name": "header.png", "datas": PNG, "mimetype": "image/png"})
        )
        template.header_attachment_id = upload
        self.assertRecordValues(
            upload.sudo(), [{"res_model": "whatsapp.template", "res_id": template.id}]
        )

    def test_header_media_is_checked_when_an_agent_sends(self):
        self.open_window()
        template = self.make_template(
            status="approved", model_id=False, body="Olá, temos novidades.", header_type="image"
        )
        # set as superuser: the file stays the other conversation's, under its rules
        template.header_attachment_id = self.foreign_file
        form = Form(
            self.env["whatsapp.composer"]
            .with_user(self.agent)
            .with_context(default_partner_id=self.customer.id)
        )
        form.account_id = self.account
        form.template_id = template
        composer = form.save()
        with self.assertRaises(AccessError):
            composer.action_send()
        self.assertFalse(self.env["whatsapp.message"].search([("template_id", "=", template.id)]))
        # an uploaded header becomes the template's: agents who may use the template send it
        upload = self.env["ir.attachment"].create(
            {"name": "header.png", "datas": PNG, "mimetype": "image/png"}
        )
        template.header_attachment_id = upload
        composer.action_send()
        self.assertTrue(self.env["whatsapp.message"].search([("template_id", "=", template.id)]))


@tagged("post_install", "-at_install")
class TestClaimTimeChecks(OutboxAccessCase, TemplateCase, TransactionCase):
    """Finding 2: the send cron checks again, when it claims a message, what the screens checked
    when it was queued; a message failing the check is failed with its reason, never sent."""

    def promotion(self, **values):
        return self.make_template(
            name="promo",
            status="approved",
            model_id=False,
            category="MARKETING",
            body="Promoção de verão: 20% em tudo!",
            **values,
        )

    def close_window(self, conversation):
        conversation.last_inbound_at = fields.Datetime.now() - timedelta(hours=25)

    def test_window_closed_before_the_claim(self):
        conversation = self.open_window()
        text = conversation._send_text("Olá")
        buttons = conversation._send_bot_text("Tudo certo?", offer_person=True)
        own = self.env["ir.attachment"].create(
            {"name": "photo.png", "datas": PNG, "mimetype": "image/png"}
        )
        media = conversation._send_media(own)
        self.assertEqual(buttons.message_type, "interactive")
        self.close_window(conversation)
        for message in text | buttons | media:
            self.assertWhatsappFailedUnsent(message, "window_closed")
        self.assertIn("24-hour", text.failure_reason)

    def test_a_retry_after_the_window_is_failed_not_sent(self):
        conversation = self.open_window()
        with self.mock_cloud_api(cloud_api.RetryableError("down", code=2, failure_type="server")):
            message = conversation._send_text("primeira tentativa")
            for _attempt in range(5):
                message.sudo().next_attempt_at = False
                self.env["whatsapp.message"]._cron_send()
        self.assertEqual(message.state, "failed")
        self.close_window(conversation)
        message.with_user(self.agent).action_retry()
        self.assertEqual(message.state, "queued")
        self.assertWhatsappFailedUnsent(message, "window_closed")

    def test_templates_still_leave_after_the_window(self):
        conversation = self.open_window()
        message = conversation._send_template(self.promotion())
        self.close_window(conversation)
        with self.mock_cloud_api(self.sent_answer("wamid.T1")) as calls:
            self.env["whatsapp.message"]._cron_send()
        self.assertEqual(message.state, "sent")
        self.assertEqual(len(calls), 1)

    def test_marketing_to_a_customer_who_opted_out_since(self):
        conversation = self.open_window()
        template = self.promotion()
        blacklisted = conversation._send_template(template)
        self.env["phone.blacklist"].sudo().add(conversation.phone_e164)
        self.assertWhatsappFailedUnsent(blacklisted, "opted_out")
        self.env["phone.blacklist"].sudo().remove(conversation.phone_e164)
        stopped = conversation._send_template(template)
        self.env["whatsapp.optin"]._record(
            conversation.phone_e164, "opted_out", categories=["marketing"]
        )
        self.assertWhatsappFailedUnsent(stopped, "opted_out")
        # an order update is not marketing: it still goes to a customer who stopped promotions
        update = conversation._send_template(
            self.make_template(status="approved"), record=self.order
        )
        with self.mock_cloud_api(self.sent_answer("wamid.U1")):
            self.env["whatsapp.message"]._cron_send()
        self.assertEqual(update.state, "sent")

    def test_a_delayed_notification_respects_a_stop_sent_meanwhile(self):
        conversation = self.open_window()
        message = conversation._send_template(
            self.make_template(status="approved"), record=self.order
        )
        self.deliver(self.inbound(None, payloads.text_message(self.customer_wa_id, "PARAR")))
        self.assertWhatsappFailedUnsent(message, "opted_out")

    def test_template_or_account_of_another_company(self):
        conversation = self.open_window()
        other_company = self.env["res.company"].search([("name", "=", "Other Co")])
        other_account = self.env["whatsapp.account"].search([("company_id", "=", other_company.id)])
        foreign = self.promotion(account_id=other_account.id)
        # queued before the checks existed, or by code that skipped them
        message = conversation._queue(
            {"message_type": "template", "template_id": foreign.id, "body": "x"}
        )
        self.assertWhatsappFailedUnsent(message, "config")
        moved = conversation._send_text("Olá")
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE whatsapp_message SET account_id = %s WHERE id = %s",
            (other_account.id, moved.id),
        )
        moved.invalidate_recordset()
        self.assertWhatsappFailedUnsent(moved, "config")

    def test_a_batch_is_planned_as_each_message_alone(self):
        """The batch planning (the rule asked once per conversation and template, addresses and
        filled templates built once) gives each message the answer and the payload it gets on
        its own."""
        conversation = self.open_window()
        bia = self.env["res.partner"].create(
            {"name": "Bia", "mobile": "+55 11 97777-0000", "country_id": self.env.ref("base.br").id}
        )
        closed = self.open_window(bia)
        order_template = self.make_template(status="approved")
        promotion = self.promotion()
        queued = (
            conversation._send_text("Olá")
            | conversation._send_template(order_template, record=self.order)
            | conversation._send_template(order_template, record=self.order)
            | conversation._send_template(promotion)
            | closed._send_text("antes de fechar")
            | closed._send_template(promotion)
            | closed._send_template(order_template, record=self.order)
        )
        queued[0].sudo().reply_to_wamid = "wamid.QUOTED"
        # the same template with other values ({location: {placeholder: text}})
        other_values = {key: dict(value) for key, value in queued[1].template_values.items()}
        other_values["body"]["1"] = "Outra Ana"
        queued[2].sudo().template_values = other_values
        self.env["whatsapp.optin"]._record(
            conversation.phone_e164, "opted_out", categories=["marketing"]
        )
        self.close_window(closed)
        Message = self.env["whatsapp.message"].sudo()
        batch = Message._claim_queued(100)
        self.assertEqual(batch, queued.sudo())
        client = self.account._get_api_client()
        alone = {}
        for message in batch:
            problem = message._claim_time_problem()
            alone[message.id] = problem or message._send_payload(client)
        planned = batch._plan_sends()
        jobs = {job.key: job for _client, jobs, _pacer, _workers in planned for job in jobs}
        for message in batch:
            expected = alone[message.id]
            if isinstance(expected, tuple):
                self.assertNotIn(message.id, jobs)
                self.assertEqual(
                    (message.state, message.failure_type, message.failure_reason),
                    ("failed", *expected),
                )
            else:
                self.assertEqual(message.state, "sending")
                self.assertEqual(jobs[message.id].payload, expected)
                self.assertEqual(jobs[message.id].recipient, expected["to"])
        self.assertEqual(
            batch.mapped("state"),
            ["sending", "sending", "sending", "failed", "failed", "sending", "sending"],
        )
        self.assertEqual(jobs[queued[0].id].payload["context"], {"message_id": "wamid.QUOTED"})
        self.assertNotEqual(jobs[queued[1].id].payload, jobs[queued[2].id].payload)

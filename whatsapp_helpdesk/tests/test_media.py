"""Files from any record: the chatter of a conversation or a ticket, the composer of a partner or
an order, "Send by WhatsApp" with the order's or the invoice's PDF; Meta's limits checked before
anything is queued; inbound files kept up to a cap."""

from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, TransactionCase, new_test_user, tagged

from ..tools import cloud_api, payloads
from ..tools.media_limits import MB
from .common import TemplateCase


def reply(record, body, *attachments):
    """An agent's comment with files in the chatter of ``record``."""
    return record.message_post(
        body=body,
        message_type="comment",
        subtype_xmlid="mail.mt_comment",
        attachment_ids=[attachment.id for attachment in attachments],
    )


def _media_then_sent(method, path, kwargs):
    if path.endswith("/media"):
        return {"id": "media.1"}
    return {"messages": [{"id": payloads.new_wamid()}]}


@tagged("post_install", "-at_install")
class TestFilesFromRecords(TemplateCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent = cls.wa_user
        cls.env["res.lang"]._activate_lang("en_US")

    def sent_payloads(self, calls):
        return [kwargs["json"] for _method, path, kwargs in calls if path.endswith("/messages")]

    # -- the chatter ------------------------------------------------------------------------

    def test_a_file_posted_in_the_conversation_goes_out_with_the_text_as_caption(self):
        conversation = self.open_window().with_user(self.agent)
        # as the chatter uploads it: a file of the composer until the post adopts it
        photo = (
            self.env["ir.attachment"]
            .with_user(self.agent)
            .create(
                {
                    "name": "chair.png",
                    "raw": b"\x89PNG",
                    "mimetype": "image/png",
                    "res_model": "mail.compose.message",
                    "res_id": 0,
                }
            )
        )
        reply(conversation, "Here is the chair", photo)
        message = self.assertWhatsappOutgoing(conversation, attachment=photo)
        self.assertRecordValues(message, [{"message_type": "image", "body": "Here is the chair"}])
        with self.mock_cloud_api(_media_then_sent) as calls:
            self.env["whatsapp.message"]._cron_send()
        self.assertEqual(
            self.sent_payloads(calls)[0]["image"], {"id": "media.1", "caption": "Here is the chair"}
        )

    def test_text_and_a_voice_note_go_as_a_text_then_the_audio(self):
        conversation = self.open_window()
        voice = self.make_attachment("hello.ogg", "audio/ogg")
        reply(conversation, "Listen", voice)
        out = conversation.whatsapp_message_ids.filtered(lambda m: m.direction == "out")
        self.assertEqual(sorted(out.mapped("message_type")), ["audio", "text"])
        self.assertWhatsappOutgoing(conversation, body="Listen")

    def test_files_meta_refuses_are_refused_before_queuing_with_the_reason(self):
        conversation = self.open_window()
        cases = {
            "big.png": ("image/png", b"x" * (5 * MB + 1), "too large"),
            "backup.zip": ("application/zip", b"PK", "cannot be sent"),
            "empty.pdf": ("application/pdf", b"", "empty"),
        }
        for name, (mimetype, raw, reason) in cases.items():
            with self.subTest(name), self.assertRaisesRegex(UserError, reason):
                reply(conversation, "see", self.make_attachment(name, mimetype, raw))
        self.assertFalse(conversation.whatsapp_message_ids.filtered(lambda m: m.direction == "out"))
        with self.assertRaisesRegex(UserError, "caption"):
            conversation._send_media(self.make_attachment(), caption="x" * 1025)

    def test_a_file_in_a_ticket_reply_goes_out_about_the_ticket(self):
        conversation = self.open_window()
        ticket = self.env["helpdesk.ticket"]._whatsapp_open_for(conversation, "broken chair")
        manual = self.make_attachment("manual.pdf", "application/pdf", b"%PDF-1.4")
        reply(ticket, "The manual", manual)
        message = self.assertWhatsappOutgoing(conversation, attachment=manual)
        self.assertRecordValues(
            message,
            [{"message_type": "document", "res_model": "helpdesk.ticket", "res_id": ticket.id}],
        )

    def test_a_closed_window_refuses_a_file_as_it_refuses_text(self):
        conversation = self.open_window()
        conversation.sudo().last_inbound_at = "2020-01-01 00:00:00"
        with self.assertRaisesRegex(UserError, "24-hour"):
            conversation._send_media(self.make_attachment())

    # -- the composer -------------------------------------------------------------------------

    def test_the_partner_composer_sends_an_uploaded_file(self):
        conversation = self.open_window()
        photo = (
            self.env["ir.attachment"]
            .with_user(self.agent)
            .create({"name": "catalogue.png", "raw": b"\x89PNG", "mimetype": "image/png"})
        )
        composer = Form(
            self.env["whatsapp.composer"]
            .with_user(self.agent)
            .with_context(active_model="res.partner", active_id=self.customer.id)
        )
        composer.account_id = self.account
        composer.body = "Our catalogue"
        composer.attachment_ids.add(photo)
        composer.save().action_send()
        message = self.assertWhatsappOutgoing(conversation, attachment=photo)
        self.assertEqual(message.body, "Our catalogue")

    def test_two_files_from_an_order_go_as_two_media_noted_on_the_order(self):
        conversation = self.open_window()
        files = [
            self.env["ir.attachment"]
            .with_user(self.salesman)
            .create({"name": name, "raw": b"x", "mimetype": mimetype})
            for name, mimetype in (("chair.png", "image/png"), ("terms.pdf", "application/pdf"))
        ]
        form = Form(
            self.env["whatsapp.composer"]
            .with_user(self.salesman)
            .with_context(active_model="sale.order", active_id=self.order.id)
        )
        form.account_id = self.account
        form.body = "Photo and terms"
        for attachment in files:
            form.attachment_ids.add(attachment)
        form.save().action_send()
        out = conversation.whatsapp_message_ids.filtered(lambda m: m.direction == "out")
        self.assertEqual(sorted(out.mapped("message_type")), ["document", "image"])
        self.assertEqual(sorted(m.body or "" for m in out), ["", "Photo and terms"])
        note = self.order.message_ids[:1]
        self.assertIn("Photo and terms", note.body)
        self.assertIn("terms.pdf", note.body)

    def test_someone_elses_private_file_cannot_be_sent(self):
        self.open_window()
        other = new_test_user(self.env, login="wa_other", groups="base.group_user")
        private = (
            self.env["ir.attachment"]
            .with_user(other)
            .create({"name": "salaries.pdf", "raw": b"%PDF", "mimetype": "application/pdf"})
        )
        composer = (
            self.env["whatsapp.composer"]
            .with_user(self.agent)
            .with_context(active_model="res.partner", active_id=self.customer.id)
            .create({"account_id": self.account.id, "attachment_ids": [private.id]})
        )
        with self.assertRaises(AccessError):
            composer.action_send()

    def test_files_are_not_sent_to_a_selection(self):
        composer = (
            self.env["whatsapp.composer"]
            .with_context(
                active_model="res.partner", active_ids=[self.customer.id, self.agent.partner_id.id]
            )
            .create({"account_id": self.account.id, "attachment_ids": [self.make_attachment().id]})
        )
        with self.assertRaisesRegex(UserError, "one customer at a time"):
            composer.action_send()

    # -- Send by WhatsApp: the PDF Odoo prints ------------------------------------------------

    def order_pdf_composer(self, user=None):
        composer = Form(
            self.env["whatsapp.composer"]
            .with_user(user or self.salesman)
            .with_context(
                default_res_model="sale.order",
                default_res_id=self.order.id,
                default_attach_report=True,
            )
        )
        composer.account_id = self.account
        return composer

    def test_send_by_whatsapp_puts_the_order_pdf_in_a_document_header(self):
        template = self.make_template(
            "order_pdf", language="en_US", status="approved", header_type="document"
        )
        form = self.order_pdf_composer()
        self.assertTrue(form.attach_report)
        form.template_id = template
        with self.mock_report_pdf():
            form.save().action_send()
        conversation = self.order.whatsapp_conversation_ids or self.env[
            "whatsapp.conversation"
        ].search([("partner_id", "=", self.customer.id)])
        message = self.assertWhatsappOutgoing(conversation, template=template)
        self.assertEqual(message.attachment_id.raw, b"%PDF-1.4 order")
        self.assertEqual(message.attachment_id.mimetype, "application/pdf")
        self.assertEqual(
            (message.attachment_id.res_model, message.attachment_id.res_id),
            ("sale.order", self.order.id),
        )
        with self.mock_cloud_api(_media_then_sent) as calls:
            self.env["whatsapp.message"]._cron_send()
        self.assertEqual(message.state, "sent")
        header = self.sent_payloads(calls)[0]["template"]["components"][0]
        self.assertEqual(header["type"], "header")
        self.assertEqual(
            header["parameters"][0]["document"],
            {"id": "media.1", "filename": message.attachment_id.name},
        )

    def test_send_by_whatsapp_inside_the_window_sends_the_pdf_as_a_document(self):
        conversation = self.open_window()
        form = self.order_pdf_composer()
        form.body = "Your order"
        with self.mock_report_pdf():
            form.save().action_send()
        message = conversation.whatsapp_message_ids.filtered(
            lambda m: m.direction == "out" and m.message_type == "document"
        )
        self.assertEqual(message.body, "Your order")
        self.assertTrue(message.attachment_id.name.endswith(".pdf"))

    def test_send_by_whatsapp_outside_the_window_needs_a_template(self):
        form = self.order_pdf_composer()
        with self.mock_report_pdf(), self.assertRaisesRegex(UserError, "24-hour"):
            form.save().action_send()

    def test_a_template_without_a_file_header_cannot_carry_the_pdf(self):
        template = self.make_template("order_text", language="en_US", status="approved")
        form = self.order_pdf_composer()
        form.template_id = template
        with self.mock_report_pdf(), self.assertRaisesRegex(UserError, "no file header"):
            form.save().action_send()

    def test_an_image_header_refuses_a_pdf(self):
        template = self.make_template(
            "order_img", language="en_US", status="approved", header_type="image"
        )
        form = self.order_pdf_composer()
        form.template_id = template
        with self.mock_report_pdf(), self.assertRaisesRegex(UserError, "not a document"):
            form.save().action_send()

    def test_the_report_is_refused_on_a_record_odoo_prints_nothing_for(self):
        composer = (
            self.env["whatsapp.composer"]
            .with_context(active_model="res.partner", active_id=self.customer.id)
            .create({"account_id": self.account.id, "attach_report": True, "body": "x"})
        )
        self.assertFalse(composer.report_available)
        with self.assertRaisesRegex(UserError, "no document to print"):
            composer.action_send()

    def test_send_by_whatsapp_on_an_invoice(self):
        conversation = self.open_window()
        invoice = self.order._create_invoices()
        invoice.action_post()
        form = Form(
            self.env["whatsapp.composer"].with_context(
                default_res_model="account.move",
                default_res_id=invoice.id,
                default_attach_report=True,
            )
        )
        form.account_id = self.account
        with self.mock_report_pdf(b"%PDF-1.4 invoice"):
            form.save().action_send()
        message = conversation.whatsapp_message_ids.filtered(
            lambda m: m.direction == "out" and m.message_type == "document"
        )
        self.assertEqual(message.attachment_id.raw, b"%PDF-1.4 invoice")
        self.assertEqual(message.res_model, "account.move")


@tagged("post_install", "-at_install")
class TestInboundMediaCap(TemplateCase, TransactionCase):
    def receive_image(self, file_size, media_id="BIG1"):
        image = payloads.media_message(
            self.customer_wa_id, "image", media_id, mime_type="image/png"
        )
        info = {"url": f"http://127.0.0.1:9/media/{media_id}", "mime_type": "image/png"}
        info["file_size"] = file_size
        with (
            self.mock_cloud_api(info),
            patch.object(
                cloud_api.CloudApiClient, "download_media", return_value=b"\x89PNG"
            ) as download,
        ):
            self.deliver(self.inbound(None, image))
        message = self.env["whatsapp.message"].search([("media_id", "=", media_id)])
        return message, download

    def test_an_image_is_shown_in_the_thread(self):
        message, _download = self.receive_image(1000)
        self.assertEqual(message.media_state, "done")
        self.assertIn(message.attachment_id, message.mail_message_id.attachment_ids)
        self.assertEqual(message.attachment_id.mimetype, "image/png")

    def test_a_file_over_the_cap_stays_at_meta_and_the_thread_says_so(self):
        message, download = self.receive_image(17 * MB)
        download.assert_not_called()
        self.assertRecordValues(
            message, [{"media_state": "failed", "failure_type": "media_too_large"}]
        )
        self.assertIn("16 MB", message.failure_reason)
        notes = message.conversation_id.message_ids.filtered(
            lambda m: m.parent_id == message.mail_message_id
        )
        self.assertTrue(notes)

    def test_the_cap_is_a_setting_clamped_to_metas_largest_file(self):
        params = self.env["ir.config_parameter"].sudo()
        Message = self.env["whatsapp.message"]
        for value, expected in (
            ("2", 2 * MB),
            ("0", MB),
            ("100000", 100 * MB),
            ("lots", 16 * MB),
            ("-5", MB),
            ("", 16 * MB),
        ):
            params.set_param("whatsapp_helpdesk.inbound_media_max_mb", value)
            self.assertEqual(Message._inbound_media_cap(), expected, value)
        params.set_param("whatsapp_helpdesk.inbound_media_max_mb", "1")
        message, download = self.receive_image(2 * MB, "BIG2")
        self.assertEqual(message.media_state, "failed")

    def test_a_download_growing_past_the_cap_is_stopped(self):
        image = payloads.media_message(self.customer_wa_id, "image", "BIG3", mime_type="image/png")
        too_large = cloud_api.PermanentError("too big", failure_type="media_too_large")
        with (
            self.mock_cloud_api({"url": "http://127.0.0.1:9/media/BIG3", "mime_type": "image/png"}),
            patch.object(cloud_api.CloudApiClient, "download_media", side_effect=too_large),
        ):
            self.deliver(self.inbound(None, image))
        message = self.env["whatsapp.message"].search([("media_id", "=", "BIG3")])
        self.assertRecordValues(
            message, [{"media_state": "failed", "failure_type": "media_too_large"}]
        )

import json
import logging

from odoo.http import Controller, Response, request, route

from ..tools import webhook

_logger = logging.getLogger(__name__)


def _json(status, **body):
    return Response(json.dumps(body), status=status, content_type="application/json")


class WhatsappWebhookController(Controller):
    """Meta's webhook: verify, parse, store, acknowledge. Processing happens in a cron."""

    @route("/whatsapp/webhook", type="http", auth="none", methods=["GET"], save_session=False)
    def whatsapp_webhook_verify(self, **params):
        _secrets, verify_tokens, _by_phone = (
            request.env["whatsapp.account"].sudo()._webhook_credentials()
        )
        try:
            challenge = webhook.handshake(params, verify_tokens)
        except webhook.HandshakeError:
            _logger.warning("WhatsApp webhook verification refused (wrong verify token or mode)")
            return _json(403, error="verification failed")
        return Response(challenge, status=200, content_type="text/plain")

    @route(
        "/whatsapp/webhook",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def whatsapp_webhook_receive(self):
        httprequest = request.httprequest
        if (httprequest.content_length or 0) > webhook.MAX_BODY_BYTES:
            return _json(413, error="payload too large")
        raw = httprequest.get_data()  # cached: Odoo may replay the request on a conflict
        if len(raw) > webhook.MAX_BODY_BYTES:
            return _json(413, error="payload too large")
        accounts = request.env["whatsapp.account"].sudo()
        app_secrets, _tokens, by_phone = accounts._webhook_credentials()
        signature = httprequest.headers.get("X-Hub-Signature-256")
        if not webhook.verify_signature(raw, signature, app_secrets):
            _logger.warning("WhatsApp webhook refused: missing or invalid X-Hub-Signature-256")
            return _json(403, error="invalid signature")
        try:
            batch = webhook.parse(raw)
        except webhook.WebhookError as error:
            _logger.warning("WhatsApp webhook refused: %s", error)
            return _json(400, error=f"malformed payload: {error}")
        stored, duplicates = request.env["whatsapp.webhook.event"].sudo()._intake(batch, by_phone)
        return _json(200, stored=stored, duplicates=duplicates)

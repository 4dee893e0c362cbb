import json
import logging
from typing import NamedTuple

from odoo.http import Controller, Response, request, route
from werkzeug.exceptions import NotFound

from ..tools import webhook

_logger = logging.getLogger(__name__)

# Meta ids seen without a configured account: logged once each per process, not per delivery.
_UNKNOWN_LOGGED = set()
_UNKNOWN_LOGGED_MAX = 1000


def _json(status, **body):
    return Response(json.dumps(body), status=status, content_type="application/json")


def _read_body(httprequest, limit):
    """The raw body, at most ``limit + 1`` bytes read: a chunked request has no Content-Length
    to refuse early, and the WSGI layer would otherwise read it whole into memory.

    The bytes are kept where ``get_data()`` finds them, since Odoo replays the request on a
    serialization conflict.
    """
    wrapped = getattr(httprequest, "_HTTPRequest__wrapped", None)
    if wrapped is None or getattr(wrapped, "_cached_data", None) is not None:
        return httprequest.get_data()
    data = wrapped.stream.read(limit + 1)
    wrapped._cached_data = data
    return data


class Verdict(NamedTuple):
    """What a webhook body is, once checked against the accounts' secrets and routes."""

    signers: frozenset  # accounts whose app secret signed the body (none: forged)
    error: webhook.WebhookError | None = None  # signed, but not a notification
    batch: webhook.WebhookBatch | None = None
    owners: list | None = None  # per event, the accounts it names
    foreign: bool = False  # an event names an account whose secret did not sign the body

    @property
    def plain(self):
        """Signed, readable, and every event names an account that signed it."""
        return (
            self.batch is not None
            and not self.foreign
            and all(accounts & self.signers for accounts in self.owners)
        )


def verify_webhook(env, raw, signature):
    """The :class:`Verdict` on the raw body ``raw`` signed ``signature`` (X-Hub-Signature-256).

    A body is checked with the app secrets of the active accounts, in constant time; one
    account's secret opens only that account. No query while the accounts' cache is warm.
    """
    credentials = env["whatsapp.account"].sudo()._webhook_credentials()
    signers = frozenset().union(
        *(
            credentials.accounts_by_secret[secret]
            for secret in webhook.signing_secrets(raw, signature, credentials.app_secrets)
        )
    )
    if not signers:
        return Verdict(signers)
    try:
        batch = webhook.parse(raw)
    except webhook.WebhookError as error:
        return Verdict(signers, error=error)
    owners = [webhook.owners(event, credentials.routes) for event in batch.events]
    foreign = any(accounts and not accounts & signers for accounts in owners)
    return Verdict(signers, batch=batch, owners=owners, foreign=foreign)


def store_verified(env, verdict, registry=None):
    """Store the events of a readable, signed body in the durable inbox (one statement,
    redeliveries skipped) and return the acknowledgement Meta gets; with ``registry``, None when
    the registry is no longer current (see ``whatsapp.webhook.event._insert``)."""
    Event = env["whatsapp.webhook.event"].sudo()
    counts = Event._intake(verdict.batch, verdict.owners, verdict.signers, registry=registry)
    if counts is None:
        return None
    return _json(200, stored=counts[0], duplicates=counts[1])


def _log_unknown_once(events, owners):
    for event, accounts in zip(events, owners, strict=True):
        if accounts:
            continue
        ident = getattr(event, "phone_number_id", "") or getattr(event, "waba_id", "") or "?"
        if ident not in _UNKNOWN_LOGGED and len(_UNKNOWN_LOGGED) < _UNKNOWN_LOGGED_MAX:
            _UNKNOWN_LOGGED.add(ident)
            _logger.warning(
                "WhatsApp webhook names %s, which no active account has: stored as ignored", ident
            )


class WhatsappWebhookController(Controller):
    """Meta's webhook: verify, parse, store, acknowledge. Processing happens in a cron.

    A body is verified with the app secret of the account(s) it names: one account's secret opens
    only that account. A signed body is always acknowledged once stored (what cannot be read is
    stored as an error for a person), so Meta does not retry it for days.
    """

    @route("/whatsapp/webhook", type="http", auth="none", methods=["GET"], save_session=False)
    def whatsapp_webhook_verify(self, **params):
        verify_tokens = request.env["whatsapp.account"].sudo()._webhook_credentials().verify_tokens
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
        max_content_length=webhook.MAX_BODY_BYTES,
    )
    def whatsapp_webhook_receive(self):
        httprequest = request.httprequest
        if (httprequest.content_length or 0) > webhook.MAX_BODY_BYTES:
            return _json(413, error="payload too large")
        raw = _read_body(httprequest, webhook.MAX_BODY_BYTES)
        if len(raw) > webhook.MAX_BODY_BYTES:
            return _json(413, error="payload too large")
        verdict = verify_webhook(request.env, raw, httprequest.headers.get("X-Hub-Signature-256"))
        if not verdict.signers:
            _logger.warning("WhatsApp webhook refused: missing or invalid X-Hub-Signature-256")
            return _json(403, error="invalid signature")
        Event = request.env["whatsapp.webhook.event"].sudo()
        if (error := verdict.error) is not None:
            _logger.warning("WhatsApp webhook: signed body is not a notification: %s", error)
            stored, duplicates = Event._intake_unreadable(raw, str(error), verdict.signers)
            return _json(200, stored=stored, duplicates=duplicates, unreadable=1)
        if verdict.foreign:
            _logger.warning(
                "WhatsApp webhook refused: it names an account whose secret did not sign it"
            )
            return _json(403, error="signature does not match the account")
        _log_unknown_once(verdict.batch.events, verdict.owners)
        return store_verified(request.env, verdict)


class WhatsappClickController(Controller):
    """The redirect of tracked template buttons: records the click, forwards to the button's
    own target (never to an address taken from the request)."""

    @route(
        "/whatsapp/click/<string:token>",
        type="http",
        auth="public",
        methods=["GET"],
        csrf=False,
        save_session=False,
    )
    def whatsapp_click(self, token, **_params):
        target = request.env["whatsapp.message"].sudo()._record_click(token)
        if not target:
            raise NotFound()
        return request.redirect(target, code=303, local=False)

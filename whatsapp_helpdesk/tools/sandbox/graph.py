"""The Graph API routes of the sandbox: ``/{version}/...`` requests checked as the Cloud API checks
them, answered in its shapes, and applied to the state (``SandboxState``) they are given.

Messages (``POST /{phone_number_id}/messages``, read receipts included), media (upload, URL,
download, delete), the business phone number, and message templates (list, create, get, edit,
delete). Every route needs the access token; errors are Meta's (``errors.py``).
"""

import base64
import email.parser
import email.policy
import hmac
import logging
import re

from .. import payloads
from .config import digits
from .errors import (
    GraphError,
    invalid_parameter,
    invalid_token,
    require,
    template_invalid,
    unknown_object,
)
from .templates import template_definition
from .web import Request, Response, route, routes

_logger = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 4096
SEND_TYPES = (
    "text",
    *payloads.MEDIA_TYPES,
    "location",
    "contacts",
    "interactive",
    "template",
    "reaction",
)


def handle(sandbox, request: Request) -> Response:
    """Answer a Graph API request after the access token check (the server applies the latency
    knob before, see ``Sandbox._latency``)."""
    check_access_token(sandbox, request)
    handler, params = route(_ROUTES, request)
    if handler is None:
        raise GraphError(400, 2500, f"Unknown path components: {request.path}")
    return handler(sandbox, request, **params)


def check_access_token(sandbox, request: Request) -> None:
    """The access token (``Authorization: Bearer``, or ``access_token=``), else code 190."""
    scheme, _, token = request.header("Authorization").partition(" ")
    if scheme.lower() != "bearer":
        token = request.query.get("access_token", "")
    if not hmac.compare_digest(token.strip().encode(), sandbox.config.token.encode()):
        raise invalid_token()


def gateway_error(delay: float = 0.0) -> Response:
    """HTTP 503 with a proxy's HTML page and no Graph error: the request may have gone through."""
    page = b"<html><body><h1>503 Service Unavailable</h1></body></html>"
    return Response(503, page, "text/html", delay)


def _json_object(request: Request) -> dict:
    """The Graph request body as a JSON object, else HTTP 400 code 100."""
    try:
        data = request.json()
    except ValueError:
        raise invalid_parameter("The request body is not valid JSON.")
    require(isinstance(data, dict), "The request body must be a JSON object.")
    return data


def _parse_multipart(content_type: str, body: bytes) -> dict:
    """``{field name: (file name, content type, bytes)}`` of a multipart/form-data body."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    require(message.is_multipart(), "The request must be multipart/form-data.")
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        fields[name] = (part.get_filename(), part.get_content_type(), data)
    return fields


# -- outbound message validation ------------------------------------------------------------------


def _check_text(content) -> None:
    body = content.get("body")
    require(isinstance(body, str) and body.strip(), "Param text['body'] is required.")
    require(len(body) <= MAX_TEXT_LENGTH, f"Param text['body'] exceeds {MAX_TEXT_LENGTH} chars.")


def _check_media(content) -> None:
    require(content.get("id") or content.get("link"), "Media requires an 'id' or a 'link'.")


def _check_location(content) -> None:
    for key in ("latitude", "longitude"):
        try:
            float(content.get(key))
        except (TypeError, ValueError):
            raise invalid_parameter(f"Param location['{key}'] must be a number.")


def _check_contacts(content) -> None:
    require(isinstance(content, list) and content, "Param 'contacts' must be a non-empty list.")
    require(all(isinstance(c, dict) and c.get("name") for c in content), "Contacts need a name.")


def _check_interactive(content) -> None:
    require(isinstance(content.get("type"), str), "Param interactive['type'] is required.")
    require(isinstance(content.get("action"), dict), "Param interactive['action'] is required.")


def _check_template(content) -> None:
    require(isinstance(content.get("name"), str) and content["name"], "Template name required.")
    language = content.get("language")
    code = language.get("code") if isinstance(language, dict) else None
    require(isinstance(code, str) and code, "Param template['language']['code'] is required.")
    components = content.get("components", [])
    require(
        isinstance(components, list) and all(isinstance(c, dict) for c in components),
        "Param template['components'] must be a list of objects.",
    )


def _check_reaction(content) -> None:
    require(content.get("message_id"), "Param reaction['message_id'] is required.")
    require(isinstance(content.get("emoji"), str), "Param reaction['emoji'] is required.")


_CONTENT_CHECKS = {
    "text": _check_text,
    **dict.fromkeys(payloads.MEDIA_TYPES, _check_media),
    "location": _check_location,
    "contacts": _check_contacts,
    "interactive": _check_interactive,
    "template": _check_template,
    "reaction": _check_reaction,
}


_BSUID_RE = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")


def validate_message(body: dict) -> str:
    """Check an outbound message request as the Cloud API does; return its type.

    Raises ``GraphError`` (HTTP 400 code 100, the reason in ``error_data.details``).
    """
    require(body.get("messaging_product") == "whatsapp", "messaging_product must be 'whatsapp'.")
    require(body.get("recipient_type", "individual") == "individual", "Bad recipient_type.")
    if "recipient" in body and "to" not in body:  # a customer known by username: a BSUID
        require(
            isinstance(body["recipient"], str) and _BSUID_RE.fullmatch(body["recipient"]),
            "Param 'recipient' must be a business-scoped user id.",
        )
    else:
        require(isinstance(body.get("to"), str) and digits(body["to"]), "Param 'to' is required.")
    type_ = body.get("type", "text")
    require(type_ in SEND_TYPES, f"Param 'type' must be one of {', '.join(SEND_TYPES)}.")
    content = body.get(type_)
    expected = list if type_ == "contacts" else dict
    require(isinstance(content, expected), f"Param '{type_}' is required.")
    _CONTENT_CHECKS[type_](content)
    return type_


# -- messages -------------------------------------------------------------------------------------


def _check_phone_number(sandbox, phone_number_id: str, method: str) -> None:
    if phone_number_id != sandbox.config.phone_number_id:
        raise unknown_object(phone_number_id, method)


def send_message(sandbox, request: Request, phone_number_id: str) -> Response:
    """``POST /{version}/{phone_number_id}/messages``."""
    _check_phone_number(sandbox, phone_number_id, request.method)
    body = _json_object(request)
    if body.get("status") == "read":
        return _mark_read(sandbox, body)
    type_ = validate_message(body)
    if type_ == "template":
        sandbox.check_template_send(body["template"])
    entry, delay, lost_answer = sandbox.accept_send(phone_number_id, body, type_, at=request.at)
    if lost_answer:
        return gateway_error(delay)
    message = {"id": entry["wamid"]}
    if type_ == "template":
        message["message_status"] = "accepted"
    answer = {
        "messaging_product": "whatsapp",
        "contacts": [{"input": body.get("to") or body["recipient"], "wa_id": entry["to"]}],
        "messages": [message],
    }
    return Response.json(answer, delay=delay)


def _mark_read(sandbox, body: dict) -> Response:
    require(body.get("messaging_product") == "whatsapp", "messaging_product must be 'whatsapp'.")
    require(isinstance(body.get("message_id"), str), "Param 'message_id' is required.")
    sandbox.record_read_receipt(body["message_id"])
    return Response.json({"success": True})


# -- media and objects ----------------------------------------------------------------------------


def upload_media(sandbox, request: Request, phone_number_id: str) -> Response:
    """``POST /{version}/{phone_number_id}/media``: multipart file, type, messaging_product."""
    _check_phone_number(sandbox, phone_number_id, request.method)
    fields = _parse_multipart(request.header("Content-Type"), request.body)
    product = fields.get("messaging_product", (None, None, b""))[2].decode(errors="replace")
    require(product == "whatsapp", "messaging_product must be 'whatsapp'.")
    require("file" in fields, "Param 'file' is required.")
    filename, part_type, data = fields["file"]
    require(data, "The file is empty.")
    mime_type = fields["type"][2].decode(errors="replace") if "type" in fields else part_type
    media = sandbox.store_media(data, mime_type, filename)
    _logger.info("media %s uploaded (%s, %d bytes)", media.id, mime_type, len(data))
    return Response.json({"id": media.id})


def get_object(sandbox, request: Request, object_id: str) -> Response:
    """``GET /{version}/{id}``: the business phone number, a template (``fields`` narrows it)
    or a media's download URL."""
    if object_id == sandbox.config.phone_number_id:
        return Response.json(_phone_number_info(sandbox.config))
    template = sandbox.template_copy(object_id)
    if template is not None:
        fields = [f.strip() for f in request.query.get("fields", "").split(",") if f.strip()]
        if fields:
            template = {k: v for k, v in template.items() if k == "id" or k in fields}
        return Response.json(template)
    media = _media_or_error(sandbox, object_id, request.method)
    host = request.header("Host") or sandbox.base_url.split("://", 1)[1]
    answer = {
        "messaging_product": "whatsapp",
        "url": f"http://{host}/_sandbox/media/{media.id}",
        "mime_type": media.mime_type,
        "sha256": media.sha256,
        "file_size": media.file_size,
        "id": media.id,
    }
    return Response.json(answer)


def _phone_number_info(cfg) -> dict:
    return {
        "id": cfg.phone_number_id,
        "display_phone_number": cfg.display_phone_number,
        "verified_name": "WhatsApp Sandbox",
        "quality_rating": "GREEN",
        "code_verification_status": "VERIFIED",
        "platform_type": "CLOUD_API",
        "throughput": {"level": "STANDARD"},
    }


def post_object(sandbox, request: Request, object_id: str) -> Response:
    """``POST /{version}/{template_id}``: edit a template's ``components`` and/or ``category``.

    Only APPROVED, REJECTED or PAUSED templates can be edited; the template goes back to
    PENDING and is reviewed again like a new one.
    """
    if sandbox.template_copy(object_id) is None:
        raise unknown_object(object_id, request.method)
    body = _json_object(request)
    if "components" not in body and "category" not in body:
        raise template_invalid(
            "Nothing to Edit", "Give the new components and/or category of the template."
        )
    if not sandbox.edit_template(object_id, body):
        raise unknown_object(object_id, request.method)
    return Response.json({"success": True})


def delete_object(sandbox, request: Request, object_id: str) -> Response:
    """``DELETE /{version}/{media_id}``."""
    if not sandbox.delete_media(object_id):
        raise unknown_object(object_id, request.method)
    return Response.json({"success": True})


def _media_or_error(sandbox, media_id: str, method: str):
    media = sandbox.media_by_id(media_id)
    if media is None:
        raise unknown_object(media_id, method)
    return media


def download_media(sandbox, request: Request, media_id: str) -> Response:
    """``GET /_sandbox/media/<id>``: the file bytes (the access token is required)."""
    check_access_token(sandbox, request)
    media = sandbox.media_by_id(media_id)
    if media is None:
        raise GraphError(404, 100, "(#100) Invalid parameter", f"No media {media_id}.")
    return Response(200, media.data, media.mime_type)


# -- message templates ----------------------------------------------------------------------------


def _check_waba(sandbox, waba_id: str, method: str) -> None:
    if waba_id != sandbox.config.waba_id:
        raise unknown_object(waba_id, method)


def list_templates(sandbox, request: Request, waba_id: str) -> Response:
    """``GET /{version}/{waba_id}/message_templates`` (``name``, ``status``, ``limit``)."""
    _check_waba(sandbox, waba_id, request.method)
    query = request.query
    data = sandbox.matching_templates(query.get("name", ""), query.get("status"))
    start = int(_decode_cursor(query.get("after")) or 0)
    limit = int(query.get("limit") or 25)
    page = data[start : start + limit]
    cursors = {"before": _cursor(start), "after": _cursor(start + max(len(page) - 1, 0))}
    paging = {"cursors": cursors}
    if start + limit < len(data):
        cursors["after"] = _cursor(start + limit)
        paging["next"] = f"{sandbox.base_url}{request.path}?limit={limit}&after={cursors['after']}"
    return Response.json({"data": page, "paging": paging})


def create_template(sandbox, request: Request, waba_id: str) -> Response:
    """``POST /{version}/{waba_id}/message_templates``: a PENDING template, reviewed later."""
    _check_waba(sandbox, waba_id, request.method)
    template = sandbox.create_template(template_definition(_json_object(request)))
    return Response.json(
        {"id": template["id"], "status": "PENDING", "category": template["category"]}
    )


def delete_template(sandbox, request: Request, waba_id: str) -> Response:
    """``DELETE /{version}/{waba_id}/message_templates?name=...`` (``hsm_id`` narrows)."""
    _check_waba(sandbox, waba_id, request.method)
    name, hsm_id = request.query.get("name"), request.query.get("hsm_id")
    require(name, "Param 'name' is required.")
    require(sandbox.delete_templates(name, hsm_id), f"Message template '{name}' was not found.")
    return Response.json({"success": True})


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(str(index).encode()).decode()


def _decode_cursor(cursor) -> str | None:
    if not cursor:
        return None
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except ValueError:
        raise invalid_parameter("Invalid paging cursor.")


_ROUTES = routes(
    "",
    [
        ("POST", r"/{v}/(?P<phone_number_id>[^/]+)/messages/?", send_message),
        ("POST", r"/{v}/(?P<phone_number_id>[^/]+)/media/?", upload_media),
        ("GET", r"/{v}/(?P<waba_id>[^/]+)/message_templates/?", list_templates),
        ("POST", r"/{v}/(?P<waba_id>[^/]+)/message_templates/?", create_template),
        ("DELETE", r"/{v}/(?P<waba_id>[^/]+)/message_templates/?", delete_template),
        ("GET", r"/{v}/(?P<object_id>[^/]+)/?", get_object),
        ("POST", r"/{v}/(?P<object_id>[^/]+)/?", post_object),
        ("DELETE", r"/{v}/(?P<object_id>[^/]+)/?", delete_object),
    ],
)

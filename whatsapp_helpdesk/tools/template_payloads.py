"""What Meta receives for a message template, and what the customer sees. No Odoo.

* :func:`create_payload` builds the body of ``POST /{waba_id}/message_templates``, and
  :func:`edit_payload` the body of ``POST /{template_id}`` changing a template;
* :func:`send_components` builds ``template.components`` of a template message;
* :func:`render` gives the text a customer sees, for a preview.

AUTHENTICATION templates have a text fixed by Meta (``{{1}} is your verification code.``) and a
single one-time-password button. Their spec may carry ``add_security_recommendation`` (bool),
``code_expiration_minutes`` (int) and, on the button, ``otp_type`` (default ``COPY_CODE``).
"""

from collections.abc import Mapping

from .template_spec import (
    AUTHENTICATION,
    BUTTON_TYPES,
    COPY_CODE,
    DEFAULT_BUTTON_LABELS,
    MEDIA_HEADER_TYPES,
    NAMED,
    OTP,
    PHONE_NUMBER,
    PLACEHOLDER_RE,
    QUICK_REPLY,
    URL,
    brace,
    button_type,
    buttons_of,
    clean_parameter,
    header_type_of,
    is_authentication,
    mapping,
    ordered,
    parameter_format_of,
    placeholders,
    upper,
    value_at,
)
from .text import as_text

# --------------------------------------------------------------------------------------------
# Creation payload
# --------------------------------------------------------------------------------------------


def create_payload(spec: Mapping) -> dict:
    """The body of Meta's ``POST /{waba_id}/message_templates`` for ``spec``.

    Examples come from ``spec["samples"]`` (missing ones are sent empty: :func:`lint` first).
    Empty components are left out. Authentication templates get Meta's preset body, optional
    expiry footer and OTP button instead of the spec's texts.
    """
    spec = mapping(spec)
    category = upper(spec.get("category"))
    payload = {
        "name": as_text(spec.get("name")),
        "language": as_text(spec.get("language")).strip(),
        "category": category,
        "parameter_format": parameter_format_of(spec),
    }
    if category == AUTHENTICATION:
        payload["components"] = _authentication_components(spec)
        return payload
    named = payload["parameter_format"] == NAMED
    samples = mapping(spec.get("samples"))
    components = []
    header = _create_header(spec, samples, named)
    if header:
        components.append(header)
    body = as_text(spec.get("body"))
    if body:
        component = {"type": "BODY", "text": body}
        names = ordered(body)
        if names and named:
            examples = [_named_example(samples, "body", name) for name in names]
            component["example"] = {"body_text_named_params": examples}
        elif names:
            component["example"] = {"body_text": [[value_at(samples, "body", n) for n in names]]}
        components.append(component)
    footer = as_text(spec.get("footer"))
    if footer:
        components.append({"type": "FOOTER", "text": footer})
    buttons = [
        _create_button(index, button, samples) for index, button in enumerate(buttons_of(spec))
    ]
    buttons = [button for button in buttons if button]
    if buttons:
        components.append({"type": "BUTTONS", "buttons": buttons})
    payload["components"] = components
    return payload


def edit_payload(spec: Mapping) -> dict:
    """The body of Meta's ``POST /{template_id}`` changing a template to ``spec``: its category
    and components (name and language cannot change)."""
    payload = create_payload(spec)
    return {"category": payload["category"], "components": payload["components"]}


def _named_example(samples: Mapping, location: str, name: str) -> dict:
    return {"param_name": name, "example": value_at(samples, location, name)}


def _create_header(spec: Mapping, samples: Mapping, named: bool) -> dict | None:
    """The HEADER component, or None for no header."""
    header_type = header_type_of(spec)
    if header_type == "text":
        text = as_text(spec.get("header_text"))
        if not text:
            return None
        component = {"type": "HEADER", "format": "TEXT", "text": text}
        names = ordered(text)
        if names and named:
            examples = [_named_example(samples, "header", name) for name in names]
            component["example"] = {"header_text_named_params": examples}
        elif names:
            component["example"] = {"header_text": [value_at(samples, "header", n) for n in names]}
        return component
    if header_type in MEDIA_HEADER_TYPES:
        component = {"type": "HEADER", "format": header_type.upper()}
        handle = as_text(spec.get("header_handle")).strip()
        if handle:
            component["example"] = {"header_handle": [handle]}
        return component
    if header_type == "location":
        return {"type": "HEADER", "format": "LOCATION"}
    return None


def _create_button(index: int, button, samples: Mapping) -> dict | None:
    """One entry of the BUTTONS component; None for an unusable button."""
    kind = button_type(button)
    if kind == QUICK_REPLY:
        return {"type": QUICK_REPLY, "text": as_text(button.get("text"))}
    if kind == URL:
        url = as_text(button.get("url")).strip()
        result = {"type": URL, "text": as_text(button.get("text")), "url": url}
        if placeholders(url):
            location = f"button_{index}"
            example = PLACEHOLDER_RE.sub(lambda m: value_at(samples, location, m.group(1)), url)
            result["example"] = [example]
        return result
    if kind == PHONE_NUMBER:
        phone = as_text(button.get("phone_number")).strip()
        return {"type": PHONE_NUMBER, "text": as_text(button.get("text")), "phone_number": phone}
    if kind == COPY_CODE:
        return {"type": COPY_CODE, "example": as_text(button.get("example")).strip()}
    return None


def _authentication_components(spec: Mapping) -> list[dict]:
    """Preset BODY, optional expiry FOOTER and OTP BUTTONS of an authentication template."""
    body = {"type": "BODY"}
    if "add_security_recommendation" in spec:
        body["add_security_recommendation"] = bool(spec["add_security_recommendation"])
    components = [body]
    minutes = spec.get("code_expiration_minutes")
    if isinstance(minutes, int) and not isinstance(minutes, bool) and minutes > 0:
        components.append({"type": "FOOTER", "code_expiration_minutes": minutes})
    buttons = []
    for button in buttons_of(spec):
        if button_type(button) in (COPY_CODE, OTP):
            otp = {"type": OTP, "otp_type": upper(button.get("otp_type"), COPY_CODE)}
            text = as_text(button.get("text")).strip()
            if text:
                otp["text"] = text
            buttons.append(otp)
    if buttons:
        components.append({"type": "BUTTONS", "buttons": buttons})
    return components


# --------------------------------------------------------------------------------------------
# Send components
# --------------------------------------------------------------------------------------------


def send_components(spec: Mapping, values, *, header_media=None) -> list[dict]:
    """``template.components`` of a message sending the template ``spec``.

    ``values`` has the shape of ``samples`` (location -> {name: text}); text values are cleaned
    with :func:`clean_parameter`. ``header_media`` is the media object of an image, video or
    document header (``{"id": ...}`` or ``{"link": ...}``, documents may add ``"filename"``); a
    location header takes ``values["header"]["location"]`` (latitude, longitude, name,
    address). A copy code button sends ``values["button_<i>"]["code"]`` or else its example; a
    quick reply sends ``values["button_<i>"]["payload"]`` when given. For an authentication
    template the code is ``values["body"]["1"]`` (or the button's ``code``) and goes both in
    the body and in the OTP button.

    Raises :class:`ValueError` naming the placeholder when a value is missing or blank.
    """
    spec = mapping(spec)
    values = mapping(values)
    if is_authentication(spec):
        return _authentication_send(spec, values)
    named = parameter_format_of(spec) == NAMED
    components = []
    header = _send_header(spec, values, named, header_media)
    if header:
        components.append(header)
    body = _text_parameters(as_text(spec.get("body")), values, "body", named)
    if body:
        components.append({"type": "body", "parameters": body})
    for index, button in enumerate(buttons_of(spec)):
        component = _send_button(index, button, values)
        if component:
            components.append(component)
    return components


def _required(values: Mapping, location: str, name: str) -> str:
    value = value_at(values, location, name)
    if not value:
        raise ValueError(f"No value for the variable {brace(name)} of the {location}.")
    return value


def _text_parameters(text: str, values: Mapping, location: str, named: bool) -> list[dict]:
    """The text parameters of ``text``'s placeholders, in parameter order."""
    parameters = []
    for name in ordered(text):
        parameter = {"type": "text", "text": _required(values, location, name)}
        if named:
            parameter["parameter_name"] = name
        parameters.append(parameter)
    return parameters


def _send_header(spec: Mapping, values: Mapping, named: bool, header_media) -> dict | None:
    """The header component of a send, or None when the header takes no parameter."""
    header_type = header_type_of(spec)
    if header_type == "text":
        parameters = _text_parameters(as_text(spec.get("header_text")), values, "header", named)
        return {"type": "header", "parameters": parameters} if parameters else None
    if header_type in MEDIA_HEADER_TYPES:
        if not isinstance(header_media, Mapping) or not (
            header_media.get("id") or header_media.get("link")
        ):
            raise ValueError(f"The {header_type} header needs a media with an 'id' or a 'link'.")
        parameter = {"type": header_type, header_type: dict(header_media)}
        return {"type": "header", "parameters": [parameter]}
    if header_type == "location":
        location = mapping(values.get("header")).get("location")
        if not isinstance(location, Mapping) or not location:
            raise ValueError("The location header needs values['header']['location'].")
        parameter = {"type": "location", "location": dict(location)}
        return {"type": "header", "parameters": [parameter]}
    return None


def _send_button(index: int, button, values: Mapping) -> dict | None:
    """The button component of a send, or None when the button takes no parameter."""
    kind = button_type(button)
    location = f"button_{index}"
    if kind == URL:
        names = ordered(as_text(button.get("url")))
        if not names:
            return None
        parameters = [{"type": "text", "text": _required(values, location, n)} for n in names]
        return _button_component("url", index, parameters)
    if kind == COPY_CODE:
        code = value_at(values, location, "code") or clean_parameter(as_text(button.get("example")))
        if not code:
            raise ValueError(f"No code for the copy code button {index}.")
        parameter = {"type": "coupon_code", "coupon_code": code}
        return _button_component("copy_code", index, [parameter])
    if kind == QUICK_REPLY:
        payload = mapping(values.get(location)).get("payload")
        if payload is None or payload == "":
            return None
        payload = payload if isinstance(payload, str) else str(payload)
        parameter = {"type": "payload", "payload": payload}
        return _button_component("quick_reply", index, [parameter])
    return None


def _button_component(sub_type: str, index: int, parameters: list[dict]) -> dict:
    return {"type": "button", "sub_type": sub_type, "index": str(index), "parameters": parameters}


def _authentication_send(spec: Mapping, values: Mapping) -> list[dict]:
    """Body and OTP button components of an authentication template: the code in both."""
    buttons = [
        (index, button)
        for index, button in enumerate(buttons_of(spec))
        if button_type(button) in (COPY_CODE, OTP)
    ]
    code = value_at(values, "body", "1")
    for index, _button in buttons:
        code = code or value_at(values, f"button_{index}", "code")
    if not code:
        raise ValueError("No value for the verification code {{1}} of the body.")
    text = [{"type": "text", "text": code}]
    components = [{"type": "body", "parameters": text}]
    components += [_button_component("url", index, text) for index, _button in buttons]
    return components


# --------------------------------------------------------------------------------------------
# Preview
# --------------------------------------------------------------------------------------------


def render(spec: Mapping, values=None) -> dict:
    """The texts a customer sees: ``{"header", "body", "footer", "buttons"}``.

    Placeholders are replaced by their cleaned value from ``values`` (shaped like ``samples``);
    missing ones stay as ``{{name}}``. ``header`` is '' unless the header is text; ``buttons``
    lists the button labels.
    """
    spec = mapping(spec)
    values = mapping(values)

    def fill(text: str, location: str) -> str:
        def replace(match) -> str:
            name = match.group(1)
            return value_at(values, location, name) or brace(name)

        return PLACEHOLDER_RE.sub(replace, text)

    header = ""
    if header_type_of(spec) == "text":
        header = fill(as_text(spec.get("header_text")), "header")
    labels = []
    for button in buttons_of(spec):
        kind = button_type(button)
        if kind in BUTTON_TYPES:
            label = as_text(button.get("text")).strip()
            labels.append(label or DEFAULT_BUTTON_LABELS.get(kind, ""))
    return {
        "header": header,
        "body": fill(as_text(spec.get("body")), "body"),
        "footer": as_text(spec.get("footer")),
        "buttons": labels,
    }

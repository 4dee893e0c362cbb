"""Meta's message templates read into our terms (plain dicts). No Odoo import.

* :func:`status_of` maps a template status of Meta's (``APPROVED``, ``PAUSED``,
  ``PENDING_DELETION``...) to ours, :func:`read_created` reads Meta's answer to a submission;
* :func:`read_listed` reads an item of ``GET /{waba_id}/message_templates`` (see
  ``CloudApiClient.list_templates``): its id, review and content, the content as a template spec
  (see :mod:`.template_spec`) whose ``samples`` come from Meta's examples.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from .template_spec import CATEGORIES, POSITIONAL, QUICK_REPLY, UTILITY, as_text, mapping, upper

# Meta's template statuses and ours (a template being deleted can no longer be sent).
STATUSES = {
    "PENDING": "pending",
    "APPROVED": "approved",
    "REJECTED": "rejected",
    "PAUSED": "paused",
    "DISABLED": "disabled",
    "IN_APPEAL": "in_appeal",
    "PENDING_DELETION": "disabled",
    "DELETED": "disabled",
    "REINSTATED": "approved",
    "FLAGGED": "approved",
    "LIMIT_EXCEEDED": "rejected",
}
DEFAULT_STATUS = "pending"


def status_of(meta_status, default=DEFAULT_STATUS) -> str:
    """Our status for Meta's ``meta_status`` (any case); ``default`` for an unknown one."""
    return STATUSES.get(upper(meta_status), default)


def read_created(answer) -> tuple[str, str]:
    """``(template id, our status)`` from Meta's answer to ``POST /{waba_id}/message_templates``
    (``{"id", "status", "category"}``): a template without a status is in review."""
    answer = mapping(answer)
    return as_text(answer.get("id")), status_of(answer.get("status"))


@dataclass(frozen=True)
class ListedTemplate:
    """A template as Meta lists it.

    ``meta_id`` is Meta's template id, ``status`` ours (:func:`status_of`), ``rejected_reason``
    and ``quality_score`` are '' when Meta gives none, ``spec`` is the content as a template spec
    with the samples of its header and body.
    """

    meta_id: str
    status: str
    rejected_reason: str
    quality_score: str
    spec: dict


def read_listed(data) -> ListedTemplate:
    """The :class:`ListedTemplate` of one item of Meta's template list."""
    data = mapping(data)
    reason = as_text(data.get("rejected_reason"))
    return ListedTemplate(
        meta_id=as_text(data.get("id")),
        status=status_of(data.get("status")),
        rejected_reason="" if reason == "NONE" else reason,
        quality_score=as_text(mapping(data.get("quality_score")).get("score")),
        spec=spec_from_meta(data),
    )


def spec_from_meta(data) -> dict:
    """The template spec of Meta's template ``data``: an unknown category reads as UTILITY, a
    header without format as text, a button without type as a quick reply."""
    data = mapping(data)
    category = upper(data.get("category"))
    components = _list(data.get("components"))
    spec = {
        "name": as_text(data.get("name")),
        "language": as_text(data.get("language")),
        "category": category if category in CATEGORIES else UTILITY,
        "parameter_format": upper(data.get("parameter_format"), POSITIONAL),
        "header_type": "none",
        "header_text": "",
        "body": "",
        "footer": "",
        "buttons": [],
        "samples": samples_from_components(components),
    }
    for component in components:
        kind = upper(component.get("type"))
        if kind == "HEADER":
            spec["header_type"] = upper(component.get("format"), "TEXT").lower()
            spec["header_text"] = as_text(component.get("text"))
        elif kind == "BODY":
            spec["body"] = as_text(component.get("text"))
        elif kind == "FOOTER":
            spec["footer"] = as_text(component.get("text"))
        elif kind == "BUTTONS":
            spec["buttons"] = [_button(button) for button in _list(component.get("buttons"))]
    return spec


def samples_from_components(components) -> dict:
    """``{location: {placeholder: sample}}`` from the examples of Meta's header and body
    components, positional (``{"1": ...}``) or named."""
    samples = {}
    for component in _list(components):
        kind = upper(component.get("type"))
        example = mapping(component.get("example"))
        if kind == "BODY":
            positional = (_list(example.get("body_text"), keep=list) or [[]])[0]
            samples["body"] = _numbered(positional)
            samples["body"].update(_named(example.get("body_text_named_params")))
        elif kind == "HEADER":
            samples["header"] = _numbered(_list(example.get("header_text"), keep=str))
            samples["header"].update(_named(example.get("header_text_named_params")))
    return samples


def _button(button: Mapping) -> dict:
    """A spec button from Meta's; the example of a URL button is its example URL."""
    examples = button.get("example")
    example = examples[0] if isinstance(examples, list) and examples else examples
    return {
        "type": upper(button.get("type"), QUICK_REPLY),
        "text": as_text(button.get("text")),
        "url": as_text(button.get("url")),
        "phone_number": as_text(button.get("phone_number")),
        "example": as_text(example),
    }


def _list(value, keep=Mapping) -> list:
    """The items of ``value`` of type ``keep``; nothing when ``value`` is not a list."""
    return [item for item in value if isinstance(item, keep)] if isinstance(value, list) else []


def _numbered(values) -> dict:
    return {str(index): as_text(value) for index, value in enumerate(values, start=1)}


def _named(params) -> dict:
    return {
        as_text(param.get("param_name")): as_text(param.get("example")) for param in _list(params)
    }

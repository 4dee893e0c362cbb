"""Meta's webhook events as plain frozen records, the limits they are held to, and which configured
accounts an event belongs to. No Odoo import."""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

MAX_BODY_BYTES = 3 * 1024 * 1024
"""Largest webhook body accepted; the controller answers 413 above it, ``parse`` refuses it."""

MAX_ID_CHARS = 256
"""Longest id (wamid, phone number id, WhatsApp id, BSUID, template id) an event may carry.

Meta's ids are well under 200 characters; a longer one is refused before it reaches a unique
btree index (whose entries are limited to about 2,700 bytes).
"""
MAX_DEPTH = 32
"""JSON nesting kept; deeper parts (Meta's deepest is about 8) are replaced by ``None``."""
MAX_INT_DIGITS = 40
"""Integers longer than this are read as ``None`` (Python refuses to parse past 4,300 digits)."""
MIN_TIMESTAMP = 946684800  # 2000-01-01T00:00:00Z
MAX_TIMESTAMP = 4102444800  # 2100-01-01T00:00:00Z

WABA_OBJECT = "whatsapp_business_account"
MESSAGES_FIELD = "messages"
TEMPLATE_FIELDS = frozenset(
    {
        "message_template_status_update",
        "message_template_quality_update",
        "message_template_components_update",
        "template_category_update",
    }
)
ACCOUNT_FIELDS = frozenset(
    {
        "account_update",
        "account_review_update",
        "account_alerts",
        "business_capability_update",
        "phone_number_quality_update",
        "phone_number_name_update",
    }
)
MEDIA_TYPES = frozenset({"image", "document", "audio", "video", "sticker"})


class WebhookError(ValueError):
    """A webhook request or body that is malformed; the message is short and human readable."""


class HandshakeError(WebhookError):
    """Meta's GET verification request was refused (wrong mode, token or missing challenge)."""


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


def _digest(*parts) -> str:
    """A short stable hash of JSON-able ``parts``: the identity of events that carry no id."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:40]


@dataclass(frozen=True, slots=True)
class MessageError:
    """One entry of an ``errors`` array (webhook, message or status level)."""

    code: int | None
    title: str = ""
    message: str = ""
    details: str = ""
    href: str = ""


@dataclass(frozen=True, slots=True)
class Media:
    """Media object of an image, document, audio, video or sticker message.

    Download it by ``id``; newer webhooks also carry a short-lived download ``url``.
    """

    id: str
    mime_type: str = ""
    sha256: str = ""
    filename: str = ""
    caption: str = ""
    voice: bool = False
    animated: bool = False
    url: str = ""


@dataclass(frozen=True, slots=True)
class Location:
    """A shared location."""

    latitude: float
    longitude: float
    name: str = ""
    address: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class ContactPhone:
    """One phone of a shared contact card: the number, its label and its own WhatsApp id."""

    phone: str
    type: str = ""
    wa_id: str = ""


@dataclass(frozen=True, slots=True)
class SharedContact:
    """One contact card of a ``contacts`` message."""

    name: str
    phones: tuple[ContactPhone, ...] = ()
    emails: tuple[str, ...] = ()
    organization: str = ""
    raw: dict = field(default_factory=dict)

    @property
    def wa_ids(self) -> tuple[str, ...]:
        return tuple(phone.wa_id for phone in self.phones if phone.wa_id)


@dataclass(frozen=True, slots=True)
class InteractiveReply:
    """Reply to an interactive message: ``button_reply``, ``list_reply`` or ``nfm_reply`` (Flow).

    For a Flow reply ``id`` is None, ``title`` is the reply body and ``response`` the decoded
    ``response_json`` object (None when absent or not a JSON object).
    """

    kind: str
    id: str | None
    title: str = ""
    description: str = ""
    name: str = ""
    response: dict | None = None


@dataclass(frozen=True, slots=True)
class ButtonReply:
    """Quick-reply button of a template message (message type ``button``)."""

    payload: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class Reaction:
    """Reaction to ``message_id``; an empty ``emoji`` means the reaction was removed."""

    message_id: str
    emoji: str = ""


@dataclass(frozen=True, slots=True)
class Context:
    """What a message replies to or how it was forwarded."""

    from_: str = ""
    id: str = ""
    forwarded: bool = False
    frequently_forwarded: bool = False
    referred_product: dict | None = None


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One product line of an ``order`` message."""

    product_retailer_id: str
    quantity: int | None = None
    item_price: float | None = None
    currency: str = ""


@dataclass(frozen=True, slots=True)
class Order:
    """A cart sent from a catalog (message type ``order``)."""

    catalog_id: str
    text: str = ""
    items: tuple[OrderItem, ...] = ()


@dataclass(frozen=True, slots=True)
class SystemNotice:
    """A ``system`` message, e.g. ``user_changed_number`` (then ``new_wa_id`` is set)."""

    kind: str
    body: str = ""
    new_wa_id: str = ""


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A message a WhatsApp user sent to one of our phone numbers.

    The sender is ``wa_id`` (``from``, the phone number as digits) and/or ``user_id`` (the
    business-scoped user id, BSUID, of a user who may hide the number behind a ``username``): at
    least one of them is set. ``text`` is a human readable summary for the thread; the attribute
    named like ``type`` holds the content (``media`` for the media types); ``subtype`` is the kind
    of an ``unsupported`` message (e.g. ``edit``); ``raw`` is the message object as received.
    """

    waba_id: str
    phone_number_id: str
    display_phone_number: str
    wa_id: str
    profile_name: str
    wamid: str
    timestamp: int
    type: str
    text: str = ""
    media: Media | None = None
    location: Location | None = None
    contacts: tuple[SharedContact, ...] = ()
    interactive: InteractiveReply | None = None
    button: ButtonReply | None = None
    reaction: Reaction | None = None
    context: Context | None = None
    referral: dict | None = None
    errors: tuple[MessageError, ...] = ()
    raw: dict = field(default_factory=dict)
    order: Order | None = None
    system: SystemNotice | None = None
    user_id: str = ""
    username: str = ""
    subtype: str = ""

    @property
    def key(self) -> str:
        """Stable identity of the event, used to store redeliveries once."""
        return "msg:" + self.wamid

    @property
    def sender(self) -> str:
        """The sender's number when Meta shares it, else its BSUID."""
        return self.wa_id or self.user_id


@dataclass(frozen=True, slots=True)
class Pricing:
    """The ``pricing`` block of a status (``pricing_model`` e.g. ``PMP``)."""

    billable: bool | None
    pricing_model: str = ""
    category: str = ""
    type: str = ""


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """Delivery status of a message we sent; ``status`` is lower-cased (sent, delivered, ...)."""

    waba_id: str
    phone_number_id: str
    wamid: str
    status: str
    timestamp: int
    recipient_id: str = ""
    conversation_id: str = ""
    conversation_origin: str = ""
    conversation_expiration: int | None = None
    pricing: Pricing | None = None
    errors: tuple[MessageError, ...] = ()
    biz_opaque_callback_data: str = ""
    raw: dict = field(default_factory=dict)
    display_phone_number: str = ""
    recipient_user_id: str = ""

    @property
    def key(self) -> str:
        """Stable identity of the event, used to store redeliveries once."""
        return f"st:{self.wamid}:{self.status}"


@dataclass(frozen=True, slots=True)
class TemplateUpdate:
    """A template status, quality, category or components change (``field`` tells which).

    ``category`` is the template's category as Meta sees it after a status change;
    ``rejection_reason`` / ``rejection_recommendation`` explain a rejection. A category *notice*
    (``correct_category`` set) announces that the category will become ``correct_category`` at
    ``category_update_at``: nothing has changed yet.
    """

    waba_id: str
    field: str
    event: str
    template_id: str
    name: str = ""
    language: str = ""
    reason: str = ""
    new_quality_score: str = ""
    previous_quality_score: str = ""
    new_category: str = ""
    previous_category: str = ""
    timestamp: int | None = None
    raw: dict = field(default_factory=dict)
    category: str = ""
    rejection_reason: str = ""
    rejection_recommendation: str = ""
    correct_category: str = ""
    category_update_at: int | None = None

    @property
    def key(self) -> str:
        """Stable identity of the event; a missing part (e.g. no entry ``time``) reads as ''."""
        change = self.event or self.new_quality_score or self.new_category
        if self.correct_category:
            change = f"notice:{self.correct_category}:{self.category_update_at or ''}"
        timestamp = "" if self.timestamp is None else str(self.timestamp)
        return f"tpl:{self.template_id}:{self.field}:{change}:{timestamp}"


@dataclass(frozen=True, slots=True)
class Restriction:
    """One ``restriction_info`` item of an account update (e.g. no business-initiated chats)."""

    type: str
    expiration: str = ""


@dataclass(frozen=True, slots=True)
class AccountUpdate:
    """A change of the business account or of one of its phone numbers.

    ``field`` is the webhook field (``account_update``, ``phone_number_quality_update``,
    ``phone_number_name_update``, ``business_capability_update``...), ``event`` Meta's event name
    (``ACCOUNT_VIOLATION``, ``DISABLED_UPDATE``, ``FLAGGED``, ``UPGRADE``...). The phone number
    it concerns, when it names one, is ``display_phone_number`` (digits). ``messaging_limit`` is
    the tier Meta now allows (``TIER_250``, ``TIER_2K``, ..., ``TIER_UNLIMITED``) and
    ``previous_limit`` the one before; ``daily_conversation_limit`` is a numeric limit of a
    capability update.
    """

    waba_id: str
    field: str
    event: str = ""
    display_phone_number: str = ""
    timestamp: int | None = None
    ban_state: str = ""
    ban_date: str = ""
    violation_type: str = ""
    restrictions: tuple[Restriction, ...] = ()
    messaging_limit: str = ""
    previous_limit: str = ""
    daily_conversation_limit: int | None = None
    decision: str = ""
    requested_name: str = ""
    rejection_reason: str = ""
    raw: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Stable identity: these changes carry no id, so their content and date make one."""
        return f"acct:{self.waba_id}:{self.field}:{_digest(self.timestamp, self.raw)}"


@dataclass(frozen=True, slots=True)
class AccountError:
    """An error Meta reports for a phone number outside any message (``value.errors``), e.g.
    130429 when a burst went past the throughput limit."""

    waba_id: str
    phone_number_id: str
    error: MessageError
    timestamp: int | None = None
    display_phone_number: str = ""
    raw: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"err:{self.phone_number_id}:{_digest(self.timestamp, self.raw)}"


@dataclass(frozen=True, slots=True)
class Rejected:
    """A part of a well-formed notification that could not be read: kept, never silently lost.

    ``where`` is its path in the body, ``reason`` why it was refused and ``raw`` the part itself;
    ``waba_id`` and ``phone_number_id`` say, when known, which account it belongs to.
    """

    where: str
    reason: str
    raw: object = None
    waba_id: str = ""
    phone_number_id: str = ""

    @property
    def key(self) -> str:
        return f"bad:{_digest(self.where, self.raw, self.waba_id, self.phone_number_id)}"


@dataclass(frozen=True, slots=True)
class OtherChange:
    """A change of a field this module does not interpret (``security``, ``flows``...)."""

    waba_id: str
    field: str
    value: dict
    timestamp: int | None = None

    @property
    def key(self) -> str:
        return f"other:{self.waba_id}:{self.field}:{_digest(self.timestamp, self.value)}"


@dataclass(frozen=True, slots=True)
class WebhookBatch:
    """Everything one webhook POST carried, in body order within each list.

    ``errors`` holds the webhook-level ``value.errors`` (also as :attr:`account_errors`, with
    their phone number); ``profile_names`` maps the sender (``wa_id`` or BSUID) to the WhatsApp
    profile name from ``value.contacts``; ``rejected`` the parts that could not be read.
    ``len()`` counts :attr:`events` only.
    """

    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    template_updates: list[TemplateUpdate] = field(default_factory=list)
    other: list[OtherChange] = field(default_factory=list)
    errors: list[MessageError] = field(default_factory=list)
    profile_names: dict[str, str] = field(default_factory=dict)
    account_updates: list[AccountUpdate] = field(default_factory=list)
    account_errors: list[AccountError] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def events(self) -> list:
        """Every record that carries a ``key``: messages, statuses, template and account updates,
        account errors, then the changes not interpreted and the rejected parts."""
        return [
            *self.messages,
            *self.statuses,
            *self.template_updates,
            *self.account_updates,
            *self.account_errors,
            *self.other,
            *self.rejected,
        ]

    def __len__(self) -> int:
        return len(self.events)


# --------------------------------------------------------------------------------------------
# Which accounts an event speaks for
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Routes:
    """Where events go: ``by_phone`` maps a phone number id, ``by_waba`` a business account id
    and ``by_display`` a displayed number (digits) to the configured account(s)."""

    by_phone: Mapping[str, object] = field(default_factory=dict)
    by_waba: Mapping[str, frozenset] = field(default_factory=dict)
    by_display: Mapping[str, object] = field(default_factory=dict)


def owners(event, routes: Routes) -> frozenset:
    """The accounts ``event`` belongs to; empty when it names none that is configured.

    A message, status or webhook-level error names its phone number id; a template change its
    business account; an account change its business account, narrowed to one number when it
    names a displayed number we know.
    """
    phone_number_id = getattr(event, "phone_number_id", "")
    if phone_number_id:
        owner = routes.by_phone.get(phone_number_id)
        return frozenset() if owner is None else frozenset({owner})
    display = getattr(event, "display_phone_number", "")
    if isinstance(event, AccountUpdate) and display and display in routes.by_display:
        return frozenset({routes.by_display[display]})
    return frozenset(routes.by_waba.get(getattr(event, "waba_id", ""), ()))

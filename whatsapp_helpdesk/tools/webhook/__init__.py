"""Meta webhook intake: X-Hub-Signature-256 check, GET handshake, payload parsing. No Odoo import.

:func:`parse` turns a WhatsApp Business Account notification into plain frozen records: inbound
messages, delivery statuses, template and account updates, webhook-level errors, the changes it
does not interpret and the parts it cannot read (kept with their reason). A body that is not a
notification at all raises :class:`WebhookError`, and nothing else escapes. :func:`owners` tells
which configured accounts an event speaks for.

* :mod:`.signature`: signing, the signature check, the GET handshake;
* :mod:`.records`: the records and the limits they are held to;
* :mod:`.safe_json`: decoding outside JSON into what PostgreSQL can store;
* :mod:`.parse`: from a body to a :class:`WebhookBatch`;
* :mod:`.stored`: an event in its own JSON form, for the durable inbox.
"""

from .parse import parse
from .records import (
    ACCOUNT_FIELDS,
    MAX_BODY_BYTES,
    MAX_DEPTH,
    MAX_ID_CHARS,
    MAX_INT_DIGITS,
    MAX_TIMESTAMP,
    MEDIA_TYPES,
    MESSAGES_FIELD,
    MIN_TIMESTAMP,
    TEMPLATE_FIELDS,
    WABA_OBJECT,
    AccountError,
    AccountUpdate,
    ButtonReply,
    ContactPhone,
    Context,
    HandshakeError,
    InboundMessage,
    InteractiveReply,
    Location,
    Media,
    MessageError,
    Order,
    OrderItem,
    OtherChange,
    Pricing,
    Reaction,
    Rejected,
    Restriction,
    Routes,
    SharedContact,
    StatusUpdate,
    SystemNotice,
    TemplateUpdate,
    WebhookBatch,
    WebhookError,
    owners,
)
from .signature import SIGNATURE_PREFIX, handshake, sign, signing_secrets, verify_signature
from .stored import from_stored, to_stored

"""A local WhatsApp Cloud API sandbox: a Graph API look-alike on 127.0.0.1. No Odoo import.

Development infrastructure: ``make run``, the tests (plain and Odoo) and the benchmarks play Meta
with it, so that the product can be tried and tested before any Meta credentials exist. The
addon's models and controllers never import it; production talks to graph.facebook.com.

It answers the documented Graph API shapes (send messages, media, message templates, Meta's error
bodies) and posts Meta-shaped, signed webhooks (inbound messages, ``sent`` / ``delivered`` /
``read`` / ``failed`` statuses, template reviews) to ``webhook_url`` from one ordered worker thread.
Knobs simulate the awkward cases: latency, random retryable errors, 429 bursts, 500 errors with
Meta's "Something went wrong" body or (after accepting the send) without any Graph error, answers
that never come in time, undeliverable numbers, the 24-hour customer service window and pair rate
limits. A deterministic chat-completions model (``/llm/v1``) plays the assistant's language
model, with its own latency and error knobs. Message templates are reviewed like Meta's
(PENDING, then APPROVED, or REJECTED when the name contains ``reject``) and template sends are
checked against them.

The package, bottom up (each module imports only those above it in this list):

* :mod:`.config`: the identity and knobs (``SandboxConfig``), their coercion and environment;
* :mod:`.errors`: Meta's Graph errors;
* :mod:`.templates`: template review and the checks of template sends;
* :mod:`.webhooks`: the ordered webhook worker and the signed post of one webhook;
* :mod:`.inbound`: what simulated customers send, and media files;
* :mod:`.state`: ``SandboxState``, everything the sandbox knows and does, without HTTP;
* :mod:`.web`: one request and answer as the routes see them, and route tables;
* :mod:`.graph`, :mod:`.control` and :mod:`.chat`: the Graph API routes, the control routes
  behind the control token (with the page ``control.html``), and a language model answering
  OpenAI-compatible chat completions under ``/llm/v1`` (for the assistant's provider);
* :mod:`.server`: ``Sandbox``, the state served over HTTP;
* :mod:`.cli` (``__main__``): the command line.

A person drives it from the control page ``/_sandbox/?token=...`` or the CLI; tests drive it from
Python::

    sandbox = Sandbox(SandboxConfig(port=0, webhook_url="http://127.0.0.1:8069/whatsapp/webhook"))
    sandbox.start()
    sandbox.inject("15551234567", text="Hello, my order is late")
    ...
    sandbox.stop()

Command line (from the addon directory)::

    python -m tools.sandbox serve --webhook-url http://127.0.0.1:8069/whatsapp/webhook
    python -m tools.sandbox say --from 15551234567 --name Alice "Hello"
    python -m tools.sandbox config burst_429=3 fail_numbers=15550009999
"""

from .cli import main
from .config import (
    CONTROL_TOKEN_ENV,
    DEFAULT_PORT,
    DEFAULT_URL,
    ENV_PREFIX,
    SandboxConfig,
    coerce_knob,
    config_from_env,
    knobs_of,
)
from .control import TOKEN_HEADER
from .errors import ControlError, GraphError
from .graph import validate_message
from .inbound import Media
from .server import Sandbox
from .state import SandboxState
from .templates import check_template_content, check_template_parameters, template_definition
from .web import Request, Response

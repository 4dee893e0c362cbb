"""The sandbox's state: what the simulated Cloud API knows and does, without any HTTP.

:class:`SandboxState` holds the knobs, the accepted sends, the webhook deliveries, the media and
the templates, applies the knobs to a send, plays the customers (``inject``) and Meta's template
decisions (``template_event``, ``template_quality``), and schedules the webhooks on its worker.
The HTTP layer (``server.py``, with the routes of ``graph.py`` and ``control.py``) is built on top
of it and receives it; nothing here imports that layer.
"""

import copy
import logging
import random
import threading
import time
from concurrent.futures import Future

from .. import payloads
from . import inbound, templates
from .config import (
    FIELDS,
    FIXED_KNOBS,
    SECRET_KNOBS,
    WINDOW_SECONDS,
    SandboxConfig,
    coerce_knob,
    digits,
    knobs_of,
)
from .errors import (
    internal_error,
    pair_rate_limited,
    rate_limited,
    template_disabled,
    template_invalid,
    template_missing,
    template_paused,
    window_closed,
)
from .inbound import Media
from .webhooks import Job, WebhookWorker, deliver

_logger = logging.getLogger(__name__)


class SandboxState:
    """The simulated Cloud API behind the HTTP layer, with its webhook worker thread.

    Recorded state (read it, do not mutate it): ``sent`` (accepted outbound messages),
    ``deliveries`` (webhook posts), ``read_receipts``, ``media`` (id -> ``Media``) and
    ``templates`` (id -> template dict).
    """

    def __init__(self, config: SandboxConfig | None = None):
        self.config = config or SandboxConfig()
        self._initial = copy.deepcopy(self.config)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._worker = WebhookWorker(self._post_job)
        self._reset_state()

    # -- life cycle

    def start(self):
        """Start the webhook worker; return ``self``."""
        self._stopping.clear()
        self._worker.start()
        return self

    def stop(self) -> None:
        """Drop the pending webhooks and release the held-back answers."""
        self._stopping.set()
        self._worker.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._worker.running

    @property
    def base_url(self) -> str:
        """``http://host:port`` as configured (the HTTP layer gives the address it is bound to)."""
        host = self.config.host
        if host in ("", "0.0.0.0", "::"):
            host = "127.0.0.1"
        return f"http://{host}:{self.config.port}"

    def hold(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if the sandbox stops meanwhile."""
        self._stopping.wait(seconds)

    # -- configuration and records

    def configure(self, **knobs) -> dict:
        """Change knobs at run time (strings are coerced); return all of them but the secrets."""
        fixed = set(knobs) & set(FIXED_KNOBS)
        if fixed and self.running:
            raise ValueError(f"cannot change {', '.join(sorted(fixed))} while running")
        values = {name: coerce_knob(name, value) for name, value in knobs.items()}
        with self._lock:
            for name, value in values.items():
                setattr(self.config, name, value)
            if "seed" in values:
                self._random.seed(values["seed"])
        shown = {name: "***" if name in SECRET_KNOBS else value for name, value in values.items()}
        _logger.info("sandbox knobs changed: %s", shown)
        return self.knobs()

    def knobs(self) -> dict:
        """The current configuration as a JSON-ready dict, without the secrets."""
        with self._lock:
            return knobs_of(self.config)

    def reset(self) -> None:
        """Forget everything recorded, drop pending webhooks, restore the initial knobs."""
        self._worker.clear()
        with self._lock:
            for name in FIELDS:
                if name not in FIXED_KNOBS:
                    setattr(self.config, name, copy.deepcopy(getattr(self._initial, name)))
            self._reset_state()
            self._changed.notify_all()

    def _reset_state(self) -> None:
        self.sent = []
        self.deliveries = []
        self.read_receipts = []
        self.media = {}
        template = templates.hello_world_template()
        self.templates = {template["id"]: template}
        self._reviews = {}  # template id -> token of its pending review
        self._last_inbound = {}
        self._last_send = {}
        self._conversations = {}
        self.chat_calls = []
        self._random = random.Random(self.config.seed)

    def recent(self, records: str, limit: int = 0) -> list:
        """A copy of the last ``limit`` items (all without a positive limit) of ``sent``,
        ``deliveries`` or ``chat_calls``."""
        if records not in ("sent", "deliveries", "chat_calls"):
            raise ValueError(f"no records {records!r}")
        with self._lock:
            items = getattr(self, records)
            return copy.deepcopy(items[-limit:] if limit > 0 else items)

    def wait_for_deliveries(self, n: int, timeout: float = 10) -> bool:
        """Wait until at least ``n`` webhook posts are recorded; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self.deliveries) >= n, timeout)

    def window_open(self, wa_id: str, now: float | None = None) -> bool:
        """Whether ``wa_id`` wrote in the last 24 hours (free-form messages allowed)."""
        now = time.time() if now is None else now
        with self._lock:
            last = self._last_inbound.get(digits(wa_id))
        return last is not None and now - last < WINDOW_SECONDS

    # -- outbound messages

    def accept_send(
        self, phone_number_id: str, body: dict, type_: str, at: float | None = None
    ) -> tuple[dict, float, bool]:
        """Apply the knobs to a valid send (raising their errors), record it and schedule its
        statuses. Returns (the recorded entry, seconds to hold the answer back, whether the answer
        is lost: HTTP 503 without a Graph error although the message left). ``at``: the instant
        it is taken in (``time.time()``; default now)."""
        with self._lock:
            entry = self._accept(phone_number_id, body, type_, at)
            delay = self.config.timeout_seconds if self._consume_one_shot("timeout_next") else 0.0
            lost_answer = self._consume_one_shot("gateway_error_next")
        self._schedule_statuses(entry)
        return entry, delay, lost_answer

    def record_read_receipt(self, message_id: str) -> None:
        """The business marked the customer's message ``message_id`` as read."""
        with self._lock:
            self.read_receipts.append({"message_id": message_id, "time": time.time()})

    def _accept(self, phone_number_id: str, body: dict, type_: str, at=None) -> dict:
        """Apply the knobs to a valid send (raising their errors), then record it."""
        to = digits(body["to"]) if "to" in body else body["recipient"]
        now = time.time() if at is None else at
        self._check_knobs(to, type_, now)
        category, billable = self._pricing_of(body, type_)
        entry = {
            "wamid": payloads.new_wamid(),
            "to": to,
            "type": type_,
            "payload": body,
            "time": now,
            "phone_number_id": phone_number_id,
            "category": category,
            "billable": billable,
            "conversation_id": self._conversation_id(to, category, now),
            "status": "accepted",
        }
        self.sent.append(entry)
        self._last_send[to] = now
        _logger.info("accepted %s to %s: %s", type_, to, entry["wamid"])
        return entry

    def _check_knobs(self, to: str, type_: str, now: float) -> None:
        """Raise the error the knobs ask for this send, if any (called under the lock)."""
        cfg = self.config
        if self._consume_one_shot("burst_429"):
            raise rate_limited()
        if self._consume_one_shot("burst_500"):
            raise internal_error()
        if cfg.error_rate and self._random.random() < cfg.error_rate:
            raise self._random.choice((internal_error, rate_limited))()
        if cfg.enforce_window and type_ != "template" and not self.window_open(to, now):
            raise window_closed()
        last = self._last_send.get(to)
        if cfg.pair_gap_ms > 0 and last is not None and (now - last) * 1000 < cfg.pair_gap_ms:
            raise pair_rate_limited()

    def _consume_one_shot(self, name: str) -> bool:
        """Count the one-shot knob ``name`` down; True when this send uses it (under the lock)."""
        left = getattr(self.config, name)
        if left <= 0:
            return False
        setattr(self.config, name, left - 1)
        return True

    def _pricing_of(self, body: dict, type_: str) -> tuple[str, bool]:
        """(category, billable): templates are billed by their category, the rest is service."""
        if type_ != "template":
            return "service", False
        template = self.find_template(
            body["template"]["name"], body["template"]["language"]["code"]
        )
        template = template or self.find_template(body["template"]["name"])
        category = template["category"].lower() if template else templates.DEFAULT_TEMPLATE_CATEGORY
        return category, True

    def _conversation_id(self, to: str, category: str, now: float) -> str:
        """The open conversation of (``to``, ``category``), or a new 24-hour one."""
        current = self._conversations.get((to, category))
        if current and current[1] > now:
            return current[0]
        conversation_id = payloads.new_conversation_id()
        self._conversations[(to, category)] = (conversation_id, now + WINDOW_SECONDS)
        return conversation_id

    # -- the language model

    def accept_chat(self, body: dict) -> tuple[dict, str | None, float]:
        """Apply the chat knobs to a valid completion request and record it. Returns (the
        recorded entry, the fault to answer: ``error``, ``garbage`` or None, seconds to hold the
        answer back)."""
        with self._lock:
            delay = self.config.chat_latency_ms / 1000
            fault = None
            if self._consume_one_shot("chat_error_next"):
                fault = "error"
            elif self._consume_one_shot("chat_garbage_next"):
                fault = "garbage"
            if self._consume_one_shot("chat_timeout_next"):
                delay += self.config.timeout_seconds
            entry = {
                "time": time.time(),
                "model": body.get("model"),
                "messages": copy.deepcopy(body.get("messages")),
                "fault": fault,
                "answer": None,
            }
            self.chat_calls.append(entry)
        return entry, fault, delay

    def record_chat_answer(self, entry: dict, content: str) -> None:
        with self._lock:
            entry["answer"] = content

    # -- media

    def store_media(self, data: bytes, mime_type: str, filename=None) -> Media:
        """Keep a file (uploaded by the business, or sent by a customer); return it."""
        media = Media.of(data, mime_type, filename)
        with self._lock:
            self.media[media.id] = media
        return media

    def media_by_id(self, media_id: str) -> Media | None:
        with self._lock:
            return self.media.get(media_id)

    def delete_media(self, media_id: str) -> bool:
        """Forget the media ``media_id``; False when there was none."""
        with self._lock:
            return self.media.pop(media_id, None) is not None

    # -- message templates

    def add_template(self, name, **fields) -> dict:
        """Register a template as is, without review nor validation (tests set up with this).

        ``fields`` are those of ``templates.new_template`` (``category``, ``language``,
        ``components``, ``status``, ``parameter_format``; anything else is stored as given).
        Sends of it are checked against its ``components`` and billed with its category.
        """
        template = templates.new_template(name, **fields)
        with self._lock:
            self.templates[template["id"]] = template
        return template

    def find_template(self, name: str, language: str | None = None) -> dict | None:
        """The template ``name`` (in ``language`` when given), or None."""
        with self._lock:
            for template in self.templates.values():
                if template["name"] == name and language in (None, template["language"]):
                    return template
        return None

    def template_copy(self, template_id: str) -> dict | None:
        """A copy of the template ``template_id``, or None."""
        with self._lock:
            return copy.deepcopy(self.templates.get(template_id))

    def matching_templates(self, name_part: str = "", status: str | None = None) -> list[dict]:
        """Copies of the templates whose name holds ``name_part`` (and in ``status``, if given)."""
        with self._lock:
            return [
                copy.deepcopy(t)
                for t in self.templates.values()
                if name_part in t["name"]
                and (t["status"] if status is None else status).upper() == t["status"]
            ]

    def create_template(self, definition: dict) -> dict:
        """A new PENDING template from a checked ``definition`` (``templates.template_definition``),
        reviewed later; ``template_invalid`` when the name exists in that language."""
        name, language = definition["name"], definition["language"]
        with self._lock:
            if self.find_template(name, language):
                raise template_invalid(
                    "Content in This Language Already Exists",
                    f"There is already {language} content for this template. You can create a "
                    "new template and try again.",
                    2388024,
                )
            template = self.add_template(**definition, status="PENDING")
        _logger.info("template %s (%s) created: PENDING", name, language)
        self._schedule_review(template)
        return template

    def edit_template(self, template_id: str, changes: dict) -> bool:
        """Edit the ``components`` and/or ``category`` of a template (``template_invalid`` unless
        they pass Meta's checks and the template is APPROVED, REJECTED or PAUSED): it goes back to
        PENDING and is reviewed again like a new one. False when there is no such template."""
        with self._lock:
            template = self.templates.get(template_id)
            if template is None:
                return False
            category = str(changes.get("category") or template["category"]).upper()
            components = changes.get("components", template["components"])
            parameter_format = str(
                changes.get("parameter_format") or template.get("parameter_format") or "POSITIONAL"
            ).upper()
            components, parameter_format = templates.check_template_content(
                category, components, parameter_format
            )
            templates.check_editable(template)
            template.update(
                category=category,
                components=components,
                parameter_format=parameter_format,
                status="PENDING",
                rejected_reason="NONE",
            )
            self._reviews.pop(template["id"], None)
        _logger.info("template %s (%s) edited", template["name"], template["language"])
        self._schedule_review(template)
        return True

    def delete_templates(self, name: str, template_id: str | None = None) -> list[str]:
        """Delete the template ``name`` in every language (only ``template_id`` when given);
        return the ids deleted."""
        with self._lock:
            doomed = [
                t["id"]
                for t in self.templates.values()
                if t["name"] == name and template_id in (None, t["id"])
            ]
            for doomed_id in doomed:
                del self.templates[doomed_id]
                self._reviews.pop(doomed_id, None)
        return doomed

    def check_template_send(self, content: dict) -> None:
        """The template exists in the language, may be sent, and gets the right parameters."""
        name, language = content["name"], content["language"]["code"]
        with self._lock:
            template = copy.deepcopy(self.find_template(name, language))
        status = template["status"] if template else None
        if status == "PAUSED":
            raise template_paused(name)
        if status == "DISABLED":
            raise template_disabled(name)
        if status not in templates.SENDABLE_TEMPLATE_STATUSES:
            _logger.info("template %s (%s) cannot be sent: %s", name, language, status or "unknown")
            raise template_missing(name, language)
        templates.check_template_parameters(template, content.get("components"))

    def template_event(self, name: str, event: str, *, reason=None, language=None) -> dict:
        """Meta changed template ``name``: set its status to ``event`` (``APPROVED``, ``REJECTED``,
        ``PAUSED``, ``DISABLED``, ``FLAGGED``...) and post the webhook now; return its outcome.

        A review still pending for the template is dropped.
        """
        template = self.find_template(name, language)
        if template is None:
            raise ValueError(f"unknown template {name!r}")
        with self._lock:
            self._reviews.pop(template["id"], None)
        return self._post_now(self._template_job(template, event.upper(), reason))

    def template_quality(self, name: str, new_score: str, *, language=None) -> dict:
        """The quality of template ``name`` became ``new_score`` (``GREEN``, ``YELLOW``, ``RED``):
        post the ``message_template_quality_update`` webhook now; return its outcome."""
        template = self.find_template(name, language)
        if template is None:
            raise ValueError(f"unknown template {name!r}")
        new_score = str(new_score).upper()
        if new_score not in templates.TEMPLATE_QUALITY_SCORES:
            raise ValueError(f"the score must be one of {templates.TEMPLATE_QUALITY_SCORES}")
        cfg = self.config

        def build():
            with self._lock:
                previous = (template.get("quality_score") or {}).get("score", "UNKNOWN")
                template["quality_score"] = {"score": new_score, "date": int(time.time())}
            change = payloads.template_quality_change(
                int(template["id"]), template["name"], template["language"], previous, new_score
            )
            return payloads.envelope(cfg.waba_id, [change], time=time.time())

        return self._post_now(Job("template_quality", 1, build))

    # -- simulated customers

    def inject(self, wa_id, *, profile_name="Customer", type="text", text=None, **content) -> dict:
        """A customer ``wa_id`` writes: post the inbound webhook now, return its outcome.

        ``type`` is ``text``, a media type (``text`` is the caption; a tiny sample file is
        stored unless ``data``/``data_base64`` is given), ``location`` (``latitude``,
        ``longitude``), ``contacts``, ``button_reply``/``list_reply`` (``text`` is the title;
        ``reply_id``), ``button`` (``payload``), ``reaction`` (``emoji``, ``message_id``) or
        ``unsupported``. Replies default their context to the last message sent to ``wa_id``.
        The 24-hour window of ``wa_id`` opens. Returns ``{"wamid", "status_code", "error"}``.
        """
        wa_id = digits(wa_id)
        if not wa_id:
            raise ValueError("the customer number has no digits")
        message = inbound.message(self, wa_id, type, text, content)
        cfg = self.config
        payload = payloads.inbound_payload(
            waba_id=cfg.waba_id,
            phone_number_id=cfg.phone_number_id,
            display_phone_number=cfg.display_phone_number,
            wa_id=wa_id,
            profile_name=profile_name or "Customer",
            messages=[message],
        )
        with self._lock:
            self._last_inbound[wa_id] = time.time()
        record = self._post_now(Job("messages", 1, lambda: payload))
        _logger.info("customer %s wrote %s %s", wa_id, type, message["id"])
        return {
            "wamid": message["id"],
            "status_code": record.get("status_code"),
            "error": record.get("error"),
        }

    def last_wamid_to(self, wa_id: str) -> str | None:
        """The id of the last message sent to ``wa_id``, if any."""
        with self._lock:
            for entry in reversed(self.sent):
                if entry["to"] == wa_id:
                    return entry["wamid"]
        return None

    # -- webhooks

    def _post_now(self, job: Job) -> dict:
        """Post ``job`` through the worker (in order with the scheduled ones) and wait."""
        if not self._worker.running:
            return self._post_job(job)
        job.future = Future()
        self._worker.schedule(job)
        try:
            return job.future.result(timeout=self.config.webhook_timeout + 5)
        except Exception as exc:  # cancelled by stop()/reset(), or stuck receiver
            return {"status_code": None, "error": f"not posted: {exc!r}"}

    def _post_job(self, job: Job) -> dict:
        """Post one webhook and record its outcome (nothing is recorded for a moot job)."""
        cfg = self.config
        record = deliver(job, cfg.webhook_url, cfg.app_secret, cfg.webhook_timeout)
        if record is None:
            record = {"kind": job.kind, "status_code": None, "error": "not posted: moot"}
        else:
            if job.after:
                job.after(record)
            with self._changed:
                self.deliveries.append(record)
                self._changed.notify_all()
        if job.future and not job.future.done():
            job.future.set_result(record)
        return record

    def _status_job(self, entry: dict, status_name: str) -> Job:
        """The webhook job of one status of the outbound message ``entry``."""
        cfg = self.config

        def build():
            status = payloads.status(
                entry["wamid"],
                status_name,
                entry["to"],
                category=entry["category"],
                billable=entry["billable"],
                conversation_id=entry["conversation_id"],
                biz_opaque_callback_data=entry["payload"].get("biz_opaque_callback_data"),
            )
            if not entry["to"].isdigit():  # sent to a business-scoped user id
                status["recipient_user_id"] = status.pop("recipient_id")
            return payloads.status_payload(
                waba_id=cfg.waba_id,
                phone_number_id=cfg.phone_number_id,
                display_phone_number=cfg.display_phone_number,
                statuses=[status],
            )

        def after(_record):
            with self._lock:
                entry["status"] = status_name

        return Job("statuses", 1, build, after)

    def _schedule_review(self, template: dict) -> None:
        """Review a PENDING template ``template_review_delay`` later, if auto-approving."""
        cfg = self.config
        if not cfg.auto_approve_templates:
            return
        delay = cfg.status_delay if cfg.template_review_delay is None else cfg.template_review_delay
        event, reason = templates.review_outcome(template["name"])
        token = object()
        with self._lock:
            self._reviews[template["id"]] = token
        self._worker.schedule(self._template_job(template, event, reason, token), delay)

    def _schedule_statuses(self, entry: dict) -> None:
        """sent -> delivered (-> read), or failed for ``fail_numbers``, ``status_delay`` apart."""
        cfg = self.config
        if not cfg.statuses:
            return
        if entry["to"] in cfg.fail_numbers:
            sequence = ["failed"]
        else:
            sequence = ["sent", "delivered"] + (["read"] if cfg.auto_read else [])
        for step, status_name in enumerate(sequence, start=1):
            self._worker.schedule(self._status_job(entry, status_name), cfg.status_delay * step)

    def _template_job(self, template: dict, event: str, reason=None, token=None) -> Job:
        """The webhook job of a template status change; the template changes when it is posted.

        With a review ``token``, the job is dropped unless that review is still the pending one of
        the template (not deleted, edited again or changed by ``template_event`` meanwhile).
        """
        cfg = self.config

        def build():
            with self._lock:
                if token is not None:
                    if self._reviews.get(template["id"]) is not token:
                        return None
                    del self._reviews[template["id"]]
                    if self.templates.get(template["id"]) is not template:
                        return None
                template["status"] = "APPROVED" if event == "REINSTATED" else event
                if event == "REJECTED":
                    template["rejected_reason"] = reason or "NONE"
                elif event in ("APPROVED", "PENDING"):
                    template["rejected_reason"] = "NONE"
            change = payloads.template_status_change(
                int(template["id"]), template["name"], template["language"], event, reason=reason
            )
            return payloads.envelope(cfg.waba_id, [change], time=time.time())

        return Job("template_status", 1, build)

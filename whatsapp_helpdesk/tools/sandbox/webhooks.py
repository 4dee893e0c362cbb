"""Webhook delivery: the one ordered worker thread posting the sandbox's webhooks, and the signed
post of one webhook with the record of its outcome.

Posts are made in due-time order (first scheduled first on ties), like Meta's ordered deliveries
to one receiver; a failed post is recorded, never raised.
"""

import dataclasses
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

import requests

from .. import payloads

_logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Job:
    """A webhook to post: ``build()`` makes the payload when it is due."""

    kind: str
    count: int
    build: Callable[[], dict]
    after: Callable[[dict], None] | None = None
    future: Future | None = None


class WebhookWorker:
    """One background thread posting the scheduled jobs in due-time order (FIFO on ties)."""

    def __init__(self, post: Callable[[Job], None]):
        self._post = post
        self._heap = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread = None
        self.running = False

    def start(self) -> None:
        with self._cond:
            if self.running:
                return
            self.running = True
        self._thread = threading.Thread(target=self._run, name="wa-sandbox-webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Drop the pending jobs and end the thread (after the post in progress, if any)."""
        with self._cond:
            self.running = False
            self._cond.notify_all()
        self.clear()
        if self._thread:
            self._thread.join(timeout)
            self._thread = None

    def clear(self) -> None:
        """Drop the pending jobs."""
        with self._cond:
            dropped, self._heap = self._heap, []
        for _due, _seq, job in dropped:
            if job.future:
                job.future.cancel()

    def schedule(self, job: Job, delay: float = 0.0) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), job))
            self._cond.notify_all()

    def _next_job(self):
        with self._cond:
            while self.running:
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait <= 0:
                    return heapq.heappop(self._heap)[2]
                self._cond.wait(wait)
        return None

    def _run(self) -> None:
        while (job := self._next_job()) is not None:
            try:
                self._post(job)
            except Exception:
                _logger.exception("webhook job %s failed", job.kind)
                if job.future and not job.future.done():
                    job.future.cancel()


def deliver(job: Job, url: str | None, app_secret: str, timeout: float) -> dict | None:
    """Build the payload of ``job``, post it signed with ``app_secret`` to ``url``; return the
    delivery record (``url``, ``kind``, ``count``, ``status_code``, ``error``, ``time``,
    ``payload``). Failures are recorded in it, not raised.

    A job whose ``build()`` gives None became moot (e.g. the review of a deleted template):
    nothing is posted and None is returned.
    """
    payload = job.build()
    if payload is None:
        return None
    record = {
        "url": url,
        "kind": job.kind,
        "count": job.count,
        "status_code": None,
        "error": None,
        "time": time.time(),
        "payload": payload,
    }
    if not url:
        record["error"] = "no webhook_url configured"
    else:
        body, headers = payloads.signed(payload, app_secret)
        try:
            answer = requests.post(url, data=body, headers=headers, timeout=timeout)
            record["status_code"] = answer.status_code
        except requests.RequestException as exc:
            record["error"] = str(exc)
    outcome = record["status_code"] or record["error"]
    _logger.info("webhook %s (%d) -> %s: %s", job.kind, job.count, url, outcome)
    return record

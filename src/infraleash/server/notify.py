"""Webhooks: a new pending request and each decision are posted to every configured URL, in the background.

    INFRALEASH_SERVER_WEBHOOKS="https://hooks.slack.com/services/T/B/X,json:https://siem.example.com/in"

Each entry of ``settings.webhooks`` is a URL, optionally prefixed ``slack:`` or ``json:`` to choose the
format; without a prefix a ``hooks.slack.com`` URL gets the Slack format, any other plain JSON:

* Slack-compatible incoming-webhook JSON: ``{"text": ..., "blocks": [...]}`` (the command, requester,
  environment, plan verdict, and the decision), every requester-chosen value escaped for Slack's mrkdwn
  (``&``, ``<``, ``>``: no ``<!channel>`` pings, no disguised links);
* plain JSON: ``{"event": "request.pending" | "request.approved" | "request.denied", "url": ..., "request": {...}}``.

Both carry the request page's link (``settings.resolved_base_url + /requests/ID``).

Never in the way: :meth:`Notifier.request_event` only queues (called after the change is committed);
each webhook has its own daemon thread, so a slow or hanging hook delays only its own messages.  A
delivery is tried ``ATTEMPTS`` times (2xx is success) with exponential backoff (``FIRST_DELAY_S``,
doubling), each attempt bounded by ``TIMEOUT_S``; what still fails is logged and dropped: the request
itself is in the database whatever happens here.  A queue past ``MAX_QUEUED`` messages drops new ones
(logged).  Messages still queued when the process stops are not sent.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

log = logging.getLogger("infraleash.server.notify")

ATTEMPTS = 5
FIRST_DELAY_S = 0.5
TIMEOUT_S = 5.0
MAX_QUEUED = 1000
EVENTS = {"pending": "request.pending", "approved": "request.approved", "denied": "request.denied"}


@dataclass(frozen=True)
class Hook:
    url: str
    slack: bool

    @classmethod
    def parse(cls, spec: str) -> Hook:
        spec = spec.strip()
        for prefix, slack in (("slack:", True), ("json:", False)):
            if spec.startswith(prefix):
                return cls(spec[len(prefix):], slack)
        return cls(spec, (urlsplit(spec).hostname or "") == "hooks.slack.com")


def request_link(base_url: str, request_id: str) -> str:
    return f"{base_url.rstrip('/')}/requests/{request_id}"


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain_payload(status: str, request: dict[str, Any], link: str) -> dict[str, Any]:
    review = request.get("review") or {}
    keep = ("id", "status", "argv", "cwd", "environment", "requester", "reason", "plan_sha256", "created_at",
            "expires_at", "decided_by", "decided_at", "decision_comment")
    return {"event": EVENTS[status], "url": link,
            "request": {**{k: request.get(k) for k in keep}, "rules": [r.get("id") for r in request.get("rules") or []],
                        "verdict": review.get("verdict"), "headline": review.get("headline")}}


def slack_payload(status: str, request: dict[str, Any], link: str) -> dict[str, Any]:
    def e(value: object) -> str:
        return slack_escape(str(value))

    command = " ".join(request.get("argv") or [])
    where = request.get("environment") or "no environment"
    review = request.get("review") or {}
    if status == "pending":
        head = f"Approval needed: {e(request.get('requester'))} wants to run `{e(command)}` in {e(where)}"
    else:
        head = (f"{e(request.get('decided_by'))} {status} `{e(command)}` in {e(where)}: "
                f"{e(request.get('decision_comment') or '')}")
    lines = [f"*{head}*"]
    if status == "pending" and request.get("reason"):
        lines.append(f"Reason: {e(request['reason'])}")
    if review.get("verdict"):
        lines.append(f"Plan review: *{e(review['verdict'])}*: {e(review.get('headline') or '')}")
    lines.append(f"<{link}|Open request {e(request['id'])}>")
    return {"text": f"{head} ({link})",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
                       {"type": "context", "elements": [{"type": "mrkdwn",
                                                         "text": f"infraleash · request {e(request['id'])}"}]}]}


class _HookWorker(threading.Thread):
    def __init__(self, hook: Hook, client: httpx.Client) -> None:
        super().__init__(daemon=True, name=f"infraleash-webhook {urlsplit(hook.url).hostname}")
        self.hook, self.client = hook, client
        self.queue: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=MAX_QUEUED)
        self.start()

    def run(self) -> None:
        while (payload := self.queue.get()) is not None:  # None: close() asked it to stop
            self.deliver(payload)

    def deliver(self, payload: dict[str, Any]) -> bool:
        delay = FIRST_DELAY_S
        for attempt in range(1, ATTEMPTS + 1):
            try:
                r = self.client.post(self.hook.url, json=payload, timeout=TIMEOUT_S)
                if 200 <= r.status_code < 300:
                    return True
                why = f"HTTP {r.status_code}"
            except httpx.HTTPError as exc:
                why = f"{type(exc).__name__}: {exc}"
            if attempt < ATTEMPTS:
                time.sleep(delay)
                delay *= 2
        log.warning("webhook %s: gave up after %d attempts (%s)", _safe(self.hook.url), ATTEMPTS, why)
        return False


class Notifier:
    """One background worker per webhook; :meth:`request_event` never blocks and never raises."""

    def __init__(self, hooks: list[str], base_url: str) -> None:
        self.base_url = base_url
        self.client = httpx.Client(follow_redirects=False)
        self.workers = [_HookWorker(Hook.parse(h), self.client) for h in hooks if h.strip()]

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop the workers once what is queued has been tried (each waits at most ``timeout_s``)."""
        for w in self.workers:
            with contextlib.suppress(queue.Full):
                w.queue.put(None, timeout=timeout_s)
        for w in self.workers:
            w.join(timeout_s)
        self.client.close()

    def request_event(self, status: str, request: dict[str, Any]) -> None:
        """Queue the messages for a request now ``pending``, ``approved`` or ``denied`` (as the API shows it)."""
        if not self.workers or status not in EVENTS:
            return
        link = request_link(self.base_url, str(request["id"]))
        for w in self.workers:
            payload = (slack_payload if w.hook.slack else plain_payload)(status, request, link)
            try:
                w.queue.put_nowait(payload)
            except queue.Full:
                log.warning("webhook %s: %d messages queued; dropped the one for request %s",
                            _safe(w.hook.url), MAX_QUEUED, request["id"])


def _safe(url: str) -> str:
    """A webhook URL for the log: scheme and host only (Slack hook paths are secrets)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}"

"""Telling the HR system that a case reached a stage: a signed webhook and, when configured, an e-mail.

Outbox semantics: every delivery is written to the store (``webhook_delivery`` / ``email_delivery``
records) BEFORE the first attempt, updated after every attempt, and deliveries still ``pending`` are
resumed by :meth:`Notifier.start` after a restart. Sending runs in background tasks with bounded
concurrency, so a slow or dead receiver never holds up the escalator. Delivery is at-least-once:
receivers de-duplicate by the ``X-Hrledger-Delivery`` header (one id per stage event and channel).

The channels themselves (the signed webhook, the e-mail) are ``ledger.services.channels``.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger.core.entries import Event, format_recorded_at, parse_rfc3339
from ledger.domain.policy import Policy
from ledger.errors import LedgerError, ValidationError
from ledger.services.channels import (
    DELIVERY_HEADER,
    EMAIL_KIND,
    NEXT_STEPS,
    SIGNATURE_HEADER,
    STAGE_LABEL,
    TIMESTAMP_HEADER,
    WEBHOOK_KIND,
    DeliveryFailed,
    EmailChannel,
    WebhookChannel,
    email_message,
    sign,
    steps,
    verify_signature,
)
from ledger.storage.base import Storage

log = logging.getLogger("hrledger.notify")

__all__ = [
    "DELIVERY_HEADER",
    "EMAIL_KIND",
    "NEXT_STEPS",
    "SIGNATURE_HEADER",
    "STAGE_LABEL",
    "STATUSES",
    "TIMESTAMP_HEADER",
    "WEBHOOK_KIND",
    "DeliveryFailed",
    "EmailChannel",
    "Notifier",
    "StageNotice",
    "WebhookChannel",
    "delivery_key",
    "email_message",
    "scrub_deliveries",
    "sign",
    "verify_signature",
]

STATUSES = ("pending", "delivered", "failed")


@dataclass(frozen=True, slots=True)
class StageNotice:
    """What one new ``escalation.stage_entered`` entry tells the HR system."""

    seq: int
    event_id: str
    case_id: str
    stage: str
    subject: str
    name: str | None
    overdue_days: int
    reached_on: str
    occurred_at: str
    recorded_at: str
    leaf_hash: str  # base64, as GET /v1/entries shows it
    policy_digest: str
    basis: tuple[int, ...]
    channels: tuple[str, ...]

    @classmethod
    def from_event(
        cls, event: Event, *, seq: int, leaf_hash: bytes, recorded_at: str, policy: Policy, name: str | None = None
    ) -> StageNotice:
        data = event.data
        stage = str(data.get("stage"))
        try:
            channels = policy.stage(stage).channels
        except KeyError:
            channels = ()
        reached = data.get("reached_on")  # the rule's date; the entry itself occurs when it is recorded
        if not isinstance(reached, str):
            reached = parse_rfc3339(event.occurred_at, "occurred_at").astimezone(policy.tz).date().isoformat()
        return cls(
            seq,
            event.event_id,
            str(data.get("case_id")),
            stage,
            event.subject,
            name,
            int(data.get("overdue_days", 0)),
            reached,
            event.occurred_at,
            recorded_at,
            base64.b64encode(leaf_hash).decode("ascii"),
            str(data.get("policy_digest", "")),
            tuple(int(s) for s in data.get("basis", [])),
            tuple(channels),
        )

    def payload(self) -> dict[str, Any]:
        zh, en = steps(self.stage)
        return {
            "type": "escalation.stage_entered",
            "seq": self.seq,
            "event_id": self.event_id,
            "case_id": self.case_id,
            "stage": self.stage,
            "subject": self.subject,
            "name": self.name,
            "overdue_days": self.overdue_days,
            "reached_on": self.reached_on,
            "occurred_at": self.occurred_at,
            "recorded_at": self.recorded_at,
            "leaf_hash": self.leaf_hash,
            "policy_digest": self.policy_digest,
            "basis": list(self.basis),
            "channels": list(self.channels),
            "next_steps": {"zh": zh, "en": en},
        }


def delivery_key(seq: int, event_id: str) -> str:
    """Records sort by key: the seq first keeps the delivery log in log order."""
    return f"{seq:012d}:{event_id}"


def _iso(t: datetime) -> str:
    return format_recorded_at(t)


class Notifier:
    """Persists and delivers stage notices over the channels the policy configures (maybe none)."""

    def __init__(
        self,
        store: Storage,
        policy: Policy,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_attempts: int = 6,
        backoff: float = 2.0,
        max_backoff: float = 600.0,
        timeout: float = 10.0,
        concurrency: int = 8,
        active: Callable[[], bool] = lambda: True,
        name_of: Callable[[str], str | None] = lambda subject: None,
    ) -> None:
        if max_attempts < 1:
            raise ValidationError("max_attempts", "must be at least 1")
        self.store, self.policy, self.clock = store, policy, clock
        self.max_attempts, self.backoff, self.max_backoff = max_attempts, backoff, max_backoff
        # Deliveries are the sequencer's duty: a process that stops being it leaves its records pending
        # (unwritten) for the next one, so two processes never overwrite one outbox record.
        self.active = active
        # The employee's name is looked up when a notice is sent, never kept in the outbox record: the record
        # holds no personal data to erase, and a notice sent after an erasure carries no name.
        self.name_of = name_of
        self.channels: dict[str, WebhookChannel | EmailChannel] = {}
        if policy.webhook.url:
            self.channels[WEBHOOK_KIND] = WebhookChannel(policy.webhook.url, policy.webhook.secret, clock, timeout)
        if policy.smtp.host and policy.smtp.recipients:
            self.channels[EMAIL_KIND] = EmailChannel(policy, timeout)
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._stopping = False

    def describe(self) -> str:
        """Where stage notifications go, in one line for the start-up banner (or that they go nowhere)."""
        places = []
        if self.policy.webhook.url and WEBHOOK_KIND in self.channels:
            places.append(f"webhook {self.policy.webhook.url}")
        if EMAIL_KIND in self.channels:
            places.append(f"e-mail to {', '.join(self.policy.smtp.recipients)} via {self.policy.smtp.host}")
        if not places:
            return (
                "escalations are recorded in the log but notify nobody: set [webhook] or [smtp] in a policy "
                "file (hrledger serve --policy FILE, or make run POLICY=FILE)"
            )
        return "escalations are delivered to " + " and ".join(places)

    @property
    def enabled(self) -> bool:
        return bool(self.channels)

    async def start(self) -> int:
        """Resume every delivery left pending (by a crash or a stop); returns how many."""
        self._stopping = False
        resumed = 0
        for kind in self.channels:
            for key, doc in await self._all(kind):
                if doc.get("status") == "pending":
                    self._schedule(kind, key)
                    resumed += 1
        if resumed:
            log.info("resuming %d pending deliveries", resumed)
        return resumed

    async def stop(self) -> None:
        """Cancel in-flight attempts (they stay pending in the store and resume on the next start)."""
        self._stopping = True
        tasks = list(self._tasks.values())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        for channel in self.channels.values():
            await channel.close()

    async def notify(self, notice: StageNotice) -> list[str]:
        """Write one outbox record per configured channel, then deliver in the background; returns the keys."""
        key = delivery_key(notice.seq, notice.event_id)
        now = _iso(self.clock())
        out = []
        for kind, channel in self.channels.items():
            if await self.store.get_record(kind, key) is not None:
                continue  # already queued (a recovery after a crash, or a second process)
            doc: dict[str, Any] = {
                "id": key,
                "channel": "webhook" if kind == WEBHOOK_KIND else "email",
                "event_id": notice.event_id,
                "seq": notice.seq,
                "case_id": notice.case_id,
                "stage": notice.stage,
                "subject": notice.subject,
                "target": channel.url if isinstance(channel, WebhookChannel) else list(self.policy.smtp.recipients),
                "status": "pending",
                "attempts": 0,
                "max_attempts": self.max_attempts,
                "created_at": now,
                "last_attempt_at": None,
                "next_attempt_at": now,
                "delivered_at": None,
                "last_error": None,
                "last_result": None,
                "history": [],
                "payload": {**notice.payload(), "name": None},  # filled in at each send (see name_of)
            }
            await self.store.put_record(kind, key, doc)
            self._schedule(kind, key)
            out.append(key)
        return out

    def _with_name(self, doc: dict[str, Any]) -> dict[str, Any]:
        payload = doc.get("payload")
        if not isinstance(payload, dict):
            return doc
        return {**doc, "payload": {**payload, "name": self.name_of(str(doc.get("subject")))}}

    async def has_record(self, seq: int, event_id: str) -> bool:
        key = delivery_key(seq, event_id)
        return all([await self.store.get_record(kind, key) is not None for kind in self.channels])

    async def deliveries(
        self, kind: str = WEBHOOK_KIND, *, status: str | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        """The delivery log of one channel, in log order (optionally only one status)."""
        return [doc for _, doc in await self._all(kind) if status is None or doc.get("status") == status][:limit]

    async def delivery_log(
        self, kind: str = WEBHOOK_KIND, *, status: str | None = None, limit: int = 1000
    ) -> tuple[dict[str, int], list[dict[str, Any]]]:
        """Counts by status over the whole log of one channel, and its latest ``limit`` records (of ``status``)."""
        records = [doc for _, doc in await self._all(kind)]
        counts = {s: sum(1 for d in records if d.get("status") == s) for s in STATUSES}
        docs = [d for d in records if status is None or d.get("status") == status]
        return counts, docs[-limit:]

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until no delivery is in flight (tests, the demo and shutdown use this)."""

        async def idle() -> None:
            while self._tasks:
                await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

        async with asyncio.timeout(timeout):
            await idle()

    async def _all(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        return await self.store.list_records(kind, limit=100_000)

    def _schedule(self, kind: str, key: str) -> None:
        if self._stopping or (kind, key) in self._tasks:
            return
        task = asyncio.create_task(self._deliver(kind, key), name=f"deliver {kind} {key}")
        self._tasks[(kind, key)] = task
        task.add_done_callback(lambda _t: self._tasks.pop((kind, key), None))

    def _delay(self, attempts: int) -> float:
        return float(min(self.max_backoff, self.backoff * 2 ** max(0, attempts - 1)))

    async def _deliver(self, kind: str, key: str) -> None:
        channel = self.channels[kind]
        first = True
        try:
            while True:
                if not self.active():
                    log.info("%s %s: no longer the sequencer; left pending for the next one", kind, key)
                    return
                doc = await self.store.get_record(kind, key)
                if doc is None or doc.get("status") != "pending":
                    return
                if first:  # resuming after a restart: honour the backoff already promised
                    first = False
                    due = parse_rfc3339(doc.get("next_attempt_at") or _iso(self.clock()), "next_attempt_at")
                    wait = min((due - self.clock()).total_seconds(), self.max_backoff)
                    if wait > 0:
                        await asyncio.sleep(wait)
                async with self._slots:
                    started = self.clock()
                    try:
                        outcome, error = await channel.send(self._with_name(doc)), None
                    except DeliveryFailed as exc:
                        outcome, error = None, str(exc)
                doc["attempts"] = attempts = int(doc.get("attempts", 0)) + 1
                doc["last_attempt_at"] = _iso(started)
                doc["history"] = [
                    *doc.get("history", [])[-19:],
                    {"at": _iso(started), "ok": error is None, "result": outcome or error},
                ]
                if error is None:
                    doc.update(
                        status="delivered", delivered_at=_iso(self.clock()), last_result=outcome, next_attempt_at=None
                    )
                elif attempts >= int(doc.get("max_attempts", self.max_attempts)):
                    doc.update(status="failed", last_error=error, next_attempt_at=None)
                    log.error("%s %s failed for good after %d attempts: %s", kind, key, attempts, error)
                else:
                    delay = self._delay(attempts)
                    doc.update(last_error=error, next_attempt_at=_iso(self.clock() + timedelta(seconds=delay)))
                    log.warning("%s %s attempt %d failed (%s); retrying in %.1f s", kind, key, attempts, error, delay)
                if not self.active():  # the lease was lost during the attempt: record nothing, resend later
                    log.info("%s %s: no longer the sequencer; the attempt's outcome is left unrecorded", kind, key)
                    return
                await self.store.put_record(kind, key, doc)
                if doc["status"] != "pending":
                    return
                await asyncio.sleep(self._delay(attempts))
        except asyncio.CancelledError:
            raise
        except LedgerError as exc:  # the store failed: the record stays pending and resumes on restart
            log.error("%s %s: cannot record the delivery: %s", kind, key, exc)
        except Exception:
            log.exception("%s %s: delivery crashed", kind, key)


async def scrub_deliveries(store: Storage, subject: str) -> int:
    """Drop the employee's name from delivery records that copied it (records written before names were looked
    up at send time) after an erasure; returns how many changed. The record itself stays: that a notification
    went out is not personal data."""
    changed = 0
    for kind in (WEBHOOK_KIND, EMAIL_KIND):
        for key, doc in await store.list_records(kind, limit=100_000):
            payload = doc.get("payload")
            if doc.get("subject") != subject or not isinstance(payload, dict) or payload.get("name") is None:
                continue
            await store.put_record(kind, key, {**doc, "payload": {**payload, "name": None}, "erased": True})
            changed += 1
    return changed

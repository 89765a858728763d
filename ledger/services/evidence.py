"""Gathering an evidence bundle from the live log (the I/O half of ``ledger.core.bundle``).

What goes in, for one subject and period (dates in the company time zone, both ends inclusive):
- every entry of the subject whose ``occurred_at`` falls in the period, escalation stages included;
- the company-wide entries the case rests on: every ``policy.adopted`` that occurred by the period's end, and
  every ``calendar.adopted``;
- the latest checkpoint, and consistency proofs to it from earlier checkpoints: the last one published
  on each day of the period (a daily chain of signed states) and every checkpoint that carries an
  RFC 3161 timestamp, so each token in the bundle can be checked against a checkpoint it holds;
- the server's computed case and readiness as ``case.json`` (labelled as a claim, not a proof).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from ledger.core.bundle import BundleEntry, BundleInputs, ConsistencyItem, build_bundle
from ledger.core.entries import parse_rfc3339
from ledger.core.records import StoredCheckpoint, StoredEntry
from ledger.domain import DEFAULT_POLICY, Policy, Projector
from ledger.errors import LedgerError, NotFoundError, ValidationError
from ledger.log import Log
from ledger.services.exhibit import render_exhibit
from ledger.services.timestamping import RECORD_KIND, tokens_for
from ledger.services.witness_records import cosigned_note
from ledger.storage.base import Storage

COMPANY = "company"
CONTEXT_TYPES = frozenset({"policy.adopted", "calendar.adopted"})
PAGE = 2000
MAX_DAILY_CHECKPOINTS = 400


async def _scan(store: Storage, *, subject: str) -> list[StoredEntry]:
    found: list[StoredEntry] = []
    from_seq = 0
    while True:
        page = await store.scan_entries(subject=subject, from_seq=from_seq, limit=PAGE)
        found += page
        if len(page) < PAGE:
            return found
        from_seq = page[-1].seq + 1


def _local_date(stamp: str, tz: ZoneInfo) -> date | None:
    try:
        return parse_rfc3339(stamp, "occurred_at").astimezone(tz).date()
    except LedgerError:
        return None


async def select_entries(store: Storage, subject: str, start: date, end: date, tz: ZoneInfo) -> list[StoredEntry]:
    chosen = []
    for e in await _scan(store, subject=subject):
        day = _local_date(e.occurred_at, tz)
        if day is not None and start <= day <= end:
            chosen.append(e)
    for e in await _scan(store, subject=COMPANY):
        day = _local_date(e.occurred_at, tz)
        # every calendar year recorded: a case counts its days with entries recorded after them too
        if e.type == "calendar.adopted" or (e.type in CONTEXT_TYPES and day is not None and day <= end):
            chosen.append(e)
    return sorted(chosen, key=lambda e: e.seq)


async def _earlier_checkpoints(
    store: Storage, final: StoredCheckpoint, start: date, end: date, tz: ZoneInfo
) -> list[StoredCheckpoint]:
    last_of_day: dict[date, StoredCheckpoint] = {}
    for cp in await store.list_checkpoints(max_size=final.size - 1):
        day = _local_date(cp.published_at, tz)
        if day is not None and start <= day <= end:
            last_of_day[day] = cp  # list is by size, so the last seen is that day's latest
    chosen = {cp.size: cp for cp in list(last_of_day.values())[-MAX_DAILY_CHECKPOINTS:]}
    for _, doc in await store.list_records(RECORD_KIND, limit=100_000):
        size = int(doc.get("size", -1))
        if 0 < size < final.size and size not in chosen:
            stamped = await store.get_checkpoint(size)
            if stamped is not None:
                chosen[size] = stamped
    return [chosen[s] for s in sorted(chosen)]


async def build_subject_bundle(
    log: Log,
    *,
    subject: str,
    start: date,
    end: date,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
    projector: Projector | None = None,
) -> bytes:
    if start > end:
        raise ValidationError("from", f"the period starts ({start}) after it ends ({end})")
    if subject == COMPANY:
        raise ValidationError("subject", "bundles are per employee; company-wide entries come with each")
    store = log.store
    tz = policy.tz
    entries = await select_entries(store, subject, start, end, tz)
    if not any(e.subject == subject for e in entries):
        raise NotFoundError(f"no entries of {subject} occurred between {start} and {end}")
    final = await log.publish_checkpoint() or await store.latest_checkpoint()
    if final is None or final.size <= entries[-1].seq:
        raise LedgerError("no signed checkpoint covers these entries yet; retry in a moment")
    proofs = await log.inclusion_proofs([e.seq for e in entries], final.size)
    bundle_entries = [BundleEntry(e.seq, e.entry, e.data, e.salt, proofs[e.seq]) for e in entries]
    earlier = await _earlier_checkpoints(store, final, start, end, tz)
    consistency = [ConsistencyItem(cp.note, await log.consistency_proof(cp.size, final.size)) for cp in earlier]
    timestamps = await tokens_for(store, [final.size, *(cp.size for cp in earlier)])
    as_of = await _claim_instant(store, final, end, tz, now)
    inputs = BundleInputs(
        origin=log.origin,
        vkey=log.signer.vkey,
        subject=subject,
        period_from=start,
        period_to=end,
        tree_size=final.size,
        checkpoint=await cosigned_note(store, final),  # with the witnesses' cosignature lines, if any
        entries=bundle_entries,
        consistency=consistency,
        timestamps=timestamps,
        extra={"case.json": await _case_claim(log, subject, as_of, policy, projector)},
        time_zone=policy.timezone,
        report=render_exhibit,
    )
    # Hashing, zipping and verifying thousands of entries is CPU work: off the event loop, so the service
    # keeps answering (and acknowledging events) while a bundle is built.
    return await asyncio.to_thread(build_bundle, inputs)


async def _claim_instant(store: Storage, final: StoredCheckpoint, end: date, tz: ZoneInfo, now: datetime) -> datetime:
    """The case is evaluated at the end of the period, but never after the last receipt in the bundle's tree:
    a function of the log state and the request alone, so the same request gives the same bytes."""
    period_end = datetime.combine(end, time.max, tzinfo=tz)
    last = await store.get_entry(final.size - 1)
    state_time = parse_rfc3339(last.recorded_at, "recorded_at") if last is not None else now
    return min(period_end, state_time, now)


async def _case_claim(
    log: Log, subject: str, now: datetime, policy: Policy, projector: Projector | None
) -> dict[str, Any]:
    if projector is None:
        projector = Projector(policy)
        from_seq = 0
        while True:
            page: Sequence[StoredEntry] = await log.store.scan_entries(from_seq=from_seq, limit=PAGE)
            projector.feed_all(page)
            if len(page) < PAGE:
                break
            from_seq = page[-1].seq + 1
    try:
        return {
            "note": "computed by the server from the log; not verified by hrledger-verify",
            "as_of": now.isoformat(),
            "absence": projector.absence(subject, now),
            "cases": projector.cases(now, subject=subject),
        }
    except LedgerError as exc:  # an uncovered calendar year must not block the evidence itself
        return {"note": f"the server could not compute the case: {exc}", "as_of": now.isoformat()}

"""Gathering an evidence bundle from the live log (the I/O half of ``ledger.core.bundle``, SPEC section 5).

For one subject and period (dates in the company time zone, both ends inclusive), in the latest published
tree:
- the subject's chain from its latest entry back to ``first``: the latest entry recorded strictly more than
  5 minutes before the period began (or the subject's first entry), and further back if the case cites an
  older entry (the contacts or the rule-book acknowledgement on file);
- the company's chain whole (rule books and calendar years: few, and never personal data);
- data for every entry that occurred in the period, every entry the case cites, every ``ledger.erased`` and
  every company entry; the others' data is withheld (listed in the manifest), erased data stays null;
- consistency proofs from earlier checkpoints of the period (the last of each day, every timestamped one)
  and their RFC 3161 tokens; the server's case as case.json; VERIFY.md and verifier.pyz.
Reads are O(entries of the subject + company entries + checkpoints of the period), never the whole log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ledger.core.bundle import BundleEntry, BundleInputs, ConsistencyItem, build_bundle
from ledger.core.entries import OCCURRED_AFTER_RECORDED, parse_rfc3339
from ledger.core.records import StoredCheckpoint, StoredEntry
from ledger.core.verify_md import verify_md
from ledger.domain import DEFAULT_POLICY, Policy, Projector
from ledger.errors import LedgerError, NotFoundError, ValidationError
from ledger.log import Log
from ledger.services.exhibit import render_court_exhibit
from ledger.services.timestamping import RECORD_KIND, tokens_for
from ledger.services.verifier_app import verifier_pyz, verifier_pyz_sha256
from ledger.services.witness_records import cosigned_note

COMPANY = "company"
ERASED_TYPE = "ledger.erased"
PAGE = 2000
MAX_DAILY_CHECKPOINTS = 400


async def _chain_entries(log: Log, subject: str, size: int) -> list[StoredEntry]:
    """Every entry of ``subject`` below tree ``size``, in seq order (the subject index, page by page)."""
    found: list[StoredEntry] = []
    from_seq = 0
    while True:
        page = await log.entries(subject=subject, from_seq=from_seq, limit=PAGE)
        found += [e for e in page if e.seq < size]
        if len(page) < PAGE or page[-1].seq >= size:
            return found
        from_seq = page[-1].seq + 1


def _instant(stamp: str) -> datetime | None:
    try:
        return parse_rfc3339(stamp, "recorded_at")
    except LedgerError:
        return None


def choose_first(entries: list[StoredEntry], period_start: datetime, cited: Iterable[int]) -> int:
    """Index of ``first`` in the subject's entries: recorded strictly more than 5 minutes before the period
    began (no later entry of the log can have occurred in it), or the subject's first entry; never after an
    entry the case cites."""
    first = 0
    for i, e in enumerate(entries):
        recorded = _instant(e.recorded_at)
        if recorded is not None and recorded < period_start - OCCURRED_AFTER_RECORDED:
            first = i
    cited_here = {s for s in cited} & {e.seq for e in entries}
    if cited_here:
        oldest = min(cited_here)
        first = min(first, next(i for i, e in enumerate(entries) if e.seq == oldest))
    return first


def _needs_data(e: StoredEntry, start: date, end: date, tz: ZoneInfo, cited: set[int]) -> bool:
    try:
        day = parse_rfc3339(e.occurred_at, "occurred_at").astimezone(tz).date()
    except LedgerError:
        return True
    return start <= day <= end or e.seq in cited or e.type == ERASED_TYPE or e.subject == COMPANY


async def _earlier_checkpoints(
    log: Log, final: StoredCheckpoint, min_size: int, start: date, end: date, tz: ZoneInfo
) -> list[StoredCheckpoint]:
    """The last checkpoint published on each day of the period, and every timestamped one of the period."""
    store = log.store
    in_period: dict[int, StoredCheckpoint] = {}
    last_of_day: dict[date, StoredCheckpoint] = {}
    for cp in await store.list_checkpoints(min_size=min_size, max_size=final.size - 1):
        published = _instant(cp.published_at)
        if published is not None and start <= published.astimezone(tz).date() <= end:
            in_period[cp.size] = cp
            last_of_day[published.astimezone(tz).date()] = cp  # by size: the last seen is that day's latest
    chosen = {cp.size: cp for cp in list(last_of_day.values())[-MAX_DAILY_CHECKPOINTS:]}
    for _, doc in await store.list_records(RECORD_KIND, limit=100_000):
        size = doc.get("size")
        if isinstance(size, int) and size in in_period:
            chosen[size] = in_period[size]
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
    witnessed: Callable[[], Awaitable[StoredCheckpoint | None]] | None = None,
) -> bytes:
    """The bundle of ``subject`` for the period, in the latest published tree. Where witnesses are configured
    (``witnessed`` gives the latest checkpoint their quorum cosigned), the manifest's ``latest`` is true only
    when that tree is also witnessed (SPEC section 5)."""
    if start > end:
        raise ValidationError("from", f"the period starts ({start}) after it ends ({end})")
    if subject == COMPANY:
        raise ValidationError("subject", "bundles are per employee; company-wide entries come with each")
    tz = policy.tz
    final = await log.publish_checkpoint() or await log.latest_checkpoint()
    if final is None or final.size == 0:
        raise NotFoundError("the log has no signed checkpoint yet")
    latest = await log.latest_checkpoint()
    is_latest = latest is not None and latest.size == final.size
    if witnessed is not None and is_latest:
        # The tree stays the latest published (every fact the log holds); it is "latest" only once the
        # witnesses' quorum cosigned it too, and a bundle built before says so.
        cosigned = await witnessed()
        is_latest = cosigned is not None and cosigned.size == final.size
    own = await _chain_entries(log, subject, final.size)
    if not own:
        raise NotFoundError(f"the log has no entry of {subject!r} in its tree of size {final.size}")
    company = await _chain_entries(log, COMPANY, final.size)
    as_of = min(datetime.combine(end, time.max, tzinfo=tz), now, _instant(own[-1].recorded_at) or now)
    case = await _case_claim(log, subject, as_of, policy, projector)
    cited = {s for c in case.get("cases", []) for s in c.get("evidence_seqs", []) if isinstance(s, int)}
    period_start = datetime.combine(start, time(), tzinfo=tz)
    chain = own[choose_first(own, period_start, cited) :]
    picked = [*chain, *company]
    proofs = await log.inclusion_proofs([e.seq for e in picked], final.size)
    entries = []
    for e in picked:
        keep = e.data is None or _needs_data(e, start, end, tz, cited)  # erased data stays null, not withheld
        entries.append(
            BundleEntry(e.seq, e.entry, e.data if keep else None, e.salt if keep else None, proofs[e.seq], not keep)
        )
    earlier = await _earlier_checkpoints(log, final, chain[0].seq, start, end, tz)
    consistency = [ConsistencyItem(cp.note, await log.consistency_proof(cp.size, final.size)) for cp in earlier]
    timestamps = await tokens_for(log.store, [final.size, *(cp.size for cp in earlier)])
    inputs = BundleInputs(
        signer=log.signer,
        subject=subject,
        period_from=start,
        period_to=end,
        time_zone=policy.timezone,
        tree_size=final.size,
        checkpoint=await cosigned_note(log.store, final),  # with the witnesses' cosignature lines, if any
        built_at=now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        latest=is_latest,
        entries=entries,
        late_recorded_hours=policy.late_recorded / timedelta(hours=1),
        consistency=consistency,
        timestamps=timestamps,
        case=case,
        verify_md=verify_md(verifier_pyz_sha256()),
        verifier_pyz=verifier_pyz(),
        report=render_court_exhibit,
    )
    # Hashing, zipping and verifying thousands of entries is CPU work: off the event loop, so the service
    # keeps answering (and acknowledging events) while a bundle is built.
    return await asyncio.to_thread(build_bundle, inputs)


async def _case_claim(
    log: Log, subject: str, as_of: datetime, policy: Policy, projector: Projector | None
) -> dict[str, Any]:
    """The server's case (case.json): from the service's projection, or one built here from the log."""
    if projector is None:
        projector = Projector(policy)
        from_seq = 0
        while page := await log.entries(from_seq=from_seq, limit=PAGE):
            projector.feed_all(page)
            from_seq = page[-1].seq + 1
    try:
        return {
            "note": "computed by the server from the log; not verified by hrledger-verify",
            "as_of": as_of.isoformat(),
            "absence": projector.absence(subject, as_of),
            "cases": projector.cases(as_of, subject=subject),
        }
    except LedgerError as exc:  # an uncovered calendar year must not block the evidence itself
        return {"note": f"the server could not compute the case: {exc}", "as_of": as_of.isoformat(), "cases": []}

"""Erasure of personal data (PIPL art. 47, GDPR art. 17): data and salt go, leaves and proofs stay.

The erasure is recorded in the log first (``ledger.erased``, naming the seqs), then the data and salts
are dropped from the store (which on SQLite zeroes them and truncates the WAL), then the delivery
records of the employee's stage notifications lose the personal data they copied (the name). What an
erasure cannot remove is the leaf: subject id, event_id, source, type and times stay (docs say so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.core.entries import AT_RECORDING, Event
from ledger.domain import Policy, Projector
from ledger.domain.schemas import COMPANY, ERASED_TYPE
from ledger.errors import ValidationError
from ledger.log import Log
from ledger.services.drafting import forget_documents
from ledger.services.notify import scrub_deliveries
from ledger.storage.base import iter_entries


@dataclass(frozen=True)
class ErasureResult:
    seqs: list[int]
    record_seq: int | None  # the seq of the ledger.erased event, None when nothing was left to erase
    deliveries_scrubbed: int = 0


async def open_cases(log: Log, subject: str, now: datetime, policy: Policy) -> list[dict[str, Any]]:
    """The employee's cases still open at ``now``: an erasure ends them for good (their facts lose their data)."""
    projector = Projector(policy)
    async for page in iter_entries(log.store):
        projector.feed_all(page)
    if subject not in projector.subjects():
        return []
    return projector.cases(now, subject=subject, status="open")


async def erase_subject(log: Log, subject: str, *, now: datetime, source: str = "hrledger-cli") -> ErasureResult:
    """Record the erasure in the log first, then drop the data; a crash in between is repaired by running
    it again, since the entries still holding data are found anew."""
    if subject == COMPANY:
        raise ValidationError(
            "subject",
            "the company's entries (rule books, calendars) hold no personal data "
            "and every bundle rests on them: they are never erased",
        )
    seqs: list[int] = []
    async for page in iter_entries(log.store, subject=subject):
        seqs += [e.seq for e in page if e.data is not None and e.type != ERASED_TYPE]
    await forget_documents(log.store, subject)  # drafted notices state the name and address
    if not seqs:
        return ErasureResult([], None, await scrub_deliveries(log.store, subject))
    record = Event(
        event_id=erasure_event_id(subject, now),
        type=ERASED_TYPE,
        subject=subject,
        occurred_at=AT_RECORDING,  # the log's own entry: it occurred when it was recorded
        source=source,
        data={"seqs": seqs, "count": len(seqs)},
    )
    [result] = await log.append([record])
    await log.store.erase_data(seqs)
    return ErasureResult(seqs, result.seq, await scrub_deliveries(log.store, subject))


def erasure_event_id(subject: str, now: datetime) -> str:
    """The id of the ``ledger.erased`` record of one erasure (reserved for hrledger:
    ``ledger.core.entries.RESERVED_ID_PREFIXES``)."""
    return f"erasure/{subject}/{now.isoformat(timespec='microseconds')}"

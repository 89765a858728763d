"""Erasure of personal data (PIPL art. 47, GDPR art. 17): data and salt go, leaves and proofs stay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.core.entries import Event
from ledger.domain.schemas import ERASED_TYPE
from ledger.log import Log


@dataclass(frozen=True)
class ErasureResult:
    seqs: list[int]
    record_seq: int | None  # the seq of the ledger.erased event, None when nothing was left to erase


async def erase_subject(log: Log, subject: str, *, now: datetime, source: str = "hrledger-cli") -> ErasureResult:
    """Record the erasure in the log first, then drop the data; a crash in between is repaired by running
    it again, since the entries still holding data are found anew."""
    seqs: list[int] = []
    from_seq = 0
    while True:
        page = await log.store.scan_entries(subject=subject, from_seq=from_seq, limit=1000)
        seqs += [e.seq for e in page if e.data is not None and e.type != ERASED_TYPE]
        if len(page) < 1000:
            break
        from_seq = page[-1].seq + 1
    if not seqs:
        return ErasureResult([], None)
    instant = now.isoformat(timespec="microseconds")
    record = Event(
        event_id=f"erasure/{subject}/{instant}",
        type=ERASED_TYPE,
        subject=subject,
        occurred_at=instant,
        source=source,
        data={"seqs": seqs, "count": len(seqs)},
    )
    [result] = await log.append([record])
    await log.store.erase_data(seqs)
    return ErasureResult(seqs, result.seq)

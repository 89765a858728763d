"""The storage contract: everything the log needs from a database, and nothing more.

Drivers translate their own exceptions into ``ledger.errors`` at this boundary: ``StorageUnavailableError``
when writes cannot happen now (read-only, disk full, lost lease), ``StorageError`` otherwise. Every driver
passes the one conformance suite in ``tests/support/conformance.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Protocol

from ledger.core.merkle import NodeId
from ledger.core.records import StoredCheckpoint, StoredEntry


class AppendConflict(Exception):
    """Internal signal: the tree head moved or an event_id exists already; the sequencer re-reads and retries.

    Not a LedgerError: it never reaches a client.
    """


class Storage(Protocol):
    """Async store of the log. All methods are safe to call concurrently from one event loop."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    # -- the tree -------------------------------------------------------------------------------
    async def tree_size(self) -> int:
        """Number of committed entries."""
        ...

    async def append(
        self, entries: Sequence[StoredEntry], nodes: Mapping[NodeId, bytes], *, expected_size: int, term: int = 0
    ) -> None:
        """Atomically add ``entries`` (seqs ``expected_size`` onward, contiguous) and their tree ``nodes``.

        Raises AppendConflict, writing nothing, when the committed size is not ``expected_size``, an
        ``event_id`` is already recorded, or (for drivers with leases) ``term`` is no longer the current
        sequencer term. Durable when it returns.
        """
        ...

    async def get_nodes(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        """Hashes of the given perfect nodes; missing ids are absent from the result."""
        ...

    # -- entries --------------------------------------------------------------------------------
    async def get_entry(self, seq: int) -> StoredEntry | None: ...

    async def get_entries_by_event_id(self, event_ids: Sequence[str]) -> dict[str, StoredEntry]: ...

    async def subject_heads(self, subjects: Sequence[str], *, tree_size: int) -> dict[str, int]:
        """The latest seq below ``tree_size`` of each subject (its chain head in that tree); subjects without
        an entry there are absent. ``tree_size`` above the committed size reads as the committed size. One
        index lookup per subject, never a scan: the sequencer asks it for the ``prev`` of new entries."""
        ...

    async def scan_entries(
        self, *, from_seq: int = 0, limit: int = 1000, subject: str | None = None, type: str | None = None
    ) -> list[StoredEntry]:
        """Entries with seq >= from_seq in seq order, optionally filtered, at most ``limit``."""
        ...

    async def erase_data(self, seqs: Sequence[int]) -> int:
        """Drop data and salt of the given entries (the leaf stays); returns how many changed."""
        ...

    # -- checkpoints ----------------------------------------------------------------------------
    async def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """Store a published checkpoint. Storing another root for a size already stored raises
        IntegrityError; storing the identical one again is a no-op."""
        ...

    async def latest_checkpoint(self) -> StoredCheckpoint | None: ...

    async def get_checkpoint(self, size: int) -> StoredCheckpoint | None: ...

    async def list_checkpoints(self, *, min_size: int = 0, max_size: int | None = None) -> list[StoredCheckpoint]:
        """Checkpoints with min_size <= size <= max_size, by size."""
        ...

    # -- small documents (tokens, timestamps, deliveries, settings) -------------------------------
    async def put_record(self, kind: str, key: str, doc: Mapping[str, Any]) -> None:
        """Insert or replace one JSON-serialisable document."""
        ...

    async def get_record(self, kind: str, key: str) -> dict[str, Any] | None: ...

    async def list_records(self, kind: str, *, limit: int = 1000) -> list[tuple[str, dict[str, Any]]]:
        """Documents of one kind ordered by key."""
        ...

    async def delete_record(self, kind: str, key: str) -> bool: ...


async def iter_entries(
    store: Storage, *, from_seq: int = 0, subject: str | None = None, type: str | None = None, page: int = 1000
) -> AsyncIterator[list[StoredEntry]]:
    """Every matching entry from ``from_seq`` on, in seq order, one page at a time (the one paging loop)."""
    while True:
        rows = await store.scan_entries(from_seq=from_seq, limit=page, subject=subject, type=type)
        if not rows:
            return
        yield rows
        if len(rows) < page:
            return
        from_seq = rows[-1].seq + 1

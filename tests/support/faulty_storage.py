"""A Storage wrapper around a real store that can be switched to fail its writes, as a full or read-only
disk does, at the storage boundary (where drivers translate OS errors into ``StorageUnavailableError``).

Not a mock: every call reaches the real store unless a fault is switched on. Faults:

- ``fail_writes(reason)``: every write raises ``StorageUnavailableError`` *before* reaching the store
  (ENOSPC / EROFS as SQLite reports them: the transaction never starts, nothing is written).
- ``fail_after_commit(reason)``: ``append`` reaches the store and commits, then raises — the answer to
  the client is lost although the entries are durable (a connection reset after COMMIT). A retry of the
  same request must find the original seqs (idempotency), never a second copy.
- ``only``: restrict the fault to some write methods (e.g. ``{"add_checkpoint"}``).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping, Sequence
from typing import Any

from ledger.core.merkle import NodeId
from ledger.core.records import StoredCheckpoint, StoredEntry
from ledger.errors import StorageUnavailableError
from ledger.storage.base import Storage

ENOSPC = f"[Errno {errno.ENOSPC}] {os.strerror(errno.ENOSPC)}"
EROFS = f"[Errno {errno.EROFS}] {os.strerror(errno.EROFS)}"
WRITES = frozenset({"append", "erase_data", "add_checkpoint", "put_record", "delete_record"})


class FaultyStorage:
    def __init__(self, inner: Storage) -> None:
        self.inner = inner
        self.reason: str | None = None
        self.after_commit = False
        self.only: frozenset[str] = WRITES
        self.calls: dict[str, int] = {}
        self.refused: dict[str, int] = {}

    # -- switches ---------------------------------------------------------------------------------
    def fail_writes(self, reason: str = ENOSPC, *, only: Sequence[str] | None = None) -> None:
        self.reason, self.after_commit = reason, False
        self.only = frozenset(only) if only is not None else WRITES

    def fail_after_commit(self, reason: str = "connection reset after COMMIT") -> None:
        self.reason, self.after_commit, self.only = reason, True, frozenset({"append"})

    def heal(self) -> None:
        self.reason, self.after_commit, self.only = None, False, WRITES

    def _before(self, method: str) -> None:
        self.calls[method] = self.calls.get(method, 0) + 1
        if self.reason is not None and not self.after_commit and method in self.only:
            self.refused[method] = self.refused.get(method, 0) + 1
            raise StorageUnavailableError(f"sqlite: {self.reason} (simulated at the storage boundary)")

    def _after(self, method: str) -> None:
        if self.reason is not None and self.after_commit and method in self.only:
            self.refused[method] = self.refused.get(method, 0) + 1
            raise StorageUnavailableError(f"sqlite: {self.reason} (simulated after the commit)")

    # -- lifecycle and reads: always the real store -------------------------------------------------
    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def tree_size(self) -> int:
        return await self.inner.tree_size()

    async def get_nodes(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        return await self.inner.get_nodes(ids)

    async def get_entry(self, seq: int) -> StoredEntry | None:
        return await self.inner.get_entry(seq)

    async def subject_heads(self, subjects: Sequence[str], *, tree_size: int) -> dict[str, int]:
        return await self.inner.subject_heads(subjects, tree_size=tree_size)

    async def get_entries_by_event_id(self, event_ids: Sequence[str]) -> dict[str, StoredEntry]:
        return await self.inner.get_entries_by_event_id(event_ids)

    async def scan_entries(
        self, *, from_seq: int = 0, limit: int = 1000, subject: str | None = None, type: str | None = None
    ) -> list[StoredEntry]:
        return await self.inner.scan_entries(from_seq=from_seq, limit=limit, subject=subject, type=type)

    async def latest_checkpoint(self) -> StoredCheckpoint | None:
        return await self.inner.latest_checkpoint()

    async def get_checkpoint(self, size: int) -> StoredCheckpoint | None:
        return await self.inner.get_checkpoint(size)

    async def list_checkpoints(self, *, min_size: int = 0, max_size: int | None = None) -> list[StoredCheckpoint]:
        return await self.inner.list_checkpoints(min_size=min_size, max_size=max_size)

    async def get_record(self, kind: str, key: str) -> dict[str, Any] | None:
        return await self.inner.get_record(kind, key)

    async def list_records(self, kind: str, *, limit: int = 1000) -> list[tuple[str, dict[str, Any]]]:
        return await self.inner.list_records(kind, limit=limit)

    # -- writes: where the faults are ----------------------------------------------------------------
    async def append(
        self, entries: Sequence[StoredEntry], nodes: Mapping[NodeId, bytes], *, expected_size: int, term: int = 0
    ) -> None:
        self._before("append")
        await self.inner.append(entries, nodes, expected_size=expected_size, term=term)
        self._after("append")

    async def erase_data(self, seqs: Sequence[int]) -> int:
        self._before("erase_data")
        return await self.inner.erase_data(seqs)

    async def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        self._before("add_checkpoint")
        await self.inner.add_checkpoint(checkpoint)

    async def put_record(self, kind: str, key: str, doc: Mapping[str, Any]) -> None:
        self._before("put_record")
        await self.inner.put_record(kind, key, doc)

    async def delete_record(self, kind: str, key: str) -> bool:
        self._before("delete_record")
        return await self.inner.delete_record(kind, key)


def _conforms(store: FaultyStorage) -> Storage:
    return store  # mypy checks here that the wrapper implements the whole Storage protocol

"""The log: a thin face over its three parts, each in its own module.

- ``sequencer``: accepted events become durable, contiguous entries in group commits;
- ``publisher``: signed checkpoints of the committed tree, as a loop of its own;
- ``proofs``: committed entries, checkpoints, roots and RFC 9162 proofs for readers.

Clock and randomness come in as arguments. Services and the API use this class; none of them reach the
store behind it for the log's own records.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from ledger.core.entries import Event
from ledger.core.notes import Signer
from ledger.core.records import StoredCheckpoint, StoredEntry
from ledger.errors import LedgerError
from ledger.log.proofs import Proofs
from ledger.log.publisher import Publisher
from ledger.log.sequencer import AppendResult, CommitStats, Sequencer
from ledger.storage.base import Storage

__all__ = ["AppendResult", "CommitStats", "Log"]

log = logging.getLogger("hrledger.log")


class Log:
    def __init__(
        self,
        store: Storage,
        signer: Signer,
        *,
        clock: Callable[[], datetime],
        random_bytes: Callable[[int], bytes],
        term: Callable[[], int] = lambda: 0,
    ) -> None:
        self.store = store
        self.signer = signer
        self.origin = signer.name
        self.sequencer = Sequencer(store, clock=clock, random_bytes=random_bytes, term=term)
        self.proofs = Proofs(store)
        self.publisher = Publisher(store, signer, self.proofs, self.sequencer.stats, clock=clock)
        self.sequencer.on_maybe_grown = self.publisher.poke
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        await self.sequencer.start()
        await self.publisher.start()
        self._tasks = [
            asyncio.create_task(self.sequencer.run(), name="sequencer"),
            asyncio.create_task(self.publisher.run(), name="publisher"),
        ]

    async def stop(self) -> None:
        """Drain: commit what was accepted, publish a last checkpoint, then stop the loops."""
        self.sequencer.close()
        self.publisher.close()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if not self.publish_error:
            try:
                await self.publisher.publish_checkpoint()
            except LedgerError as exc:
                log.error("last checkpoint not published: %s", exc)

    # -- writing ----------------------------------------------------------------------------------
    @property
    def stats(self) -> CommitStats:
        return self.sequencer.stats

    def is_sequencer(self) -> bool:
        """Whether this process may commit now (always on SQLite; on MongoDB, while it holds the lease)."""
        return self.sequencer.is_sequencer()

    async def append(self, events: Sequence[Event]) -> list[AppendResult]:
        """Sequence ``events`` all-or-nothing; returns once they are durably committed."""
        return await self.sequencer.append(events)

    def add_commit_listener(self, listener: Callable[[Sequence[StoredEntry]], None]) -> None:
        self.sequencer.add_commit_listener(listener)

    def remove_commit_listener(self, listener: Callable[[Sequence[StoredEntry]], None]) -> None:
        self.sequencer.remove_commit_listener(listener)

    # -- checkpoints ------------------------------------------------------------------------------
    @property
    def publish_error(self) -> LedgerError | None:
        return self.publisher.publish_error

    def add_publish_listener(self, listener: Callable[[StoredCheckpoint], None]) -> None:
        self.publisher.add_publish_listener(listener)

    def remove_publish_listener(self, listener: Callable[[StoredCheckpoint], None]) -> None:
        self.publisher.remove_publish_listener(listener)

    @property
    def signing_hold(self) -> str | None:
        """Why the log does not sign new checkpoints now (the witness client sets it), or None."""
        return self.publisher.signing_hold

    @signing_hold.setter
    def signing_hold(self, reason: str | None) -> None:
        self.publisher.signing_hold = reason
        if reason is None:
            self.publisher.poke()  # sign what was committed meanwhile

    async def publish_checkpoint(self) -> StoredCheckpoint | None:
        """Sign the committed tree if it grew; refuses a root inconsistent with the last checkpoint."""
        return await self.publisher.publish_checkpoint()

    async def wait_for_checkpoint(self, size: int, timeout: float = 10.0) -> StoredCheckpoint:
        """Wait until a published checkpoint covers the first ``size`` entries."""
        return await self.publisher.wait_for_checkpoint(size, timeout)

    # -- reading ----------------------------------------------------------------------------------
    async def tree_size(self) -> int:
        return await self.proofs.tree_size()

    async def latest_checkpoint(self) -> StoredCheckpoint | None:
        return await self.proofs.latest_checkpoint()

    async def entry(self, seq: int) -> StoredEntry | None:
        return await self.proofs.entry(seq)

    async def entries(
        self, *, from_seq: int = 0, limit: int = 1000, subject: str | None = None, type: str | None = None
    ) -> list[StoredEntry]:
        return await self.proofs.entries(from_seq=from_seq, limit=limit, subject=subject, type=type)

    async def root(self, size: int) -> bytes:
        return await self.proofs.root(size)

    async def inclusion_proof(self, seq: int, size: int) -> list[bytes]:
        return await self.proofs.inclusion_proof(seq, size)

    async def inclusion_proofs(self, seqs: Sequence[int], size: int) -> dict[int, list[bytes]]:
        return await self.proofs.inclusion_proofs(seqs, size)

    async def consistency_proof(self, first: int, second: int) -> list[bytes]:
        return await self.proofs.consistency_proof(first, second)

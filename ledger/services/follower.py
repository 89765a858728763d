"""Following the log: one projection kept current with a tracked position (event sourcing).

A :class:`ProjectionFollower` owns a :class:`~ledger.domain.Projector` and its own lock. Entries reach it
two ways:

- in memory, from this process's sequencer: the log calls the follower after each durable commit, so
  entries it has just committed are never read back from the store (and their facts cost one receipt-time
  parse per commit, not one per entry);
- from the store, for everything this process did not commit (an ``hrledger erase`` or ``calendar add``
  run beside the service, another process on MongoDB, a previous lease holder): each :meth:`catch_up`
  compares the position with the log's committed size and reads the gap back, page by page. A page
  starts *at* the last applied seq: re-reading it proves the store still holds the entry the projection
  was built from.

A position the log does not back up, or an entry that is not what was applied at its seq, means the
projection was built from another history: it is rebuilt from seq 0 (and counted). The follower only
follows: the escalator decides from its projector, the API answers from it, and neither waits for the
other (an escalation tick holds its own lock, not this one).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.core.records import StoredEntry
from ledger.domain import Policy, Projector
from ledger.domain.facts import Fact, fact_from_entry
from ledger.errors import ProjectionGapError
from ledger.log import Log

log = logging.getLogger("hrledger.follower")

PAGE = 1000


@dataclass(slots=True)
class FollowerStats:
    from_commits: int = 0  # entries applied from this process's commits, in memory
    read_back: int = 0  # entries read back from the store (other writers, gaps, rebuilds)
    rebuilds: int = 0


class ProjectionFollower:
    """Keeps ``projector`` current with ``log``; see the module docstring."""

    def __init__(self, log: Log, policy: Policy, *, page: int = PAGE) -> None:
        self.log = log
        self.projector = Projector(policy)
        self.page = page
        self.stats = FollowerStats()
        self._pending: deque[list[Fact]] = deque()  # commits that arrived after a gap
        self._lock = asyncio.Lock()  # one read-back at a time
        self._kick: asyncio.Task[int] | None = None
        log.add_commit_listener(self._committed)

    def close(self) -> None:
        """Stop listening to the log's commits (the projection stays as it is)."""
        self.log.remove_commit_listener(self._committed)

    @property
    def position(self) -> int:
        return self.projector.position

    # -- in memory ----------------------------------------------------------------------------------

    def _committed(self, entries: Sequence[StoredEntry]) -> None:
        """The log's commit listener: apply at once when contiguous, else keep until the gap is read back."""
        self._pending.append(_facts(entries))
        self._apply_pending()
        if self._pending and (self._kick is None or self._kick.done()):
            # Entries of another writer came in between: read them back soon, so pending commits do not pile up.
            self._kick = asyncio.get_running_loop().create_task(self.catch_up(), name="follower-catch-up")

    def _apply_pending(self) -> int:
        """Apply the pending commits that continue the projection (synchronous: never interleaves an evaluation)."""
        fed = 0
        projector = self.projector
        while self._pending:
            batch = self._pending[0]
            if batch[0].seq > projector.position + 1:
                break  # something this process did not commit comes first
            self._pending.popleft()
            fresh = [e for e in batch if e.seq > projector.position]
            fed += projector.feed_all(fresh)
        self.stats.from_commits += fed
        return fed

    # -- from the store -----------------------------------------------------------------------------

    async def catch_up(self) -> int:
        """Apply everything committed since the last call; rebuild from scratch when out of step.

        Cheap when nothing is new (one tree-size read); returns how many entries were applied."""
        async with self._lock:
            try:
                return await self._follow()
            except ProjectionGapError as exc:
                log.warning("projection out of step (%s); rebuilding from the log", exc)
                return await self._rebuild()

    async def rebuild(self) -> int:
        """Forget everything and read the whole log again."""
        async with self._lock:
            return await self._rebuild()

    async def _rebuild(self) -> int:
        self.stats.rebuilds += 1
        self._pending.clear()
        self.projector.reset()
        return await self._follow()

    async def _follow(self) -> int:
        projector = self.projector
        fed = self._apply_pending()
        # The position before the size is read: commits of this process may be applied in memory while the
        # read is in flight, moving the position past the size it returns, and that is no gap.
        known = projector.position
        size = await self.log.tree_size()
        if known >= size:
            raise ProjectionGapError(f"projector at seq {known} but the log holds {size} entries")
        while projector.position + 1 < size:
            before = projector.position  # again: in-memory commits may move it while the page is read
            start = max(before, projector.first_seq)
            batch = await self.log.entries(from_seq=start, limit=self.page)
            if not batch or batch[-1].seq <= before:
                raise ProjectionGapError(f"no entries after seq {before} though the log holds {size}")
            read = projector.feed_all(batch)
            self.stats.read_back += read
            fed += read + self._apply_pending()
        return fed


def _facts(entries: Sequence[StoredEntry]) -> list[Fact]:
    """The facts of one commit, as read back later (``fact_from_entry``): the data is decoded from the stored
    canonical bytes, not taken from the request's event (a client's key order and its ``1.0`` would make a
    fact that prints otherwise than the same fact read back: RFC 8785 sorts keys and writes ``1``). The
    commit's one receipt time is parsed once, and equal values are shared (``ledger.domain.facts``)."""
    return [fact_from_entry(entry) for entry in entries]

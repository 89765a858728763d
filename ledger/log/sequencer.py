"""Sequencing: accepted events become leaves, committed with their tree nodes in one storage transaction.

The sequencer groups the requests pending at once into one commit (up to ``MAX_COMMIT_EVENTS`` events),
each request all-or-nothing, and resolves a request only after its commit is durable. It keeps the tree's
frontier (the perfect nodes of the committed root) in memory, so a commit reads only what idempotency
needs; when another writer moved the tree (``AppendConflict``), it reloads the frontier and retries.
After each commit it tells its listeners (the projection follower, the publisher) about the new entries.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ledger.core import merkle
from ledger.core.entries import (
    AT_RECORDING,
    SALT_SIZE,
    Event,
    data_digest,
    leaf_bytes,
    parse_leaf,
    same_content,
)
from ledger.core.merkle import NodeId
from ledger.core.records import StoredEntry
from ledger.errors import ConflictError, IntegrityError, LedgerError, StorageUnavailableError, ValidationError
from ledger.log.chains import ChainState, check_occurred
from ledger.storage.base import AppendConflict, Storage

log = logging.getLogger("hrledger.log")

MAX_COMMIT_EVENTS = 10_000
MAX_APPEND_RETRIES = 20


@dataclass(frozen=True, slots=True)
class AppendResult:
    seq: int
    leaf_hash: bytes
    recorded_at: str
    created: bool  # False when the same event was already recorded (idempotent replay)
    entry: bytes = b""  # the exact leaf bytes (a receipt carries them)


@dataclass(slots=True)
class _Request:
    events: Sequence[Event]
    future: asyncio.Future[list[AppendResult]]


@dataclass(slots=True)
class CommitStats:
    """Counters for /metrics; plain numbers so the core does not depend on a metrics library."""

    commits: int = 0
    events_committed: int = 0
    last_batch_size: int = 0
    last_commit_seconds: float = 0.0
    checkpoints_published: int = 0
    batch_sizes: list[int] = field(default_factory=list)
    commit_seconds: list[float] = field(default_factory=list)

    def observe(self, size: int, seconds: float) -> None:
        self.commits += 1
        self.events_committed += size
        self.last_batch_size, self.last_commit_seconds = size, seconds
        self.batch_sizes.append(size)
        self.commit_seconds.append(seconds)
        if len(self.batch_sizes) > 4096:  # the metrics layer drains these; never grow without bound
            del self.batch_sizes[:2048], self.commit_seconds[:2048]


class _SaltPool:
    """Fresh 32-byte salts cut from one read of the random source per commit (one syscall, not one per event)."""

    def __init__(self, random_bytes: Callable[[int], bytes], count: int) -> None:
        self._pool = random_bytes(SALT_SIZE * count)
        self._next = 0

    def take(self) -> bytes:
        salt = self._pool[self._next : self._next + SALT_SIZE]
        self._next += SALT_SIZE
        return salt


class Sequencer:
    """Turns appended events into durable, contiguous entries; see the module docstring."""

    def __init__(
        self,
        store: Storage,
        *,
        clock: Callable[[], datetime],
        random_bytes: Callable[[int], bytes],
        term: Callable[[], int] = lambda: 0,
    ) -> None:
        self.store = store
        self._clock = clock
        self._random = random_bytes
        self._term = term
        self._pending: list[_Request] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._size: int | None = None
        self._frontier: dict[NodeId, bytes] = {}
        self._chains = ChainState()
        self.stats = CommitStats()
        self._commit_listeners: list[Callable[[Sequence[StoredEntry]], None]] = []
        #: called when the committed tree may have grown without a commit of ours being answered
        self.on_maybe_grown: Callable[[], None] = lambda: None

    async def start(self) -> None:
        await self._reload()

    def close(self) -> None:
        """Accept nothing more; the loop commits what is pending, then ends."""
        self._closing = True
        self._wake.set()

    async def _reload(self) -> None:
        size = await self.store.tree_size()
        ids = merkle.root_nodes(size)
        nodes = await self.store.get_nodes(ids)
        missing = [n for n in ids if n not in nodes]
        if missing:
            raise IntegrityError(f"tree nodes {missing} are missing for size {size}; run hrledger fsck")
        await self._chains.load(self.store, size)  # prev and recorded_at build on exactly this tree
        self._size, self._frontier = size, nodes

    # -- commit listeners -------------------------------------------------------------------------
    def add_commit_listener(self, listener: Callable[[Sequence[StoredEntry]], None]) -> None:
        """Call ``listener(entries)`` after each durable commit of this process, with its new entries in seq
        order, before any request of the commit is answered. It must be quick and must not raise; entries
        other writers commit are not announced (readers find them by the tree size)."""
        self._commit_listeners.append(listener)

    def remove_commit_listener(self, listener: Callable[[Sequence[StoredEntry]], None]) -> None:
        self._commit_listeners.remove(listener)

    def _tell_listeners(self, entries: Sequence[StoredEntry]) -> None:
        for listener in self._commit_listeners:
            try:
                listener(entries)
            except Exception:  # a listener's bug must not fail a commit that is already durable
                log.exception("a commit listener failed")

    # -- sequencing -------------------------------------------------------------------------------
    def is_sequencer(self) -> bool:
        """Whether this process may commit now (always on SQLite; on MongoDB, while it holds the lease)."""
        try:
            self._term()
        except StorageUnavailableError:
            return False
        return True

    async def append(self, events: Sequence[Event]) -> list[AppendResult]:
        """Sequence ``events`` all-or-nothing; returns once they are durably committed."""
        if self._closing:
            raise StorageUnavailableError("the log is shutting down")
        if not events:
            return []
        future: asyncio.Future[list[AppendResult]] = asyncio.get_running_loop().create_future()
        self._pending.append(_Request(events, future))
        self._wake.set()
        return await asyncio.shield(future)

    async def run(self) -> None:
        """The sequencing loop: commit pending requests until closed and drained."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch: list[_Request] = []
                count = 0
                while self._pending and (not batch or count + len(self._pending[0].events) <= MAX_COMMIT_EVENTS):
                    request = self._pending.pop(0)
                    batch.append(request)
                    count += len(request.events)
                await self._commit(batch)
            if self._closing:
                return

    async def _commit(self, batch: list[_Request]) -> None:
        for _ in range(MAX_APPEND_RETRIES):
            try:
                await self._try_commit(batch)
                return
            except AppendConflict:
                # Another writer moved the tree (a CLI erase, a second node): retry on a fresh frontier.
                # _try_commit reloads it inside this try, so a failing reload fails the batch, not the loop.
                self._size = None
            except LedgerError as exc:
                await self._fail(batch, exc)
                return
            except Exception as exc:  # a bug must not leave clients waiting forever
                log.exception("commit failed")
                await self._fail(batch, LedgerError(f"commit failed: {exc}"))
                return
        await self._fail(batch, StorageUnavailableError("another writer kept moving the tree; retry later"))

    async def _fail(self, batch: list[_Request], exc: LedgerError) -> None:
        for request in batch:
            if not request.future.done():
                request.future.set_exception(exc)
        known = self._size
        try:
            await self._reload()
        except Exception:  # the store is failing: reload at the next commit; this loop must go on
            self._size = None
        if self._size is not None and (known is None or self._size > known):
            # The write may have committed although its answer was lost: a replay must find it signed.
            self.on_maybe_grown()

    async def _try_commit(self, batch: list[_Request]) -> None:
        started = time.perf_counter()
        if self._size is None:
            await self._reload()
        assert self._size is not None
        size = self._size
        ids = [e.event_id for r in batch for e in r.events]
        existing = await self.store.get_entries_by_event_id(ids)
        recorded = self._chains.recorded_at(self._clock())
        heads = await self._chains.heads(self.store, {e.subject for r in batch for e in r.events})
        salts = _SaltPool(self._random, len(ids))
        new_entries: list[StoredEntry] = []
        fresh: dict[str, tuple[Event, StoredEntry]] = {}
        outcomes: list[tuple[_Request, list[AppendResult] | LedgerError]] = []
        for request in batch:
            try:
                results, added = self._sequence_request(
                    request.events, existing, fresh, size + len(new_entries), recorded, heads, salts
                )
            except LedgerError as exc:
                outcomes.append((request, exc))
                continue
            for event, entry in added:
                new_entries.append(entry)
                fresh[event.event_id] = (event, entry)
                heads[entry.subject] = entry.seq
            outcomes.append((request, results))
        if new_entries:
            nodes, _ = merkle.append_leaves(size, self._frontier, [e.leaf_hash for e in new_entries])
            await self.store.append(new_entries, nodes, expected_size=size, term=self._term())
            new_size = size + len(new_entries)
            self._frontier = {n: nodes.get(n) or self._frontier[n] for n in merkle.root_nodes(new_size)}
            self._size = new_size
            self._chains.committed(new_size, {e.subject: e.seq for e in new_entries}, recorded[0])
            self.stats.observe(len(new_entries), time.perf_counter() - started)
            self.on_maybe_grown()
            self._tell_listeners(new_entries)
        for request, outcome in outcomes:
            if request.future.done():
                continue
            if isinstance(outcome, LedgerError):
                request.future.set_exception(outcome)
            else:
                request.future.set_result(outcome)

    def _sequence_request(
        self,
        events: Sequence[Event],
        existing: dict[str, StoredEntry],
        fresh: dict[str, tuple[Event, StoredEntry]],
        next_seq: int,
        recorded: tuple[datetime, str],
        heads: Mapping[str, int | None],
        salts: _SaltPool,
    ) -> tuple[list[AppendResult], list[tuple[Event, StoredEntry]]]:
        """One request's results and new entries, all-or-nothing; ``heads`` are the subjects' chain heads
        before it (this request's own entries chain on from them, locally, until the request is whole)."""
        results: list[AppendResult] = []
        added: list[tuple[Event, StoredEntry]] = []
        local: dict[str, tuple[Event, StoredEntry]] = {}
        own_heads: dict[str, int] = {}
        for index, event in enumerate(events):
            prior = existing.get(event.event_id)
            if prior is not None:
                same = same_content(event, parse_leaf(prior.entry), prior.salt)
                if same is None:
                    raise ConflictError(
                        f"event_id {event.event_id!r} was recorded at seq {prior.seq} and its data "
                        "erased since; its content can no longer be compared"
                    )
                if not same:
                    raise ConflictError(
                        f"event_id {event.event_id!r} was recorded at seq {prior.seq} with other content"
                    )
                results.append(AppendResult(prior.seq, prior.leaf_hash, prior.recorded_at, False, prior.entry))
                continue
            twin = local.get(event.event_id)
            if twin is not None and twin[0] != event:
                raise ValidationError(
                    f"events[{index}].event_id", f"{event.event_id!r} appears twice with different content"
                )
            twin = twin or fresh.get(event.event_id)
            if twin is not None:
                if twin[0] != event:  # another request in this commit holds this id with other content
                    raise ConflictError(f"event_id {event.event_id!r} is being recorded with other content")
                results.append(AppendResult(twin[1].seq, twin[1].leaf_hash, twin[1].recorded_at, False, twin[1].entry))
                continue
            check_occurred(event, recorded[0], f"events[{index}].occurred_at" if len(events) > 1 else "occurred_at")
            prev = own_heads.get(event.subject, heads.get(event.subject))
            entry = self._make_entry(event, next_seq + len(added), prev, recorded[1], salts.take())
            added.append((event, entry))
            local[event.event_id] = (event, entry)
            own_heads[event.subject] = entry.seq
            results.append(AppendResult(entry.seq, entry.leaf_hash, entry.recorded_at, True, entry.entry))
        return results, added

    @staticmethod
    def _make_entry(event: Event, seq: int, prev: int | None, recorded_at: str, salt: bytes) -> StoredEntry:
        data = event.data_bytes
        leaf = leaf_bytes(event, seq=seq, prev=prev, recorded_at=recorded_at, digest=data_digest(salt, data))
        occurred_at = recorded_at if event.occurred_at == AT_RECORDING else event.occurred_at
        return StoredEntry(
            seq=seq,
            event_id=event.event_id,
            type=event.type,
            subject=event.subject,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            entry=leaf,
            leaf_hash=merkle.leaf_hash(leaf),
            data=data,
            salt=salt,
        )

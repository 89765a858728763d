"""One sequencer at a time across processes: a lease document with an expiry and a fencing term.

The lease document ``{name: (holder, term, expires_ms)}`` lives beside the log. A process takes it when
it is free or expired, with a compare-and-set on exactly what it read, and every takeover raises
``term``. The holder renews every ``ttl / 3``. Before claiming to hold a new term, the holder raises the
store's term (the :class:`~ledger.storage.leases.Fence`: the head's term on MongoDB), and every commit
carries the term in the same conditional update that moves the head, so a paused or partitioned former
holder can never commit once another has taken over: the lease gives liveness, the fence gives safety.

``decide`` is the pure rule; ``Lease`` does the I/O, through the store's lease port
(:class:`~ledger.storage.leases.LeaseStore`) and its fence, never through the driver's database. Clocks
only decide *when* a takeover happens: a skewed clock can cause an early takeover, never two commits with
different terms at the same size.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from enum import Enum

from ledger.errors import StorageError, StorageUnavailableError
from ledger.storage.leases import LeaseBackend, LeaseRecord

log = logging.getLogger("hrledger.lease")

DEFAULT_TTL = 10.0


class Action(Enum):
    """What one round of ``Lease.step`` does, as ``decide`` chooses it."""

    CREATE = "create"  # no lease document yet
    RENEW = "renew"  # ours: extend it (keeps the term)
    TAKE = "take"  # someone else's and expired: take it with a new term
    WAIT = "wait"  # someone else's and live


def decide(current: LeaseRecord | None, me: str, now_ms: int) -> Action:
    """The pure rule: create a missing lease, renew ours, take an expired one, else wait."""
    if current is None:
        return Action.CREATE
    if current.holder == me:
        return Action.RENEW
    if current.expires_ms <= now_ms:
        return Action.TAKE
    return Action.WAIT


def next_term(current: LeaseRecord | None, store_term: int) -> int:
    """A new holder's term: above the lease's and above any term the store has ever committed with."""
    return max(current.term if current else 0, store_term) + 1


def default_holder() -> str:
    """A holder name unique to this process: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(4).hex()}"


class Lease:
    """The sequencer lease of one process. ``run()`` keeps it; ``current_term()`` feeds ``Log(term=...)``."""

    def __init__(
        self,
        store: LeaseBackend,
        *,
        holder: str | None = None,
        ttl: float = DEFAULT_TTL,
        name: str = "sequencer",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if ttl <= 0:
            raise ValueError("the lease ttl must be positive")
        self.store = store
        self.holder = holder or default_holder()
        self.ttl = ttl
        self.name = name
        self._clock = clock
        self._term = 0
        self._valid_until = 0.0  # local clock: after this we stop committing even if renewal is pending
        self.next_step_in = ttl / 3  # seconds until the next step of run()

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    @property
    def term(self) -> int:
        return self._term

    def is_held(self) -> bool:
        return self._term > 0 and self._clock() < self._valid_until and self.store.observed_term <= self._term

    def current_term(self) -> int:
        """The term to commit with; raises StorageUnavailableError when this process is not the sequencer."""
        if not self.is_held():
            raise StorageUnavailableError("this process does not hold the sequencer lease; retry shortly")
        return self._term

    async def step(self) -> bool:
        """One acquire-or-renew round; returns whether the lease is held afterwards."""
        started = self._clock()
        expires_ms = int((started + self.ttl) * 1000)
        try:
            leases = self.store.leases
            current = await leases.read(self.name)
            action = decide(current, self.holder, self._now_ms())
            if action is Action.WAIT:
                assert current is not None
                self._lose(current)
                # Look again just after it expires: a takeover then comes within one ttl of the holder's death.
                self.next_step_in = max(0.05, (current.expires_ms - self._now_ms()) / 1000 + 0.05)
                return False
            if action is Action.RENEW:
                assert current is not None
                won, term = await leases.renew(self.name, self.holder, current.term, expires_ms), current.term
                if won and term != self._term:  # taken in a round whose fence failed: fence before claiming
                    won = await self.store.fence(term) == term
            else:
                term = next_term(current, await self.store.read_term())
                new = LeaseRecord(self.holder, term, expires_ms)
                if current is None:
                    won = await leases.try_create(self.name, new)
                else:
                    won = await leases.try_take(self.name, current, new)
                if won:
                    fenced = await self.store.fence(term)  # before committing anything under this term
                    won = fenced == term
        except StorageError as exc:  # the lease port and the fence translate their driver's errors
            log.warning("lease %s: renewal failed, holding only until local expiry: %s", self.name, exc)
            return self.is_held()
        if not won:
            self._lose(None)
            return False
        if term != self._term:
            log.info("lease %s: %s holds term %d", self.name, self.holder, term)
        self._term = term
        self._valid_until = started + self.ttl * 0.9  # a margin for the round trip and clock drift
        return True

    def _lose(self, current: LeaseRecord | None) -> None:
        """Forget our term (logging the loss once)."""
        if self._term:
            log.warning(
                "lease %s: lost term %d%s",
                self.name,
                self._term,
                f" to {current.holder} (term {current.term})" if current else "",
            )
        self._term = 0
        self._valid_until = 0.0

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Acquire and renew every ttl/3 until ``stop`` is set (or the task is cancelled); while another process
        holds the lease, look again just after its expiry."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            self.next_step_in = self.ttl / 3
            await self.step()  # logs and absorbs store errors itself
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(self.next_step_in, self.ttl / 3)):
                    await stop.wait()

    async def wait_held(self, timeout: float) -> None:
        """Step until the lease is held or ``timeout`` seconds pass (StorageUnavailableError)."""
        deadline = time.monotonic() + timeout
        while not await self.step():
            if time.monotonic() >= deadline:
                raise StorageUnavailableError(f"lease {self.name} not acquired within {timeout:g}s")
            await asyncio.sleep(min(self.ttl / 10, 0.2))

    async def release(self) -> None:
        """Give the lease up at once (clean shutdown), so that another process need not wait for expiry."""
        term, self._term, self._valid_until = self._term, 0, 0.0
        if not term:
            return
        try:
            await self.store.leases.release(self.name, self.holder, term)
        except StorageError as exc:
            log.warning("lease %s: release failed, it will expire on its own: %s", self.name, exc)

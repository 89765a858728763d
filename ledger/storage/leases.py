"""The lease port: what ``ledger.services.lease`` needs from a store to elect one sequencer among processes.

Two small contracts, both implemented by the MongoDB driver (an SQLite file has one writing process and
needs neither):

- :class:`LeaseStore` keeps lease documents ``{name: (holder, term, expires_ms)}``. Every change is a
  compare-and-set on exactly what the caller read, so two processes can never both win one round.
- :class:`Fence` is the store's own sequencer term (the head's ``term`` on MongoDB): every commit carries
  its writer's term and is refused below the fence, so a paused former holder can never commit once a new
  holder has raised it. The lease gives liveness; the fence gives safety.

Times are milliseconds of the holder's clock; clocks decide only *when* a takeover happens, never whether
two terms can commit at one size. Each method may raise StorageUnavailableError or StorageError (the
driver's boundary translates its own errors); a lost compare-and-set is a ``False``, never an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class LeaseRecord:
    """One lease as stored: who holds it, under which term, until when (ms of the holder's clock)."""

    holder: str
    term: int
    expires_ms: int

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> LeaseRecord | None:
        """A stored document as a record; None for None."""
        if doc is None:
            return None
        return cls(holder=str(doc["holder"]), term=int(doc["term"]), expires_ms=int(doc["expires_ms"]))


class LeaseStore(Protocol):
    """Lease documents with compare-and-set updates; safe to call concurrently from many processes."""

    async def read(self, name: str) -> LeaseRecord | None:
        """The lease ``name`` as stored now; None when it was never created."""
        ...

    async def try_create(self, name: str, record: LeaseRecord) -> bool:
        """Create the lease if it does not exist; False (changing nothing) when another process created it."""
        ...

    async def try_take(self, name: str, current: LeaseRecord, new: LeaseRecord) -> bool:
        """Replace the lease with ``new`` only if it is still exactly ``current``; False when anything changed.

        The caller MUST have decided from ``current`` that it may take it (free or expired) and MUST give
        ``new`` a term above ``current.term`` and above every term the fence has seen."""
        ...

    async def renew(self, name: str, holder: str, term: int, expires_ms: int) -> bool:
        """Extend the lease to ``expires_ms`` if ``holder`` still holds it under ``term``; False otherwise."""
        ...

    async def release(self, name: str, holder: str, term: int) -> None:
        """Expire the lease at once if ``holder`` holds it under ``term`` (a clean shutdown); else nothing."""
        ...


class Fence(Protocol):
    """The store's sequencer term: commits under a lower term are refused (see the module docstring)."""

    @property
    def observed_term(self) -> int:
        """The highest store term this process has seen in any read or commit (no I/O)."""
        ...

    async def read_term(self) -> int:
        """Read the store's current term (and raise ``observed_term`` to it)."""
        ...

    async def fence(self, term: int) -> int:
        """Raise the store's term to ``term`` unless it is higher already; returns the term afterwards.

        A new holder MUST fence before committing anything under its term."""
        ...


class LeaseBackend(Fence, Protocol):
    """A store that can elect its sequencer: its fence, and the lease documents beside its log."""

    @property
    def leases(self) -> LeaseStore:
        """The lease documents of this store."""
        ...

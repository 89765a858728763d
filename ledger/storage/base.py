"""The storage contract: everything the log needs from a database, and nothing more.

Terms used below:

- **committed size**: the number of entries the last successful :meth:`Storage.append` made visible.
  Seqs are contiguous: the committed entries are exactly seqs ``0 .. size - 1``.
- **visibility rule**: readers never see entries or nodes above the committed size. Every read returns
  only entries with ``seq < size`` and tree nodes whose last leaf is below ``size`` (``NodeId.end <= size``),
  for a committed size at least as large as any size read before it; what an append that has not
  committed (or never will) wrote is invisible. A read may see an older size than the newest (it never
  waits), never a torn one: every entry below a size it saw, and every node of that size's root, is there.
- **durable**: survives a process kill and a power loss (SQLite: WAL with ``synchronous=FULL``; MongoDB:
  majority write concern with journaling).

Errors. Drivers translate their own exceptions at ONE boundary each (``sqlite.py``: by
``sqlite3.Error.sqlite_errorcode``; ``mongo_errors.py``: by PyMongo's exception classes and named server
codes), never by message text, into the classes of :mod:`ledger.errors`:

- :class:`~ledger.errors.StorageUnavailableError` when the store cannot serve now but may later: read-only
  or full disk, an I/O error, busy or locked, a file it cannot open, a server unreachable, stepping down or
  not primary, a timeout, a lost lease. Every method may raise it. Its message names the driver's code.
- :class:`~ledger.errors.StorageError` for any other driver failure (a corrupt file, a malformed command).
  Every method may raise it.
- :class:`~ledger.errors.IntegrityError` where stored data contradicts what must hold (named per method).
- :class:`AppendConflict` (outside the error tree: it never reaches a client) from :meth:`Storage.append`.

Concurrency. Every method is a coroutine that is safe to call concurrently with any other from one event
loop; drivers serialise writes themselves and run blocking work off the loop. Several processes may share
one MongoDB store (commits are fenced by the sequencer term, see ``mongo_commit.py``); an SQLite file has
one writing process, and any number of readers on their own connections beside its writer.

Every driver passes the one conformance suite, ``tests/support/conformance.py``, which checks each
guarantee stated here.
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
    """Async store of the log; see the module docstring for the visibility rule, errors and concurrency."""

    async def open(self) -> None:
        """Connect and create the schema (tables, indexes, the head) if absent; an existing store is kept.

        Raises StorageUnavailableError when the store cannot be reached or opened (a missing directory, an
        unreachable server). Every other method MUST NOT be called before ``open`` returns.
        """
        ...

    async def close(self) -> None:
        """Wait for the calls in flight, then release connections and threads.

        No method may be called afterwards (open a new instance instead). Closing twice is harmless.
        """
        ...

    # -- the tree -------------------------------------------------------------------------------
    async def tree_size(self) -> int:
        """The committed size: 0 for an empty log.

        Safe as an upper bound for reads (every seq below it is readable, every node of its root present)
        and, by the one sequencer, as the ``expected_size`` of its next append. It MUST NOT be used as a
        substitute for reading the latest checkpoint: it may be ahead of every signed tree head, and what a
        client is told is proven only by a checkpoint.
        """
        ...

    async def append(
        self, entries: Sequence[StoredEntry], nodes: Mapping[NodeId, bytes], *, expected_size: int, term: int = 0
    ) -> None:
        """Atomically add ``entries`` (seqs ``expected_size`` onward, contiguous) and their tree ``nodes``.

        All or nothing, and durable when it returns; the entries become visible together, when the committed
        size moves from ``expected_size`` to ``expected_size + len(entries)``. ``nodes`` MUST be exactly
        the new perfect nodes ``merkle.append_leaves`` computed for these leaves on the frontier of
        ``expected_size``: the store does not recompute them.

        Raises AppendConflict, writing nothing, when the committed size is not ``expected_size``, an
        ``event_id`` is already recorded, or (drivers with leases) ``term`` is lower than the store's
        sequencer term (``StaleTermConflict`` on MongoDB). Raises StorageError, writing nothing, when the
        seqs are not contiguous from ``expected_size``; IntegrityError when a node exists already where a
        new one belongs (the store holds a tree this sequencer did not build). After StorageUnavailableError
        the outcome may be unknown (the answer of a commit was lost): the caller MUST re-read
        :meth:`tree_size` and look its events up by ``event_id`` before appending them again.
        """
        ...

    async def get_nodes(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        """The hashes of those perfect nodes ``ids`` that are committed; an absent or uncommitted id is simply
        missing from the result (the caller decides whether that is an IntegrityError).

        Safe for the nodes of any size up to a committed size read before: they are all present in a
        sound store. Any number of ids may be asked at once; one call is one batched read.
        """
        ...

    # -- entries --------------------------------------------------------------------------------
    async def get_entry(self, seq: int) -> StoredEntry | None:
        """The committed entry at ``seq``; None when ``seq`` is negative or not below the committed size."""
        ...

    async def get_entries_by_event_id(self, event_ids: Sequence[str]) -> dict[str, StoredEntry]:
        """The committed entries holding these event_ids, by event_id; ids not recorded are absent.

        Any number of ids, repeated ones included. This is the idempotency lookup: an id recorded once is
        found here for ever (erasure keeps the leaf and its event_id).
        """
        ...

    async def subject_heads(self, subjects: Sequence[str], *, tree_size: int) -> dict[str, int]:
        """The latest seq below ``tree_size`` of each subject (its chain head in that tree); subjects without
        an entry there are absent. ``tree_size`` above the committed size reads as the committed size. One
        index lookup per subject, never a scan: the sequencer asks it for the ``prev`` of new entries."""
        ...

    async def scan_entries(
        self, *, from_seq: int = 0, limit: int = 1000, subject: str | None = None, type: str | None = None
    ) -> list[StoredEntry]:
        """Committed entries with ``seq >= from_seq`` in seq order, optionally only one subject and/or type,
        at most ``limit`` (``limit <= 0``: none). Without filters the seqs of a page are consecutive.

        Use :func:`iter_entries` to read everything that matches, page by page.
        """
        ...

    async def erase_data(self, seqs: Sequence[int]) -> int:
        """Drop ``data`` and ``salt`` of the given committed entries; returns how many changed.

        The leaf, its hash, event_id, subject, type and times stay (every proof still verifies). Seqs not
        committed or already erased are ignored, so it is idempotent. Durable when it returns. The log
        MUST append the ``ledger.erased`` entry naming these seqs before calling it (SPEC section 1).
        """
        ...

    # -- checkpoints ----------------------------------------------------------------------------
    async def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """Store a published checkpoint, durably.

        Storing the same root for a size already stored is a no-op (the first note is kept); another root
        for that size raises IntegrityError and changes nothing. The store does not check the size against
        the tree: the publisher signs only committed, consistent roots.
        """
        ...

    async def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The stored checkpoint of the largest size; None before the first one."""
        ...

    async def get_checkpoint(self, size: int) -> StoredCheckpoint | None:
        """The checkpoint stored for exactly ``size``; None when none was published for it."""
        ...

    async def list_checkpoints(self, *, min_size: int = 0, max_size: int | None = None) -> list[StoredCheckpoint]:
        """Checkpoints with ``min_size <= size <= max_size`` (no upper bound when None), by size ascending."""
        ...

    # -- small documents (tokens, timestamps, deliveries, settings) -------------------------------
    async def put_record(self, kind: str, key: str, doc: Mapping[str, Any]) -> None:
        """Insert or replace the JSON-serialisable document ``(kind, key)``, durably.

        It comes back as JSON would return it (tuples as lists), whatever the driver stores natively.
        Records are not part of the log: no proof covers them, and they MUST NOT hold what a bundle proves.
        """
        ...

    async def get_record(self, kind: str, key: str) -> dict[str, Any] | None:
        """The document ``(kind, key)``; None when absent."""
        ...

    async def list_records(self, kind: str, *, limit: int = 1000) -> list[tuple[str, dict[str, Any]]]:
        """``(key, document)`` pairs of one kind ordered by key, at most ``limit`` (``limit <= 0``: none)."""
        ...

    async def delete_record(self, kind: str, key: str) -> bool:
        """Remove the document ``(kind, key)``; returns whether it existed."""
        ...


async def iter_entries(
    store: Storage, *, from_seq: int = 0, subject: str | None = None, type: str | None = None, page: int = 1000
) -> AsyncIterator[list[StoredEntry]]:
    """Every matching entry from ``from_seq`` on, in seq order, one page at a time (the one paging loop).

    It stops at the committed size it meets: entries committed while it pages may or may not be included.
    """
    while True:
        rows = await store.scan_entries(from_seq=from_seq, limit=page, subject=subject, type=type)
        if not rows:
            return
        yield rows
        if len(rows) < page:
            return
        from_seq = rows[-1].seq + 1

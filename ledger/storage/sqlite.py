"""The embedded store: one SQLite file in WAL mode, driven from worker threads off the event loop.

Durability: ``synchronous=FULL``. In WAL mode ``NORMAL`` survives a process kill but may drop the last
commits on power loss, and an acknowledged event must survive both; the fsync per commit is paid once
per group commit, not once per event, so FULL costs little here.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from ledger.core.merkle import NodeId
from ledger.core.records import StoredCheckpoint, StoredEntry
from ledger.errors import IntegrityError, StorageError, StorageUnavailableError
from ledger.storage.base import AppendConflict
from ledger.storage.sqlite_errors import translate
from ledger.storage.sqlite_file import (
    ENTRY_COLUMNS,
    SCHEMA,
    checkpoint_of,
    entry_of,
    make_private,
    truncate_wal,
)

T = TypeVar("T")

_NODE_LOOKUP = "SELECT level, idx, hash FROM nodes WHERE level=? AND idx=?"
HERE_CACHE_KIB = 32 * 1024  # the loop connection's page cache (SQLite's default is 2 MiB)
_NODE_CHUNK = 64  # a proof of a 2^32-entry tree needs at most 64 nodes: one statement


class SQLiteStorage:
    """Storage on one SQLite file: one writer thread and connection; readers on connections of their own.

    WAL lets the readers run beside the writer: a read sees the last committed transaction, so the
    visibility rule of the contract holds by construction. ``busy_timeout`` is how long a statement waits
    for a lock another process holds before it fails with SQLITE_BUSY (StorageUnavailableError).
    """

    def __init__(self, path: Path | str, *, readers: int = 2, busy_timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-w")
        self._readers = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="sqlite-r")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._here: sqlite3.Connection | None = None  # the event loop thread's reader (see _read_here)

    # -- plumbing ---------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use (in the thread that will use it)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=self.busy_timeout)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
                # Deleted content (erased data and salts) is overwritten with zeros, not merely unlinked.
                conn.execute("PRAGMA secure_delete=ON")
                conn.execute("PRAGMA foreign_keys=ON")
            except BaseException:
                conn.close()  # not in _connections yet (a file that is not a database): close() would miss it
                raise
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    async def _run(self, pool: ThreadPoolExecutor, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` on a connection of ``pool``'s thread: the one place sqlite3 errors are translated."""

        def call() -> T:
            try:
                return fn(self._connect())
            except sqlite3.Error as exc:
                raise translate(exc) from exc

        return await asyncio.get_running_loop().run_in_executor(pool, call)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read on a reader connection."""
        return await self._run(self._readers, fn)

    def _read_here(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run a small indexed read on this (the event loop's) thread, on a connection of its own.

        For the reads that cost less than a thread hop: the committed size (one B-tree seek) and a proof's
        nodes (at most ``_NODE_CHUNK`` key lookups, tens of microseconds from the page cache). A hop to a
        worker thread costs more CPU than that and, on a busy machine, milliseconds of scheduling, which
        is what a proof's p99 was made of. WAL readers never wait for the writer, so this never blocks on it.
        """
        conn = self._here
        if conn is None:
            try:
                conn = self._here = self._connect()
                # Proofs touch O(log n) pages each, the upper levels of the nodes B-tree every time: a page
                # cache of its own (bounded, so memory stays flat in log size) keeps those in memory.
                conn.execute(f"PRAGMA cache_size=-{HERE_CACHE_KIB}")
            except sqlite3.Error as exc:
                raise translate(exc) from exc
        try:
            return fn(conn)
        except sqlite3.Error as exc:
            raise translate(exc) from exc

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in one write transaction (BEGIN IMMEDIATE ... COMMIT), rolled back if it raises."""

        def txn(conn: sqlite3.Connection) -> T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
            except BaseException:
                if conn.in_transaction:  # SQLite rolls back by itself after some errors (SQLITE_FULL, IOERR)
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        return await self._run(self._writer, txn)

    async def open(self) -> None:
        """Create the schema if absent; StorageUnavailableError when the file cannot be opened or written."""
        if not self.path.parent.is_dir():
            raise StorageUnavailableError(f"sqlite: directory {self.path.parent} does not exist (SQLITE_CANTOPEN)")
        make_private(self.path)
        await self._run(self._writer, lambda conn: conn.executescript(SCHEMA))
        for suffix in ("-wal", "-shm"):  # SQLite gives them the database file's mode; an old ledger's too
            make_private(self.path.with_name(self.path.name + suffix), create=False)

    async def close(self) -> None:
        """Wait for the calls in flight, then close every connection."""

        def close_all() -> None:
            with self._lock:
                for conn in self._connections:
                    conn.close()
                self._connections.clear()

        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        close_all()
        self._here, self._local = None, threading.local()

    # -- the tree ---------------------------------------------------------------------------------
    async def tree_size(self) -> int:
        """The committed size (the highest seq plus one)."""
        row = self._read_here(lambda c: c.execute("SELECT max(seq) FROM entries").fetchone())
        return 0 if row[0] is None else int(row[0]) + 1

    async def append(
        self, entries: Sequence[StoredEntry], nodes: Mapping[NodeId, bytes], *, expected_size: int, term: int = 0
    ) -> None:
        """One transaction: check the size, insert entries and nodes, commit (one fsync). ``term`` is unused:
        an SQLite file has one writing process."""
        for offset, e in enumerate(entries):
            if e.seq != expected_size + offset:
                raise StorageError(f"entry seq {e.seq} is not contiguous from {expected_size}")
        rows = [
            (e.seq, e.event_id, e.type, e.subject, e.occurred_at, e.recorded_at, e.entry, e.leaf_hash, e.data, e.salt)
            for e in entries
        ]
        node_rows = [(n.level, n.index, h) for n, h in nodes.items()]

        def write(conn: sqlite3.Connection) -> None:
            row = conn.execute("SELECT max(seq) FROM entries").fetchone()
            size = 0 if row[0] is None else row[0] + 1
            if size != expected_size:
                raise AppendConflict(f"tree size is {size}, expected {expected_size}")
            try:
                conn.executemany(f"INSERT INTO entries ({ENTRY_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
            except sqlite3.IntegrityError as exc:
                raise AppendConflict(f"event_id already recorded: {exc}") from None
            try:
                conn.executemany("INSERT INTO nodes (level, idx, hash) VALUES (?,?,?)", node_rows)
            except sqlite3.IntegrityError as exc:
                raise IntegrityError(f"a tree node already exists where a new one belongs: {exc}") from None

        await self._write(write)

    async def get_nodes(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        """Point lookups on the (level, idx) key, ``_NODE_CHUNK`` per statement (a UNION ALL of them, so one
        prepared statement per chunk size, cached by sqlite3) in one reader call; committed nodes only, by WAL
        isolation."""
        wanted = list(dict.fromkeys(ids))

        def read(conn: sqlite3.Connection) -> dict[NodeId, bytes]:
            found: dict[NodeId, bytes] = {}
            for i in range(0, len(wanted), _NODE_CHUNK):
                chunk = wanted[i : i + _NODE_CHUNK]
                sql = " UNION ALL ".join([_NODE_LOOKUP] * len(chunk))
                args = [v for n in chunk for v in (n.level, n.index)]
                for level, index, digest in conn.execute(sql, args):
                    found[NodeId(level, index)] = bytes(digest)
            return found

        if not wanted:
            return {}
        if len(wanted) <= _NODE_CHUNK:  # a proof's or a root's nodes: cheaper here than a hop
            return self._read_here(read)
        return await self._read(read)

    # -- entries ----------------------------------------------------------------------------------
    async def get_entry(self, seq: int) -> StoredEntry | None:
        """The committed entry at ``seq``, or None."""
        row = await self._read(
            lambda c: c.execute(f"SELECT {ENTRY_COLUMNS} FROM entries WHERE seq=?", (seq,)).fetchone()
        )
        return None if row is None else entry_of(row)

    async def get_entries_by_event_id(self, event_ids: Sequence[str]) -> dict[str, StoredEntry]:
        """Lookups on the unique event_id index, 500 ids per statement; a few ids on the loop's connection."""

        def read(conn: sqlite3.Connection) -> dict[str, StoredEntry]:
            found: dict[str, StoredEntry] = {}
            unique = list(dict.fromkeys(event_ids))
            for i in range(0, len(unique), 500):
                chunk = unique[i : i + 500]
                marks = ",".join("?" * len(chunk))
                for row in conn.execute(f"SELECT {ENTRY_COLUMNS} FROM entries WHERE event_id IN ({marks})", chunk):
                    found[row[1]] = entry_of(row)
            return found

        if not event_ids:
            return {}
        if len(event_ids) <= _NODE_CHUNK:  # a commit of single-event requests: index seeks, cheaper than a hop
            return self._read_here(read)
        return await self._read(read)

    async def subject_heads(self, subjects: Sequence[str], *, tree_size: int) -> dict[str, int]:
        """One seek on the (subject, seq) index per subject; a commit's few subjects on the loop's connection."""

        def read(conn: sqlite3.Connection) -> dict[str, int]:
            heads: dict[str, int] = {}
            for subject in dict.fromkeys(subjects):
                # max() over the (subject, seq) index is one seek from the end of the subject's range
                row = conn.execute("SELECT max(seq) FROM entries WHERE subject=? AND seq<?", (subject, tree_size))
                found = row.fetchone()[0]
                if found is not None:
                    heads[subject] = int(found)
            return heads

        if not subjects:
            return {}
        if len(subjects) <= _NODE_CHUNK:  # index seeks: cheaper here than a thread hop
            return self._read_here(read)
        return await self._read(read)

    async def scan_entries(
        self, *, from_seq: int = 0, limit: int = 1000, subject: str | None = None, type: str | None = None
    ) -> list[StoredEntry]:
        """One page in seq order, on the (subject, seq) or (type, seq) index when filtered."""
        if limit <= 0:
            return []
        where, args = ["seq >= ?"], [from_seq]
        if subject is not None:
            where.append("subject = ?")
            args.append(subject)  # type: ignore[arg-type]
        if type is not None:
            where.append("type = ?")
            args.append(type)  # type: ignore[arg-type]
        sql = f"SELECT {ENTRY_COLUMNS} FROM entries WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?"
        rows = await self._read(lambda c: c.execute(sql, [*args, limit]).fetchall())
        return [entry_of(r) for r in rows]

    async def erase_data(self, seqs: Sequence[int]) -> int:
        """NULL the data and salt of the given rows in one transaction; returns the rows changed."""

        def write(conn: sqlite3.Connection) -> int:
            changed = 0
            for seq in seqs:
                cur = conn.execute(
                    "UPDATE entries SET data=NULL, salt=NULL WHERE seq=? AND (data IS NOT NULL OR salt IS NOT NULL)",
                    (seq,),
                )
                changed += cur.rowcount
            return changed

        changed = await self._write(write)
        if changed:
            await self._run(self._writer, truncate_wal)
        return changed

    # -- checkpoints ------------------------------------------------------------------------------
    async def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """Insert unless the size is stored; IntegrityError if it is stored with another root."""

        def write(conn: sqlite3.Connection) -> None:
            row = conn.execute("SELECT root FROM checkpoints WHERE size=?", (checkpoint.size,)).fetchone()
            if row is not None:
                if bytes(row[0]) != checkpoint.root:
                    raise IntegrityError(f"a different root is already published for tree size {checkpoint.size}")
                return
            conn.execute(
                "INSERT INTO checkpoints (size, root, note, published_at) VALUES (?,?,?,?)",
                (checkpoint.size, checkpoint.root, checkpoint.note, checkpoint.published_at),
            )

        await self._write(write)

    async def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The checkpoint of the largest size, or None."""
        row = await self._read(
            lambda c: c.execute(
                "SELECT size, root, note, published_at FROM checkpoints ORDER BY size DESC LIMIT 1"
            ).fetchone()
        )
        return None if row is None else checkpoint_of(row)

    async def get_checkpoint(self, size: int) -> StoredCheckpoint | None:
        """The checkpoint of exactly ``size``, or None."""
        row = await self._read(
            lambda c: c.execute(
                "SELECT size, root, note, published_at FROM checkpoints WHERE size=?", (size,)
            ).fetchone()
        )
        return None if row is None else checkpoint_of(row)

    async def list_checkpoints(self, *, min_size: int = 0, max_size: int | None = None) -> list[StoredCheckpoint]:
        """Checkpoints in ``[min_size, max_size]`` by size."""
        upper = (1 << 62) if max_size is None else max_size
        rows = await self._read(
            lambda c: c.execute(
                "SELECT size, root, note, published_at FROM checkpoints WHERE size BETWEEN ? AND ? ORDER BY size",
                (min_size, upper),
            ).fetchall()
        )
        return [checkpoint_of(r) for r in rows]

    # -- records ----------------------------------------------------------------------------------
    async def put_record(self, kind: str, key: str, doc: Mapping[str, Any]) -> None:
        """Insert or replace, stored as JSON text."""
        text = json.dumps(dict(doc), ensure_ascii=False, sort_keys=True)
        await self._write(
            lambda c: c.execute("INSERT OR REPLACE INTO records (kind, key, doc) VALUES (?,?,?)", (kind, key, text))
        )

    async def get_record(self, kind: str, key: str) -> dict[str, Any] | None:
        """The document, or None."""
        row = await self._read(
            lambda c: c.execute("SELECT doc FROM records WHERE kind=? AND key=?", (kind, key)).fetchone()
        )
        return None if row is None else dict(json.loads(row[0]))

    async def list_records(self, kind: str, *, limit: int = 1000) -> list[tuple[str, dict[str, Any]]]:
        """One kind's documents by key (SQLite's ``LIMIT -1`` would mean all: a limit <= 0 reads nothing)."""
        if limit <= 0:
            return []
        rows = await self._read(
            lambda c: c.execute(
                "SELECT key, doc FROM records WHERE kind=? ORDER BY key LIMIT ?", (kind, limit)
            ).fetchall()
        )
        return [(r[0], dict(json.loads(r[1]))) for r in rows]

    async def delete_record(self, kind: str, key: str) -> bool:
        """Delete; whether a row went."""

        def write(conn: sqlite3.Connection) -> bool:
            return conn.execute("DELETE FROM records WHERE kind=? AND key=?", (kind, key)).rowcount > 0

        return await self._write(write)

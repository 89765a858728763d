"""The embedded store: one SQLite file in WAL mode, driven from worker threads off the event loop.

Durability: ``synchronous=FULL``. In WAL mode ``NORMAL`` survives a process kill but may drop the last
commits on power loss, and an acknowledged event must survive both; the fsync per commit is paid once
per group commit, not once per event, so FULL costs little here.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from ledger.core.merkle import NodeId
from ledger.core.records import StoredCheckpoint, StoredEntry
from ledger.errors import IntegrityError, StorageError, StorageUnavailableError
from ledger.storage.base import AppendConflict

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    subject TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    entry BLOB NOT NULL,
    leaf_hash BLOB NOT NULL,
    data BLOB,
    salt BLOB
);
CREATE INDEX IF NOT EXISTS entries_subject ON entries (subject, seq);
CREATE INDEX IF NOT EXISTS entries_type ON entries (type, seq);
CREATE TABLE IF NOT EXISTS nodes (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
    size INTEGER PRIMARY KEY,
    root BLOB NOT NULL,
    note BLOB NOT NULL,
    published_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
"""

_ENTRY_COLUMNS = "seq, event_id, type, subject, occurred_at, recorded_at, entry, leaf_hash, data, salt"
_UNAVAILABLE_MARKERS = ("readonly", "read-only", "disk is full", "disk i/o error", "unable to open", "locked")


def _translate(exc: sqlite3.Error) -> Exception:
    text = str(exc).lower()
    if any(marker in text for marker in _UNAVAILABLE_MARKERS):
        return StorageUnavailableError(f"sqlite: {exc}")
    return StorageError(f"sqlite: {exc}")


def _blob(value: Any) -> bytes:
    """A BLOB column's bytes. A cell edited outside hrledger may hold TEXT or a number instead: its bytes are
    read as they are, so the digest and hash checks (reads, fsck) judge the content instead of crashing."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode("utf-8")


def _entry(row: Sequence[Any]) -> StoredEntry:
    return StoredEntry(
        seq=row[0],
        event_id=str(row[1]),
        type=str(row[2]),
        subject=str(row[3]),
        occurred_at=str(row[4]),
        recorded_at=str(row[5]),
        entry=_blob(row[6]),
        leaf_hash=_blob(row[7]),
        data=None if row[8] is None else _blob(row[8]),
        salt=None if row[9] is None else _blob(row[9]),
    )


def _checkpoint(row: Sequence[Any]) -> StoredCheckpoint:
    return StoredCheckpoint(size=row[0], root=bytes(row[1]), note=bytes(row[2]), published_at=row[3])


def _private(path: Path, *, create: bool = True) -> None:
    """The file readable and writable by its owner only (0600): it holds personal data and token hashes."""
    try:
        if create and not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        if path.exists() and stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(0o600)
    except OSError as exc:
        raise StorageUnavailableError(f"sqlite: cannot make {path} private: {exc.strerror}") from None


WAL_CHECKPOINT_TRIES = 20


def _truncate_wal(conn: sqlite3.Connection) -> None:
    """After an erasure: copy the WAL into the database and empty it, so no earlier page image holding the
    erased data stays in ``-wal`` (secure_delete zeroed it in the pages written since). A reader holding an
    old snapshot makes the checkpoint incomplete (busy); it is tried again for a while, then reported."""
    for _ in range(WAL_CHECKPOINT_TRIES):
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            return
        time.sleep(0.05)
    raise StorageUnavailableError(
        "sqlite: the WAL could not be truncated after an erasure (a reader kept an old "
        "snapshot open); the erased data may remain in the -wal file until the next "
        "checkpoint: run the erasure again"
    )


class SQLiteStorage:
    """Storage on one SQLite file. One writer thread; readers on their own connections."""

    def __init__(self, path: Path | str, *, readers: int = 2) -> None:
        self.path = Path(path)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-w")
        self._readers = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="sqlite-r")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    # -- plumbing ---------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
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
        def call() -> T:
            try:
                return fn(self._connect())
            except sqlite3.Error as exc:
                raise _translate(exc) from exc

        return await asyncio.get_running_loop().run_in_executor(pool, call)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await self._run(self._readers, fn)

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def txn(conn: sqlite3.Connection) -> T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        return await self._run(self._writer, txn)

    async def open(self) -> None:
        if not self.path.parent.is_dir():
            raise StorageUnavailableError(f"sqlite: directory {self.path.parent} does not exist")
        _private(self.path)
        await self._run(self._writer, lambda conn: conn.executescript(SCHEMA))
        for suffix in ("-wal", "-shm"):  # SQLite gives them the database file's mode; an old ledger's too
            _private(self.path.with_name(self.path.name + suffix), create=False)

    async def close(self) -> None:
        def close_all() -> None:
            with self._lock:
                for conn in self._connections:
                    conn.close()
                self._connections.clear()

        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        close_all()

    # -- the tree ---------------------------------------------------------------------------------
    async def tree_size(self) -> int:
        row = await self._read(lambda c: c.execute("SELECT max(seq) FROM entries").fetchone())
        return 0 if row[0] is None else int(row[0]) + 1

    async def append(
        self, entries: Sequence[StoredEntry], nodes: Mapping[NodeId, bytes], *, expected_size: int, term: int = 0
    ) -> None:
        def write(conn: sqlite3.Connection) -> None:
            row = conn.execute("SELECT max(seq) FROM entries").fetchone()
            size = 0 if row[0] is None else row[0] + 1
            if size != expected_size:
                raise AppendConflict(f"tree size is {size}, expected {expected_size}")
            for offset, e in enumerate(entries):
                if e.seq != expected_size + offset:
                    raise StorageError(f"entry seq {e.seq} is not contiguous from {expected_size}")
            try:
                conn.executemany(
                    f"INSERT INTO entries ({_ENTRY_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    [
                        (
                            e.seq,
                            e.event_id,
                            e.type,
                            e.subject,
                            e.occurred_at,
                            e.recorded_at,
                            e.entry,
                            e.leaf_hash,
                            e.data,
                            e.salt,
                        )
                        for e in entries
                    ],
                )
            except sqlite3.IntegrityError as exc:
                raise AppendConflict(f"event_id already recorded: {exc}") from None
            try:
                conn.executemany(
                    "INSERT INTO nodes (level, idx, hash) VALUES (?,?,?)",
                    [(n.level, n.index, h) for n, h in nodes.items()],
                )
            except sqlite3.IntegrityError as exc:
                raise IntegrityError(f"a tree node already exists where a new one belongs: {exc}") from None

        await self._write(write)

    async def get_nodes(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        def read(conn: sqlite3.Connection) -> dict[NodeId, bytes]:
            found: dict[NodeId, bytes] = {}
            for n in ids:
                row = conn.execute("SELECT hash FROM nodes WHERE level=? AND idx=?", (n.level, n.index)).fetchone()
                if row is not None:
                    found[n] = bytes(row[0])
            return found

        return await self._read(read)

    # -- entries ----------------------------------------------------------------------------------
    async def get_entry(self, seq: int) -> StoredEntry | None:
        row = await self._read(
            lambda c: c.execute(f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE seq=?", (seq,)).fetchone()
        )
        return None if row is None else _entry(row)

    async def get_entries_by_event_id(self, event_ids: Sequence[str]) -> dict[str, StoredEntry]:
        def read(conn: sqlite3.Connection) -> dict[str, StoredEntry]:
            found: dict[str, StoredEntry] = {}
            unique = list(dict.fromkeys(event_ids))
            for i in range(0, len(unique), 500):
                chunk = unique[i : i + 500]
                marks = ",".join("?" * len(chunk))
                for row in conn.execute(f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE event_id IN ({marks})", chunk):
                    found[row[1]] = _entry(row)
            return found

        return await self._read(read)

    async def subject_heads(self, subjects: Sequence[str], *, tree_size: int) -> dict[str, int]:
        def read(conn: sqlite3.Connection) -> dict[str, int]:
            heads: dict[str, int] = {}
            for subject in dict.fromkeys(subjects):
                # max() over the (subject, seq) index is one seek from the end of the subject's range
                row = conn.execute("SELECT max(seq) FROM entries WHERE subject=? AND seq<?", (subject, tree_size))
                found = row.fetchone()[0]
                if found is not None:
                    heads[subject] = int(found)
            return heads

        return await self._read(read) if subjects else {}

    async def scan_entries(
        self, *, from_seq: int = 0, limit: int = 1000, subject: str | None = None, type: str | None = None
    ) -> list[StoredEntry]:
        where, args = ["seq >= ?"], [from_seq]
        if subject is not None:
            where.append("subject = ?")
            args.append(subject)  # type: ignore[arg-type]
        if type is not None:
            where.append("type = ?")
            args.append(type)  # type: ignore[arg-type]
        sql = f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?"
        rows = await self._read(lambda c: c.execute(sql, [*args, limit]).fetchall())
        return [_entry(r) for r in rows]

    async def erase_data(self, seqs: Sequence[int]) -> int:
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
            await self._run(self._writer, _truncate_wal)
        return changed

    # -- checkpoints ------------------------------------------------------------------------------
    async def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
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
        row = await self._read(
            lambda c: c.execute(
                "SELECT size, root, note, published_at FROM checkpoints ORDER BY size DESC LIMIT 1"
            ).fetchone()
        )
        return None if row is None else _checkpoint(row)

    async def get_checkpoint(self, size: int) -> StoredCheckpoint | None:
        row = await self._read(
            lambda c: c.execute(
                "SELECT size, root, note, published_at FROM checkpoints WHERE size=?", (size,)
            ).fetchone()
        )
        return None if row is None else _checkpoint(row)

    async def list_checkpoints(self, *, min_size: int = 0, max_size: int | None = None) -> list[StoredCheckpoint]:
        upper = (1 << 62) if max_size is None else max_size
        rows = await self._read(
            lambda c: c.execute(
                "SELECT size, root, note, published_at FROM checkpoints WHERE size BETWEEN ? AND ? ORDER BY size",
                (min_size, upper),
            ).fetchall()
        )
        return [_checkpoint(r) for r in rows]

    # -- records ----------------------------------------------------------------------------------
    async def put_record(self, kind: str, key: str, doc: Mapping[str, Any]) -> None:
        text = json.dumps(dict(doc), ensure_ascii=False, sort_keys=True)
        await self._write(
            lambda c: c.execute("INSERT OR REPLACE INTO records (kind, key, doc) VALUES (?,?,?)", (kind, key, text))
        )

    async def get_record(self, kind: str, key: str) -> dict[str, Any] | None:
        row = await self._read(
            lambda c: c.execute("SELECT doc FROM records WHERE kind=? AND key=?", (kind, key)).fetchone()
        )
        return None if row is None else dict(json.loads(row[0]))

    async def list_records(self, kind: str, *, limit: int = 1000) -> list[tuple[str, dict[str, Any]]]:
        rows = await self._read(
            lambda c: c.execute(
                "SELECT key, doc FROM records WHERE kind=? ORDER BY key LIMIT ?", (kind, limit)
            ).fetchall()
        )
        return [(r[0], dict(json.loads(r[1]))) for r in rows]

    async def delete_record(self, kind: str, key: str) -> bool:
        def write(conn: sqlite3.Connection) -> bool:
            return conn.execute("DELETE FROM records WHERE kind=? AND key=?", (kind, key)).rowcount > 0

        return await self._write(write)

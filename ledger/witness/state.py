"""The witness's memory: the latest cosigned checkpoint per log, in one SQLite file, durable before it answers.

``witness.sqlite3`` holds three tables:

- ``log_state``: per origin, the size and root of the latest checkpoint cosigned, the checkpoint as the
  log sent it with the cosignature appended, and when. One row per log, never deleted: forgetting a
  log would let the witness cosign a second history for it if it came back.
- ``refusal``: validly signed checkpoints the witness refused because they contradict what it cosigned
  (a 422, or a second root for a cosigned size): possible proof that the log forked, kept as received.
- ``meta``: the witness key the state belongs to; a file made under another key is refused.

Every write commits with ``synchronous=FULL`` (fsync) before the HTTP answer is sent, and moving a log's
state forward is a compare-and-swap on the size and root read before cosigning, so two requests racing
(or two processes on one file) can never roll a log back (the race tlog-witness describes).
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import DataDirError, StorageError, StorageUnavailableError
from ledger.witness.protocol import NEVER_COSIGNED, Latest

MAX_REFUSALS_PER_LOG = 1000  # the first ones are the evidence; later ones are only counted

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS log_state (
    origin TEXT PRIMARY KEY,
    size TEXT NOT NULL,           -- decimal: tree sizes go up to 2**64-1, beyond SQLite's INTEGER
    root BLOB NOT NULL,
    checkpoint BLOB NOT NULL,     -- the checkpoint as received, with this witness's cosignature line
    cosigned_at INTEGER NOT NULL  -- POSIX seconds, the cosignature's timestamp
);
CREATE TABLE IF NOT EXISTS refusal (
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    request BLOB NOT NULL          -- the whole request body: old size, proof and the signed checkpoint
);
CREATE INDEX IF NOT EXISTS refusal_origin ON refusal (origin, id);
"""


@dataclass(frozen=True)
class LogRecord:
    origin: str
    size: int
    root: bytes
    checkpoint: bytes
    cosigned_at: int


@dataclass(frozen=True)
class RefusalRecord:
    origin: str
    received_at: int
    status: int
    reason: str
    request: bytes


def _translate(exc: sqlite3.Error, what: str) -> StorageError:
    code = getattr(exc, "sqlite_errorcode", None)
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY):
        return StorageUnavailableError(f"witness state: {what}: {exc}")
    return StorageError(f"witness state: {what}: {exc}")


class WitnessState:
    """The SQLite file; every call runs on a worker thread, one at a time, so the event loop never blocks."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()

    # -- lifecycle ----------------------------------------------------------------------------------
    async def open(self, vkey: str) -> None:
        """Open (creating if needed) and bind the file to the witness key ``vkey``."""
        await asyncio.to_thread(self._open, vkey)

    def _open(self, vkey: str) -> None:
        db: sqlite3.Connection | None = None
        try:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=5.0)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(_SCHEMA)
            row = db.execute("SELECT value FROM meta WHERE key = 'vkey'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta (key, value) VALUES ('vkey', ?)", (vkey,))
            elif row[0] != vkey:
                db.close()
                raise DataDirError(f"{self.path} is the state of the witness {row[0]}, not of {vkey}")
        except sqlite3.Error as exc:
            if db is not None:
                db.close()  # a file that is not a database, or a full disk: no connection left behind
            raise _translate(exc, f"cannot open {self.path}") from None
        self._db = db

    async def close(self) -> None:
        async with self._lock:
            if self._db is not None:
                db, self._db = self._db, None
                await asyncio.to_thread(db.close)

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise StorageError("witness state is not open")
        return self._db

    # -- reads --------------------------------------------------------------------------------------
    async def latest(self, origin: str) -> Latest:
        record = await self.record(origin)
        return NEVER_COSIGNED if record is None else Latest(record.size, record.root)

    async def record(self, origin: str) -> LogRecord | None:
        async with self._lock:
            return await asyncio.to_thread(self._record, origin)

    def _record(self, origin: str) -> LogRecord | None:
        try:
            row = (
                self._conn()
                .execute("SELECT size, root, checkpoint, cosigned_at FROM log_state WHERE origin = ?", (origin,))
                .fetchone()
            )
        except sqlite3.Error as exc:
            raise _translate(exc, "read") from None
        if row is None:
            return None
        return LogRecord(origin, int(row[0]), bytes(row[1]), bytes(row[2]), int(row[3]))

    async def records(self) -> list[LogRecord]:
        async with self._lock:
            return await asyncio.to_thread(self._records)

    def _records(self) -> list[LogRecord]:
        try:
            rows = self._conn().execute("SELECT origin FROM log_state ORDER BY origin").fetchall()
        except sqlite3.Error as exc:
            raise _translate(exc, "read") from None
        return [r for (origin,) in rows if (r := self._record(origin)) is not None]

    async def refusals(self, origin: str) -> list[RefusalRecord]:
        async with self._lock:
            return await asyncio.to_thread(self._refusals, origin)

    def _refusals(self, origin: str) -> list[RefusalRecord]:
        try:
            rows = (
                self._conn()
                .execute(
                    "SELECT received_at, status, reason, request FROM refusal WHERE origin = ? ORDER BY id", (origin,)
                )
                .fetchall()
            )
        except sqlite3.Error as exc:
            raise _translate(exc, "read") from None
        return [RefusalRecord(origin, int(r[0]), int(r[1]), str(r[2]), bytes(r[3])) for r in rows]

    # -- writes -------------------------------------------------------------------------------------
    async def advance(self, origin: str, expected: Latest, new: LogRecord) -> bool:
        """Compare-and-swap: store ``new`` as the origin's latest only if it still is ``expected``.
        Returns False, changing nothing, when another request moved it first. Durable when it returns."""
        async with self._lock:
            return await asyncio.to_thread(self._advance, origin, expected, new)

    def _advance(self, origin: str, expected: Latest, new: LogRecord) -> bool:
        db = self._conn()
        values = (str(new.size), new.root, new.checkpoint, new.cosigned_at)
        try:
            if expected == NEVER_COSIGNED:
                cursor = db.execute(
                    "INSERT INTO log_state (size, root, checkpoint, cosigned_at, origin) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, "
                    "checkpoint = excluded.checkpoint, cosigned_at = excluded.cosigned_at "
                    "WHERE log_state.size = '0' AND log_state.root = ?",
                    (*values, origin, expected.root),
                )
            else:
                cursor = db.execute(
                    "UPDATE log_state SET size = ?, root = ?, checkpoint = ?, cosigned_at = ? "
                    "WHERE origin = ? AND size = ? AND root = ?",
                    (*values, origin, str(expected.size), expected.root),
                )
        except sqlite3.Error as exc:
            raise _translate(exc, f"cannot store the checkpoint of {origin!r}") from None
        return cursor.rowcount == 1

    async def refuse(self, record: RefusalRecord) -> bool:
        """Keep a refused, validly signed request as possible evidence of a fork; False once the log has
        ``MAX_REFUSALS_PER_LOG`` of them (the earliest are kept)."""
        async with self._lock:
            return await asyncio.to_thread(self._refuse, record)

    def _refuse(self, r: RefusalRecord) -> bool:
        db = self._conn()
        try:
            (count,) = db.execute("SELECT count(*) FROM refusal WHERE origin = ?", (r.origin,)).fetchone()
            if count >= MAX_REFUSALS_PER_LOG:
                return False
            db.execute(
                "INSERT INTO refusal (origin, received_at, status, reason, request) VALUES (?, ?, ?, ?, ?)",
                (r.origin, r.received_at, r.status, r.reason, r.request),
            )
        except sqlite3.Error as exc:
            raise _translate(exc, "cannot keep a refused request") from None
        return True

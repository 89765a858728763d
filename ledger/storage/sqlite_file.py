"""The SQLite file itself: its schema, its rows read back as records, its permissions, its WAL."""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ledger.core.records import StoredCheckpoint, StoredEntry
from ledger.errors import StorageUnavailableError

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

ENTRY_COLUMNS = "seq, event_id, type, subject, occurred_at, recorded_at, entry, leaf_hash, data, salt"


def blob(value: Any) -> bytes:
    """A BLOB column's bytes. A cell edited outside hrledger may hold TEXT or a number instead: its bytes are
    read as they are, so the digest and hash checks (reads, fsck) judge the content instead of crashing."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode("utf-8")


def entry_of(row: Sequence[Any]) -> StoredEntry:
    """One ``entries`` row (columns in ``ENTRY_COLUMNS`` order) as a StoredEntry."""
    return StoredEntry(
        seq=row[0],
        event_id=str(row[1]),
        type=str(row[2]),
        subject=str(row[3]),
        occurred_at=str(row[4]),
        recorded_at=str(row[5]),
        entry=blob(row[6]),
        leaf_hash=blob(row[7]),
        data=None if row[8] is None else blob(row[8]),
        salt=None if row[9] is None else blob(row[9]),
    )


def checkpoint_of(row: Sequence[Any]) -> StoredCheckpoint:
    """One ``checkpoints`` row as a StoredCheckpoint."""
    return StoredCheckpoint(size=row[0], root=bytes(row[1]), note=bytes(row[2]), published_at=row[3])


def make_private(path: Path, *, create: bool = True) -> None:
    """The file readable and writable by its owner only (0600): it holds personal data and token hashes."""
    try:
        if create and not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        if path.exists() and stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(0o600)
    except OSError as exc:
        raise StorageUnavailableError(f"sqlite: cannot make {path} private: {exc.strerror}") from None


WAL_CHECKPOINT_TRIES = 20


def truncate_wal(conn: sqlite3.Connection) -> None:
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

"""The SQLite driver boundary: a ``sqlite3`` error becomes a ``ledger.errors`` class by its result code."""

from __future__ import annotations

import sqlite3

from ledger.errors import StorageError, StorageUnavailableError

#: primary result codes (``sqlite_errorcode & 0xFF``) that mean "not now": the disk, the file or a lock,
#: not the data. Extended codes (SQLITE_IOERR_FSYNC, SQLITE_READONLY_DBMOVED, ...) share their primary code.
UNAVAILABLE_CODES = frozenset(
    {
        sqlite3.SQLITE_READONLY,  # a read-only file or filesystem (EROFS)
        sqlite3.SQLITE_FULL,  # the disk is full (ENOSPC), or a file size limit (EFBIG)
        sqlite3.SQLITE_IOERR,  # the OS failed a read, write or fsync
        sqlite3.SQLITE_BUSY,  # another connection holds the write lock beyond the busy timeout
        sqlite3.SQLITE_LOCKED,  # a lock held inside this process
        sqlite3.SQLITE_CANTOPEN,  # the file, its WAL or its directory cannot be opened
        sqlite3.SQLITE_PERM,  # access denied by the OS
        sqlite3.SQLITE_NOMEM,  # out of memory
        sqlite3.SQLITE_NOLFS,  # large files not supported here
        sqlite3.SQLITE_PROTOCOL,  # a WAL lock race that did not resolve
        sqlite3.SQLITE_INTERRUPT,  # the operation was interrupted
    }
)


def translate(exc: sqlite3.Error) -> StorageError:
    """The driver boundary: one sqlite3 error as a ``ledger.errors`` class, by its result code (never its text).

    Codes in ``UNAVAILABLE_CODES`` become StorageUnavailableError (retry later); every other code, and an
    error without one, StorageError. The message keeps SQLite's code name for the operator.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    name = getattr(exc, "sqlite_errorname", None) or "no result code"
    message = f"sqlite: {exc} ({name})"
    if code is not None and code & 0xFF in UNAVAILABLE_CODES:
        return StorageUnavailableError(message)
    return StorageError(message)

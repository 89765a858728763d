"""The MongoDB driver's one error boundary: PyMongo exceptions as ``ledger.errors``, by class and named code.

Every module of the driver (``mongo``, ``mongo_commit``, ``mongo_lease``) wraps its calls in :func:`guard`;
nothing else in the ledger sees a PyMongo exception. The rule, most specific first:

1. PyMongo's connection classes (``NotPrimaryError``, ``AutoReconnect``, ``NetworkTimeout``,
   ``ServerSelectionTimeoutError``, ``WaitQueueTimeoutError``: all ``ConnectionFailure``) and its timeout
   classes (``ExecutionTimeout``, ``WTimeoutError``) -> StorageUnavailableError;
2. an ``OperationFailure`` (a server's answer) whose code is one of :data:`UNAVAILABLE_CODES`, or that
   carries the ``RetryableWriteError`` label -> StorageUnavailableError;
3. any other PyMongo error -> StorageError.

Messages are never parsed; the message of the translated error names the server's code for the operator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from enum import IntEnum

from pymongo.errors import ConnectionFailure, ExecutionTimeout, OperationFailure, PyMongoError, WTimeoutError

from ledger.errors import LedgerError, StorageError, StorageUnavailableError
from ledger.storage.base import AppendConflict


class ServerCode(IntEnum):
    """MongoDB server error codes this driver names (src/mongo/base/error_codes.yml)."""

    HOST_UNREACHABLE = 6
    HOST_NOT_FOUND = 7
    EXCEEDED_TIME_LIMIT = 50
    WRITE_CONCERN_FAILED = 64
    NETWORK_TIMEOUT = 89
    SHUTDOWN_IN_PROGRESS = 91
    PRIMARY_STEPPED_DOWN = 189
    INTERRUPTED_AT_SHUTDOWN = 11600
    INTERRUPTED_DUE_TO_REPL_STATE_CHANGE = 11602
    DUPLICATE_KEY = 11000
    OUT_OF_DISK_SPACE = 14031
    NOT_WRITABLE_PRIMARY = 10107
    NOT_PRIMARY_NO_SECONDARY_OK = 13435
    NOT_PRIMARY_OR_SECONDARY = 13436
    SOCKET_EXCEPTION = 9001


#: server answers that mean "not now": stepping down, shutting down, not primary, out of disk, timed out
UNAVAILABLE_CODES = frozenset(
    {
        ServerCode.HOST_UNREACHABLE,
        ServerCode.HOST_NOT_FOUND,
        ServerCode.EXCEEDED_TIME_LIMIT,
        ServerCode.WRITE_CONCERN_FAILED,
        ServerCode.NETWORK_TIMEOUT,
        ServerCode.SHUTDOWN_IN_PROGRESS,
        ServerCode.PRIMARY_STEPPED_DOWN,
        ServerCode.INTERRUPTED_AT_SHUTDOWN,
        ServerCode.INTERRUPTED_DUE_TO_REPL_STATE_CHANGE,
        ServerCode.OUT_OF_DISK_SPACE,
        ServerCode.NOT_WRITABLE_PRIMARY,
        ServerCode.NOT_PRIMARY_NO_SECONDARY_OK,
        ServerCode.NOT_PRIMARY_OR_SECONDARY,
        ServerCode.SOCKET_EXCEPTION,
    }
)
#: PyMongo's classes for a server that cannot be reached or did not answer in time
UNAVAILABLE_CLASSES: tuple[type[PyMongoError], ...] = (ConnectionFailure, ExecutionTimeout, WTimeoutError)


def _code_name(code: int | None) -> str:
    """``NotWritablePrimary (10107)``-style text for a server code, ``no code`` without one."""
    if code is None:
        return "no code"
    try:
        return f"{ServerCode(code).name} ({code})"
    except ValueError:
        return f"code {code}"


def translate(exc: PyMongoError, what: str) -> StorageError:
    """One PyMongo exception as StorageUnavailableError or StorageError (see the module docstring)."""
    if isinstance(exc, UNAVAILABLE_CLASSES):
        return StorageUnavailableError(f"mongodb {what}: {type(exc).__name__}: {exc}")
    if isinstance(exc, OperationFailure):
        code = exc.code
        text = f"mongodb {what}: {_code_name(code)}: {exc}"
        if code in UNAVAILABLE_CODES or exc.has_error_label("RetryableWriteError"):
            return StorageUnavailableError(text)
        return StorageError(text)
    return StorageError(f"mongodb {what}: {type(exc).__name__}: {exc}")


@asynccontextmanager
async def guard(what: str) -> AsyncIterator[None]:
    """Translate PyMongo exceptions raised inside the block; ``what`` names the operation in the message.

    The ledger's own errors and AppendConflict pass through unchanged."""
    try:
        yield
    except (AppendConflict, LedgerError):
        raise
    except PyMongoError as exc:
        raise translate(exc, what) from exc

"""The MongoDB driver's error boundary: PyMongo exceptions by class and named server code, never by text."""

from __future__ import annotations

import gc

import pytest
from pymongo.errors import (
    AutoReconnect,
    BulkWriteError,
    ConfigurationError,
    DuplicateKeyError,
    ExecutionTimeout,
    NetworkTimeout,
    NotPrimaryError,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
    WaitQueueTimeoutError,
    WTimeoutError,
)

from ledger.errors import StorageError, StorageUnavailableError
from ledger.storage.mongo import MongoStorage
from ledger.storage.mongo_errors import UNAVAILABLE_CODES, ServerCode, guard, translate
from tests.support.conformance import append_batch, make_entry
from tests.support.mongo_server import NxServer


@pytest.mark.parametrize(
    "exc",
    [
        NotPrimaryError("not primary"),
        AutoReconnect("connection closed"),
        NetworkTimeout("timed out"),
        ServerSelectionTimeoutError("no servers"),
        WaitQueueTimeoutError("pool exhausted"),
        ExecutionTimeout("operation exceeded time limit", code=50),
        WTimeoutError("waiting for replication timed out", code=64),
    ],
    ids=lambda e: type(e).__name__,
)
def test_pymongo_classes_for_an_unreachable_or_slow_server_are_unavailable(exc: PyMongoError) -> None:
    translated = translate(exc, "append")
    assert isinstance(translated, StorageUnavailableError) and type(exc).__name__ in str(translated)


@pytest.mark.parametrize("code", sorted(UNAVAILABLE_CODES))
def test_named_server_codes_are_unavailable(code: ServerCode) -> None:
    translated = translate(OperationFailure("the disk is full", code=int(code)), "append")
    assert isinstance(translated, StorageUnavailableError)
    assert code.name in str(translated) and str(int(code)) in str(translated)


def test_the_retryable_write_label_is_unavailable_whatever_the_code() -> None:
    exc = OperationFailure("x", code=2, details={"errorLabels": ["RetryableWriteError"], "code": 2})
    assert isinstance(translate(exc, "append"), StorageUnavailableError)


@pytest.mark.parametrize(
    "exc",
    [
        OperationFailure("NotWritablePrimary in the text but code 2 (BadValue)", code=2),
        OperationFailure("no code"),
        DuplicateKeyError("E11000 duplicate key", code=11000),
        BulkWriteError({"writeErrors": [{"code": 11000}]}),
        ConfigurationError("bad option"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_everything_else_is_a_storage_error_not_a_retry(exc: PyMongoError) -> None:
    translated = translate(exc, "append")
    assert type(translated) is StorageError


async def test_guard_translates_and_lets_the_ledgers_own_errors_through() -> None:
    with pytest.raises(StorageUnavailableError, match="NOT_WRITABLE_PRIMARY"):
        async with guard("append"):
            raise OperationFailure("not primary", code=10107)
    with pytest.raises(StorageError, match="already"):
        async with guard("append"):
            raise StorageError("already a ledger error")


# PyMongo's monitor may still hold a socket to the server that died under it when the test ends; that socket
# is PyMongo's to close, and its ResourceWarning says nothing about the translation checked here.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
async def test_a_server_that_goes_away_is_unavailable() -> None:
    """A real fault: the wire server stops under an open store, then starts again on the same data."""
    server = NxServer()
    uri = server.start() + "faults"
    store = MongoStorage(uri, server_selection_timeout=0.5)
    try:
        await store.open()
        await append_batch(store, [make_entry(0)])
        server.stop(keep_dir=True)
        with pytest.raises(StorageUnavailableError):
            await store.tree_size()
        with pytest.raises(StorageUnavailableError):
            await append_batch(store, [make_entry(1)])
    finally:
        await store.close()
        server.stop()
        del store
        gc.collect()  # the client's sockets to the dead server are closed here, inside the test

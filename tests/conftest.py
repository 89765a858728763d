"""Fixtures shared across modules: one MongoDB-wire server (nx-27017, or HRLEDGER_MONGODB_URI) per session,
one local RFC 3161 TSA (openssl ts) per session, the store a service test runs on, a started Log, and a
webhook receiver on loopback."""

import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web

from ledger.core.notes import Signer
from ledger.log import Log
from ledger.storage.sqlite import SQLiteStorage
from tests.support.escalator import Receiver
from tests.support.mongo_server import SESSION_DATABASES, fresh_uri, mongo_uri  # noqa: F401
from tests.support.tsa import TSA, start_tsa
from tests.support.witness import forked_log, two_witnesses  # noqa: F401


@pytest.fixture(scope="session")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TSA]:
    """A real ``openssl ts`` TSA on a loopback port for the whole session."""
    server = start_tsa(tmp_path_factory.mktemp("tsa"))
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "mongodb"])
def store_uri(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The store a service test runs on: None for the data dir's embedded SQLite file, or a fresh database on the
    session's MongoDB-wire server. Service tests that take this fixture run once on each driver."""
    if request.param == "sqlite":
        yield None
        return
    uri = fresh_uri(request.getfixturevalue("mongo_uri"))
    yield uri
    # Dropped when the session ends (by mongo_uri, while its server runs), not now: the service under test
    # may still be shutting down (its app is torn down after this fixture when the test asked for
    # aiohttp_client first), and must find its database.
    SESSION_DATABASES.append(uri)


@pytest.fixture
async def log(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Log]:
    """A started Log on a real SQLite file, signed as the test module's ORIGIN; stopped and closed after."""
    store = SQLiteStorage(tmp_path / "l.sqlite3")
    await store.open()
    origin = getattr(request.module, "ORIGIN", "test.example/log")
    lg = Log(store, Signer.generate(origin, bytes(32)), clock=lambda: datetime.now(UTC), random_bytes=os.urandom)
    await lg.start()
    yield lg
    await lg.stop()
    await store.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A real HTTP webhook receiver on a loopback port (see ``Receiver``)."""
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    rec.url = f"http://{host}:{port}/hook"
    yield rec
    await runner.cleanup()

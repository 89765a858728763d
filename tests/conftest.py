"""Fixtures shared across modules: one MongoDB-wire server (nx-27017, or HRLEDGER_MONGODB_URI) per session
and one local RFC 3161 TSA (openssl ts) per session."""

from collections.abc import Iterator

import pytest

from tests.mongo_server import mongo_uri  # noqa: F401
from tests.tsa import TSA, start_tsa


@pytest.fixture(scope="session")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TSA]:
    """A real ``openssl ts`` TSA on a loopback port for the whole session."""
    server = start_tsa(tmp_path_factory.mktemp("tsa"))
    yield server
    server.stop()

"""A real MongoDB wire-protocol server for tests: nx-27017 on a free loopback port, data in a temp dir.

``HRLEDGER_MONGODB_URI`` (e.g. ``mongodb://127.0.0.1:27017/?replicaSet=rs0``) selects a real MongoDB
instead. Either way each test gets a fresh database name through ``fresh_uri``.

Fixture to wire in ``tests/conftest.py`` (or import in a test module): ``mongo_uri`` (session scope)
yields the server's base URI; ``fresh_uri(base)`` gives a URI naming a new, unused database.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ENV = "HRLEDGER_MONGODB_URI"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _nx_binary() -> str:
    candidate = Path(sys.executable).with_name("nx-27017")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nx-27017")
    if found is None:
        raise RuntimeError("nx-27017 is not installed: pip install -e '.[test]'")
    return found


def _ping(uri: str, timeout: float) -> None:
    from pymongo import MongoClient

    client: MongoClient[dict[str, object]] = MongoClient(
        uri, serverSelectionTimeoutMS=int(timeout * 1000), connectTimeoutMS=int(timeout * 1000)
    )
    try:
        client.admin.command("ping")
    finally:
        client.close()


class NxServer:
    """One nx-27017 process; ``start()`` returns once it answers ``ping``."""

    def __init__(self, workdir: Path | None = None) -> None:
        self._own_dir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="hrledger-nx-"))
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 20.0) -> str:
        for _ in range(3):  # the port may be taken between choosing it and binding it
            self.port = free_port()
            log = open(self.workdir / "nx.out", "ab")  # noqa: SIM115 - closed in stop()
            self.process = subprocess.Popen(
                [
                    _nx_binary(),
                    "--host",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "--data-dir",
                    str(self.workdir / "data"),
                    "--pid-file",
                    str(self.workdir / "nx.pid"),
                    "--log-file",
                    str(self.workdir / "nx.log"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.workdir,
            )
            log.close()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                try:
                    _ping(self.uri, 0.5)
                    return self.uri
                except Exception:
                    time.sleep(0.1)
            self.stop(keep_dir=True)
        tail = (self.workdir / "nx.out").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"nx-27017 did not answer ping:\n{tail}")

    def stop(self, *, keep_dir: bool = False) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None
        if self._own_dir and not keep_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> NxServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def fresh_uri(base: str, prefix: str = "t") -> str:
    """``base`` with its path replaced by a new database name (options such as replicaSet are kept)."""
    parts = urlsplit(base)
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def drop_database(uri: str) -> None:
    from pymongo import MongoClient

    from ledger.storage.mongo import database_name

    client: MongoClient[dict[str, object]] = MongoClient(uri, serverSelectionTimeoutMS=5000)
    try:
        client.drop_database(database_name(uri))
    except Exception:
        pass  # cleanup only
    finally:
        client.close()


def mongo_base_uri() -> Iterator[str]:
    """Generator behind the fixture: a real MongoDB from the environment, else a private nx-27017."""
    external = os.environ.get(ENV)
    if external:
        yield external
        return
    server = NxServer()
    server.start()
    try:
        yield server.uri
    finally:
        server.stop()


#: databases the tests made on the session's server, dropped when the session ends (see ``mongo_uri``)
SESSION_DATABASES: list[str] = []


@pytest.fixture(scope="session")
def mongo_uri() -> Iterator[str]:
    """The session's MongoDB; the databases tests made on it are dropped at the end, while it still runs."""
    for uri in mongo_base_uri():
        yield uri
        for made in SESSION_DATABASES:
            drop_database(made)
        SESSION_DATABASES.clear()

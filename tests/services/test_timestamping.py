"""RFC 3161 timestamps against a real local TSA (``openssl ts``, tests/support/tsa.py) and a real SQLite log."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from cryptography.x509 import load_pem_x509_certificates
from rfc3161_client import decode_timestamp_response
from rfc3161_client._rust import parse_timestamp_request

from ledger.core.bundle import build_bundle
from ledger.core.entries import Event
from ledger.errors import IntegrityError, TimestampError, TimestampVerificationError, ValidationError
from ledger.log import Log
from ledger.services.timestamping import (
    RECORD_KIND,
    SHA256_OID,
    Timestamper,
    build_request,
    record_key,
    request_timestamp,
    tokens_for,
    verify_timestamp,
)
from ledger.storage.sqlite import SQLiteStorage
from tests.support.bundles import read, sample_log
from tests.support.tsa import TSA, make_pki, openssl_verify, start_tsa
from verifier.check import verify_bundle
from verifier.note import parse_vkey

ORIGIN = "test.example/log"
NOTE = "test.example/log\n7\nWm9vYmFyIHJvb3QgaGFzaCBvZiAzMiBieXRlcy4uLi4=\n\n— test.example/log AAAA\n".encode()


@pytest.fixture(autouse=True)
def _healthy_tsa(tsa: TSA) -> Iterator[None]:
    tsa.fault = None
    yield
    tsa.fault = None


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def append(log: Log, *ids: str) -> int:
    await log.append(
        [
            Event(f"ev-{i}", "attendance.clock_in", "E1", "2026-01-05T09:00:00+08:00", "hr", {"method": "face"})
            for i in ids
        ]
    )
    size = await log.store.tree_size()
    await log.wait_for_checkpoint(size)
    return size


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


# -- requests and tokens ------------------------------------------------------------------------


def test_request_is_sha256_with_nonce_and_cert_req() -> None:
    first, second = parse_timestamp_request(build_request(NOTE)), parse_timestamp_request(build_request(NOTE))
    assert first.message_imprint.hash_algorithm == SHA256_OID
    assert first.message_imprint.message == hashlib.sha256(NOTE).digest()
    assert first.cert_req is True
    assert first.nonce is not None and first.nonce != second.nonce
    with pytest.raises(TimestampError, match="nothing to timestamp: the message is empty"):
        build_request(b"")


async def test_round_trip_verifies_over_exact_checkpoint_bytes(
    tsa: TSA, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    tsr = await request_timestamp(session, tsa.url, NOTE, root_pem=tsa.root_pem)
    response = decode_timestamp_response(tsr)
    assert response.status == 0 and len(response.signed_data.certificates) == 1  # the signer only
    gen_time = verify_timestamp(tsr, NOTE, tsa.root_pem)
    assert gen_time.tzinfo is not None
    assert abs(datetime.now(UTC) - gen_time) < timedelta(minutes=1)
    (tmp_path / "x.tsr").write_bytes(tsr)
    (tmp_path / "checkpoint").write_bytes(NOTE)
    done = openssl_verify(tmp_path / "x.tsr", tmp_path / "checkpoint", tsa.root_pem_path)
    assert done.returncode == 0 and "Verification: OK" in done.stdout, done.stderr


async def test_verification_fails_over_other_bytes(tsa: TSA, session: aiohttp.ClientSession, tmp_path: Path) -> None:
    tsr = await request_timestamp(session, tsa.url, NOTE)
    other = NOTE.replace(b"\n7\n", b"\n8\n")
    expected = (
        f"the timestamp covers sha256:{hashlib.sha256(NOTE).hexdigest()}, "
        f"not these bytes \\(sha256:{hashlib.sha256(other).hexdigest()}\\)"
    )
    with pytest.raises(TimestampVerificationError, match=expected):
        verify_timestamp(tsr, other, tsa.root_pem)
    with pytest.raises(TimestampVerificationError, match="covers sha256:"):
        verify_timestamp(tsr, NOTE + b"\n", tsa.root_pem)  # one byte more is other bytes
    (tmp_path / "x.tsr").write_bytes(tsr)
    (tmp_path / "other").write_bytes(other)
    assert openssl_verify(tmp_path / "x.tsr", tmp_path / "other", tsa.root_pem_path).returncode != 0


async def test_verification_refuses_an_untrusted_tsa_and_garbage(
    tsa: TSA, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    tsr = await request_timestamp(session, tsa.url, NOTE)
    make_pki(tmp_path / "other-pki")
    foreign_root = (tmp_path / "other-pki" / "root.pem").read_bytes()
    with pytest.raises(TimestampVerificationError, match="not validly signed by a trusted TSA"):
        verify_timestamp(tsr, NOTE, foreign_root)
    with pytest.raises(TimestampError, match=r"the timestamp is not a DER RFC 3161 TimeStampResp \(5 bytes\)"):
        verify_timestamp(b"hello", NOTE, tsa.root_pem)
    with pytest.raises(TimestampError, match="the trusted TSA root is not PEM certificates"):
        verify_timestamp(tsr, NOTE, b"not a pem")


async def test_tsa_refusals_are_precise(tsa: TSA, session: aiohttp.ClientSession) -> None:
    tsa.fault = "reject"
    with pytest.raises(TimestampError, match=r"did not grant the timestamp: status REJECTION \(Message digest"):
        await request_timestamp(session, tsa.url, NOTE)
    tsa.fault = "http500"
    with pytest.raises(TimestampError, match=re.escape(f"TSA {tsa.url} answered HTTP 500: TSA out of order")):
        await request_timestamp(session, tsa.url, NOTE)


async def test_replayed_reply_is_refused(tsa: TSA, session: aiohttp.ClientSession) -> None:
    await request_timestamp(session, tsa.url, NOTE)
    tsa.fault = "replay"  # the previous reply again: right imprint, stale nonce
    with pytest.raises(TimestampError, match=r"nonce \d+ does not echo the request's \d+"):
        await request_timestamp(session, tsa.url, NOTE)
    with pytest.raises(TimestampVerificationError, match="covers sha256:"):  # and for other bytes, other imprint
        await request_timestamp(session, tsa.url, b"another checkpoint\n")


async def test_unreachable_and_silent_tsas(session: aiohttp.ClientSession) -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    with pytest.raises(TimestampError, match=re.escape(f"TSA {url} is unreachable: ClientConnectorError")):
        await request_timestamp(session, url, NOTE)
    with socket.socket() as silent:  # accepts connections (backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        with pytest.raises(TimestampError, match=re.escape(f"TSA {url} did not answer within 0.3 s")):
            await request_timestamp(session, url, NOTE, timeout=0.3)


# -- the Timestamper on a real log --------------------------------------------------------------


async def test_timestamper_stores_the_latest_checkpoint_once(tsa: TSA, log: Log, tmp_path: Path) -> None:
    await append(log, "a", "b")
    size = await append(log, "c")
    stamper = Timestamper(log.store, tsa.url, 60, root_pem=tsa.root_pem)
    before = tsa.requests
    assert await stamper.timestamp_now() == size
    assert await stamper.timestamp_now() is None  # done already: no second request
    assert tsa.requests == before + 1
    checkpoint = await log.store.latest_checkpoint()
    assert checkpoint is not None and checkpoint.size == size
    doc = await log.store.get_record(RECORD_KIND, record_key(size))
    assert doc is not None and set(doc) >= {"size", "token", "gen_time", "tsa_url"}
    assert doc["size"] == size and doc["tsa_url"] == tsa.url and doc["gen_time"].endswith("Z")
    assert doc["note_sha256"] == hashlib.sha256(checkpoint.note).hexdigest()
    assert await log.store.get_record(RECORD_KIND, record_key(size - 1)) is None  # only the latest

    tokens = await tokens_for(log.store, [size, size - 1, 999])
    assert list(tokens) == [size]
    assert base64.b64encode(tokens[size]).decode() == doc["token"]
    gen = verify_timestamp(tokens[size], checkpoint.note, tsa.root_pem)
    assert gen.strftime("%Y-%m-%dT%H:%M:%S") == doc["gen_time"][:19]

    # what a court expert does with the bundle's timestamps/<size>.tsr and checkpoint files
    (tmp_path / f"{size}.tsr").write_bytes(tokens[size])
    (tmp_path / "checkpoint").write_bytes(checkpoint.note)
    done = openssl_verify(tmp_path / f"{size}.tsr", tmp_path / "checkpoint", tsa.root_pem_path)
    assert done.returncode == 0 and "Verification: OK" in done.stdout, done.stderr


async def test_timestamper_with_no_checkpoint_does_nothing(tsa: TSA, tmp_path: Path) -> None:
    store = SQLiteStorage(tmp_path / "empty.sqlite3")
    await store.open()
    try:
        before = tsa.requests
        assert await Timestamper(store, tsa.url, 60).timestamp_now() is None
        assert tsa.requests == before
    finally:
        await store.close()


async def test_loop_survives_a_dead_tsa_and_never_blocks_the_log(tsa: TSA, log: Log) -> None:
    first = await append(log, "a")
    dead = f"http://127.0.0.1:{free_port()}/"
    stamper = Timestamper(log.store, dead, 0.2, timeout=1, retry_initial=0.05, retry_max=0.1)
    task = asyncio.create_task(stamper.run())
    try:
        await wait_until(lambda: stamper.failures >= 3)
        assert isinstance(stamper.last_error, TimestampError) and "is unreachable" in str(stamper.last_error)
        assert not task.done()
        second = await append(log, "b", "c")  # the log goes on while timestamps fail
        assert await log.store.get_record(RECORD_KIND, record_key(first)) is None

        stamper.url = tsa.url  # the TSA is back: the next retry stores a token for the latest checkpoint
        await wait_until(lambda: stamper.last_size == second)
        assert stamper.failures == 0 and stamper.last_error is None
        third = await append(log, "d")
        stamper.poke()
        await wait_until(lambda: stamper.last_size == third)
        assert sorted(await tokens_for(log.store, range(first, third + 1))) == [second, third]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_the_loop_stamps_only_while_active(tsa: TSA, log: Log) -> None:
    """On MongoDB only the sequencer timestamps: a standby process asks the TSA nothing."""
    tsa.fault = None
    size = await append(log, "a")
    sequencer = [False]
    stamper = Timestamper(log.store, tsa.url, 0.05, active=lambda: sequencer[0])
    before = tsa.requests
    task = asyncio.create_task(stamper.run())
    try:
        await asyncio.sleep(0.3)  # several rounds on standby
        assert tsa.requests == before and stamper.stamped == 0 and stamper.failures == 0
        sequencer[0] = True  # this process took the lease
        await wait_until(lambda: stamper.last_size == size)
        assert tsa.requests == before + 1
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_rejected_reply_is_not_stored(tsa: TSA, log: Log) -> None:
    size = await append(log, "a")
    stamper = Timestamper(log.store, tsa.url, 60)
    tsa.fault = "reject"
    with pytest.raises(TimestampError, match="status REJECTION"):
        await stamper.timestamp_now()
    assert await log.store.get_record(RECORD_KIND, record_key(size)) is None
    tsa.fault = None
    assert await stamper.timestamp_now() == size


async def test_bad_settings_and_bad_records_are_refused(tsa: TSA, log: Log) -> None:
    with pytest.raises(ValidationError, match="interval: must be a positive number of seconds"):
        Timestamper(log.store, tsa.url, 0)
    with pytest.raises(TimestampError, match="not PEM certificates"):
        Timestamper(log.store, tsa.url, 60, root_pem=b"junk")
    await log.store.put_record(RECORD_KIND, record_key(5), {"size": 6, "token": "AAAA"})
    with pytest.raises(IntegrityError, match="timestamp record 00000000000000000005 is for size 6, not 5"):
        await tokens_for(log.store, [5])
    await log.store.put_record(RECORD_KIND, record_key(5), {"size": 5, "token": "not base64!"})
    with pytest.raises(IntegrityError, match="token is not valid base64"):
        await tokens_for(log.store, [5])


async def test_log_commits_while_the_tsa_hangs(log: Log) -> None:
    await append(log, "a")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        stamper = Timestamper(log.store, f"http://127.0.0.1:{silent.getsockname()[1]}/", 60, timeout=1.5)
        pending = asyncio.create_task(stamper.timestamp_now())
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await append(log, "b", "c")  # committed and checkpointed while the TSA request hangs
        assert time.monotonic() - started < 1.0 and not pending.done()
        with pytest.raises(TimestampError, match=r"did not answer within 1\.5 s"):
            await pending


async def test_standalone_verifier_accepts_stored_tokens(tsa: TSA, session: aiohttp.ClientSession) -> None:
    """What we store is what the bundle carries and hrledger-verify --tsa-root checks (step 7)."""
    inputs = sample_log().inputs()
    roots = list(load_pem_x509_certificates(tsa.root_pem))
    vkey = parse_vkey(inputs.signer.vkey)
    good = await request_timestamp(session, tsa.url, inputs.checkpoint)
    bundle = build_bundle(replace(inputs, timestamps={inputs.tree_size: good}))
    assert read(bundle)[f"timestamps/{inputs.tree_size}.tsr"] == good
    result = verify_bundle(bundle, vkey, tsa_roots=roots)
    assert result.ok, result.failures

    other = await request_timestamp(session, tsa.url, inputs.checkpoint + b"x")
    result = verify_bundle(build_bundle(replace(inputs, timestamps={inputs.tree_size: other})), vkey, tsa_roots=roots)
    assert not result.ok
    assert any(f"step 9: timestamps/{inputs.tree_size}.tsr: not a valid timestamp" in f for f in result.failures)


def test_start_tsa_serves_from_its_own_thread(tmp_path: Path) -> None:
    server = start_tsa(tmp_path / "tsa")
    try:
        assert server.url.startswith("http://127.0.0.1:") and server.root_pem.startswith(b"-----BEGIN")
    finally:
        server.stop()

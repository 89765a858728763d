"""RFC 3161 timestamps over signed checkpoints (SPEC sections 1 and 5).

A Time Stamping Authority (TSA) signs the SHA-256 of the exact checkpoint note bytes, proving that the
checkpoint, and so every entry it commits to, existed by the TSA's time. What we keep and bundle as
``timestamps/<tree size>.tsr`` is the TSA's whole DER ``TimeStampResp`` exactly as it answered (status
plus the ``TimeStampToken``): that is what ``openssl ts -reply`` writes and ``openssl ts -verify -in``
reads, so a court expert checks it with OpenSSL alone::

    openssl ts -verify -in timestamps/<size>.tsr -data checkpoint -CAfile tsa-root.pem

and the standalone verifier reads the same bytes with rfc3161-client's ``decode_timestamp_response``.

The ``Timestamper`` runs beside the log, never inside it: it reads the latest published checkpoint, asks
the TSA over HTTP and stores the reply as a ``timestamp`` record keyed by the zero-padded tree size. A
slow or dead TSA only delays timestamps (retried with backoff); it never holds up sequencing.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import aiohttp
from cryptography.x509 import Certificate, ObjectIdentifier, load_pem_x509_certificates
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimeStampRequest,
    TimestampRequestBuilder,
    TimeStampResponse,
    VerifierBuilder,
    decode_timestamp_response,
)

from ledger.errors import IntegrityError, LedgerError, TimestampError, TimestampVerificationError, ValidationError
from ledger.storage.base import Storage

log = logging.getLogger("hrledger.timestamping")

RECORD_KIND = "timestamp"
QUERY_TYPE = "application/timestamp-query"
REPLY_TYPES = frozenset({"application/timestamp-reply", "application/timestamp-response"})
SHA256_OID = ObjectIdentifier("2.16.840.1.101.3.4.2.1")
MAX_REPLY_BYTES = 256 * 1024  # a reply with one certificate is a few KiB; refuse anything absurd


def record_key(size: int) -> str:
    """Key of the ``timestamp`` record of the checkpoint of ``size`` (sorts by size)."""
    return f"{size:020d}"


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _new_request(message: bytes) -> TimeStampRequest:
    if not message:
        raise TimestampError("nothing to timestamp: the message is empty")
    builder = TimestampRequestBuilder().data(message).hash_algorithm(HashAlgorithm.SHA256)
    return builder.nonce(nonce=True).cert_request(cert_request=True).build()


def build_request(message: bytes) -> bytes:
    """DER ``TimeStampReq``: SHA-256 imprint of ``message``, a fresh random nonce, certReq true."""
    return _new_request(message).as_bytes()


def _decode(der: bytes, what: str) -> TimeStampResponse:
    try:
        return decode_timestamp_response(bytes(der))
    except Exception as exc:  # the Rust parser raises ValueError and friends
        raise TimestampError(f"{what} is not a DER RFC 3161 TimeStampResp ({len(der)} bytes): {exc}") from None


def _check(response: TimeStampResponse, message: bytes, what: str, *, nonce: int | None) -> None:
    """Status granted, SHA-256 imprint of exactly ``message``, and (when given) our nonce echoed."""
    status = int(response.status)
    if status != PKIStatus.GRANTED:
        name = PKIStatus(status).name if status in set(PKIStatus) else str(status)
        text = "; ".join(response.status_string) or "no status text"
        raise TimestampError(f"{what}: the TSA did not grant the timestamp: status {name} ({text})")
    imprint = response.tst_info.message_imprint
    if imprint.hash_algorithm != SHA256_OID:
        raise TimestampVerificationError(
            f"{what}: the message imprint uses {imprint.hash_algorithm.dotted_string}, not SHA-256"
        )
    expected = hashlib.sha256(message).digest()
    if bytes(imprint.message) != expected:
        raise TimestampVerificationError(
            f"{what} covers sha256:{bytes(imprint.message).hex()}, not these bytes (sha256:{expected.hex()})"
        )
    if nonce is not None and response.tst_info.nonce != nonce:
        raise TimestampError(f"{what}: nonce {response.tst_info.nonce} does not echo the request's {nonce}")


def _gen_time(response: TimeStampResponse) -> datetime:
    gen: datetime = response.tst_info.gen_time
    return gen if gen.tzinfo is not None else gen.replace(tzinfo=UTC)


def format_gen_time(gen: datetime) -> str:
    """RFC 3339 UTC with ``Z``; fractions only when the TSA gave them."""
    spec = "microseconds" if gen.microsecond else "seconds"
    return gen.astimezone(UTC).isoformat(timespec=spec).replace("+00:00", "Z")


def _load_roots(root_pem: bytes) -> list[Certificate]:
    try:
        roots = list(load_pem_x509_certificates(root_pem))
    except ValueError as exc:
        raise TimestampError(f"the trusted TSA root is not PEM certificates: {exc}") from None
    return roots


def verify_timestamp(token: bytes, message: bytes, root_pem: bytes) -> datetime:
    """Check that ``token`` (a DER TimeStampResp) is a granted timestamp over exactly ``message``, signed by
    a TSA certificate (critical EKU timeStamping) chaining to a root in ``root_pem``; return its genTime."""
    roots = _load_roots(root_pem)
    response = _decode(token, "the timestamp")
    _check(response, message, "the timestamp", nonce=None)
    try:
        VerifierBuilder(roots=roots).build().verify_message(response, message)
    except Exception as exc:  # VerificationError, or ValueError from the PKCS#7 layer
        raise TimestampVerificationError(f"the timestamp is not validly signed by a trusted TSA: {exc}") from None
    return _gen_time(response)


async def _read_reply(resp: aiohttp.ClientResponse, url: str) -> bytes:
    chunks: list[bytes] = []
    total = 0
    async for chunk in resp.content.iter_chunked(16 * 1024):
        total += len(chunk)
        if total > MAX_REPLY_BYTES:
            raise TimestampError(f"TSA {url} sent more than {MAX_REPLY_BYTES} bytes; not a timestamp reply")
        chunks.append(chunk)
    return b"".join(chunks)


async def request_timestamp(
    session: aiohttp.ClientSession,
    url: str,
    message: bytes,
    timeout: float = 10.0,
    *,
    root_pem: bytes | None = None,
) -> bytes:
    """Ask the TSA at ``url`` to timestamp ``message``; return its DER TimeStampResp, checked: status
    granted, our nonce echoed, SHA-256 imprint of exactly ``message`` (and, with ``root_pem``, the
    signature and certificate chain too). Every failure is a ``TimestampError`` naming the TSA."""
    request = _new_request(message)
    headers = {"Content-Type": QUERY_TYPE, "Accept": ", ".join(sorted(REPLY_TYPES))}
    try:
        async with session.post(
            url, data=request.as_bytes(), headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as resp:
            if resp.status != 200:
                snippet = (await resp.content.read(200)).decode("utf-8", "replace").strip()
                raise TimestampError(f"TSA {url} answered HTTP {resp.status}: {snippet or resp.reason}")
            body = await _read_reply(resp, url)
            content_type = resp.content_type
    except TimeoutError:
        raise TimestampError(f"TSA {url} did not answer within {timeout:g} s") from None
    except aiohttp.ClientError as exc:
        raise TimestampError(f"TSA {url} is unreachable: {type(exc).__name__}: {exc}") from None
    what = f"the reply of TSA {url}"
    if content_type not in REPLY_TYPES:
        what += f" (Content-Type {content_type})"
    response = _decode(body, what)
    _check(response, message, what, nonce=request.nonce)
    if root_pem is not None:
        verify_timestamp(body, message, root_pem)
    return body


async def tokens_for(store: Storage, sizes: Iterable[int]) -> dict[int, bytes]:
    """Stored TimeStampResp bytes for the checkpoints of ``sizes`` that have one (the bundle's
    ``timestamps/<size>.tsr``); sizes without a timestamp are absent."""
    wanted = sorted(set(sizes))
    docs = await asyncio.gather(*(store.get_record(RECORD_KIND, record_key(s)) for s in wanted))
    out: dict[int, bytes] = {}
    for size, doc in zip(wanted, docs, strict=True):
        if doc is None:
            continue
        out[size] = _token_of(size, doc)
    return out


def _token_of(size: int, doc: dict[str, Any]) -> bytes:
    where = f"timestamp record {record_key(size)}"
    if doc.get("size") != size:
        raise IntegrityError(f"{where} is for size {doc.get('size')!r}, not {size}")
    token = doc.get("token")
    if not isinstance(token, str):
        raise IntegrityError(f"{where} has no base64 token")
    try:
        return base64.b64decode(token, validate=True)
    except binascii.Error as exc:
        raise IntegrityError(f"{where}: token is not valid base64: {exc}") from None


class Timestamper:
    """Timestamps the latest published checkpoint every ``interval`` seconds (when not done already).

    ``run()`` is the loop (cancel it to stop); ``timestamp_now()`` does one round on demand; ``poke()``
    wakes the loop early, e.g. right after a checkpoint is published. Failures are logged, counted in
    ``failures``/``last_error`` and retried after ``retry_initial * 2**(failures-1)`` seconds, capped at
    ``retry_max``; the loop itself never ends on an error.
    """

    def __init__(
        self,
        store: Storage,
        url: str,
        interval: float = 300.0,
        *,
        timeout: float = 10.0,
        root_pem: bytes | None = None,
        session: aiohttp.ClientSession | None = None,
        retry_initial: float = 1.0,
        retry_max: float = 300.0,
        active: Callable[[], bool] = lambda: True,
    ) -> None:
        for name, value in (
            ("interval", interval),
            ("timeout", timeout),
            ("retry_initial", retry_initial),
            ("retry_max", retry_max),
        ):
            if not value > 0:
                raise ValidationError(name, f"must be a positive number of seconds, not {value!r}")
        if root_pem is not None:
            _load_roots(root_pem)  # fail at start-up, not at the first timestamp
        self.store = store
        self.url = url
        self.interval = interval
        self.timeout = timeout
        self.root_pem = root_pem
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.active = active  # the loop stamps only while this says so (the sequencer, on MongoDB)
        self._session = session
        self._lock = asyncio.Lock()
        self._poke = asyncio.Event()
        self.failures = 0  # consecutive failed rounds
        self.last_error: LedgerError | None = None
        self.stamped = 0  # timestamps stored by this instance
        self.last_size: int | None = None  # size of the last checkpoint this instance timestamped

    def poke(self) -> None:
        self._poke.set()

    async def timestamp_now(self) -> int | None:
        """Timestamp the latest checkpoint unless it has a timestamp already; return its size, or None
        when there was nothing to do. Raises TimestampError (TSA) or StorageError (store)."""
        async with self._lock:
            checkpoint = await self.store.latest_checkpoint()
            if checkpoint is None:
                return None
            key = record_key(checkpoint.size)
            if await self.store.get_record(RECORD_KIND, key) is not None:
                return None
            if self._session is not None:
                tsr = await request_timestamp(
                    self._session, self.url, checkpoint.note, self.timeout, root_pem=self.root_pem
                )
            else:
                async with aiohttp.ClientSession() as session:
                    tsr = await request_timestamp(
                        session, self.url, checkpoint.note, self.timeout, root_pem=self.root_pem
                    )
            gen_time = _gen_time(_decode(tsr, "the timestamp"))
            await self.store.put_record(
                RECORD_KIND,
                key,
                {
                    "size": checkpoint.size,
                    "token": base64.b64encode(tsr).decode("ascii"),
                    "gen_time": format_gen_time(gen_time),
                    "tsa_url": self.url,
                    "note_sha256": _sha256_hex(checkpoint.note),
                },
            )
            self.stamped += 1
            self.last_size = checkpoint.size
            log.info("checkpoint %d timestamped by %s at %s", checkpoint.size, self.url, format_gen_time(gen_time))
            return checkpoint.size

    def _next_delay(self) -> float:
        if self.failures == 0:
            return self.interval
        return float(min(self.retry_max, self.retry_initial * 2 ** min(self.failures - 1, 30)))

    async def run(self) -> None:
        """The loop; returns only when cancelled."""
        owned = self._session is None
        if owned:
            self._session = aiohttp.ClientSession()
        try:
            while True:
                self._poke.clear()
                await self._round()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._next_delay()):
                        await self._poke.wait()
        finally:
            if owned and self._session is not None:
                session, self._session = self._session, None
                await session.close()

    async def _round(self) -> None:
        if not self.active():
            return  # another process is the sequencer and timestamps; asking the TSA twice buys nothing
        try:
            await self.timestamp_now()
        except LedgerError as exc:
            self.failures += 1
            self.last_error = exc
            log.warning("timestamp failed (%d in a row, retry in %.3g s): %s", self.failures, self._next_delay(), exc)
        except Exception as exc:  # a bug must not end the loop silently
            self.failures += 1
            self.last_error = LedgerError(f"timestamp round failed: {type(exc).__name__}: {exc}")
            log.exception("timestamp round failed")
        else:
            self.failures = 0
            self.last_error = None

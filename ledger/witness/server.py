"""The witness over HTTP: ``POST /add-checkpoint`` (C2SP tlog-witness v1.0.0), rate-limited per client.

``Witness.submit`` is the whole algorithm: read the request, check the log's signature, then, holding
the origin's lock, compare with the latest cosigned checkpoint, cosign, store durably (compare-and-swap)
and only then answer. A failure to store answers 503 or 500 and the cosignature is never released.

Statuses: 200 (cosignature lines), 400, 403, 404, 409, 422 as ``ledger.witness.protocol`` says; 413 for a
body over 64 KiB; 429 with ``Retry-After`` when a client sends faster than its allowance; 503 when the
state file is busy or full, 500 when it fails otherwise. ``GET /`` describes the witness in plain text.
"""

from __future__ import annotations

import asyncio
import logging
import math
import signal
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from aiohttp import web

from ledger.core.cosignature import Cosigner
from ledger.core.notes import Verifier
from ledger.errors import StorageError, StorageUnavailableError
from ledger.witness.protocol import (
    NEVER_COSIGNED,
    Latest,
    Refusal,
    check_consistency,
    check_signature,
    parse_submission,
)
from ledger.witness.state import LogRecord, RefusalRecord, WitnessState

log = logging.getLogger("hrledger.witness")

MAX_BODY_BYTES = 64 * 1024  # a checkpoint with a hundred signatures and 63 proof lines fits many times over
DEFAULT_RATE = 20.0  # requests per second per client, on average ...
DEFAULT_BURST = 40  # ... and at once; a log sends one request at a time, retries included
MAX_CLIENTS = 10_000
KEEPALIVE_TIMEOUT = 10.0  # also bounds a client that opens a connection and stalls


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"

    @classmethod
    def refused(cls, refusal: Refusal) -> Answer:
        return cls(refusal.status, refusal.body, refusal.content_type)


class Witness:
    """Checks, cosigns and remembers; one instance per state file."""

    def __init__(
        self,
        cosigner: Cosigner,
        logs: Mapping[str, Sequence[Verifier]],
        state: WitnessState,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cosigner = cosigner
        self.logs = {origin: tuple(keys) for origin, keys in logs.items()}
        self.state = state
        self._clock = clock
        self._locks = {origin: asyncio.Lock() for origin in self.logs}

    async def submit(self, raw: bytes) -> Answer:
        try:
            sub = parse_submission(raw)
            check_signature(sub, self.logs)
        except Refusal as refusal:
            return Answer.refused(refusal)
        origin, cp = sub.origin, sub.checkpoint
        async with self._locks[origin]:
            record = await self.state.record(origin)
            latest = NEVER_COSIGNED if record is None else Latest(record.size, record.root)
            try:
                check_consistency(sub, latest)
            except Refusal as refusal:
                if refusal.evidence:
                    kept = RefusalRecord(origin, int(self._clock()), refusal.status, refusal.reason, raw)
                    await self.state.refuse(kept)
                    log.warning("refused %s size %d: %s (request kept)", origin, cp.size, refusal.reason)
                return Answer.refused(refusal)
            # Never earlier than the last cosignature for this log, should the clock step back.
            timestamp = max(int(self._clock()), record.cosigned_at if record else 0)
            line = self.cosigner.cosign(sub.body, timestamp)
            new = LogRecord(origin, cp.size, cp.root_hash, sub.note + line.encode("utf-8"), timestamp)
            if not await self.state.advance(origin, latest, new):
                moved = await self.state.latest(origin)  # another process on the same file got there first
                return Answer.refused(Refusal(409, "moved on", size=moved.size))
        log.info("cosigned %s size %d (from %d)", origin, cp.size, sub.old)
        return Answer(200, line.encode("utf-8"))


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    """A token bucket per client: ``burst`` requests at once, refilled at ``rate`` per second."""

    rate: float = DEFAULT_RATE
    burst: int = DEFAULT_BURST
    clock: Callable[[], float] = time.monotonic
    _buckets: OrderedDict[str, _Bucket] = field(default_factory=OrderedDict)

    def take(self, client: str) -> int:
        """0 when ``client`` may go ahead (one token taken), else the whole seconds until it may."""
        now = self.clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= MAX_CLIENTS:
                self._buckets.popitem(last=False)
            bucket = self._buckets[client] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        self._buckets.move_to_end(client)
        if bucket.tokens < 1:
            return max(1, math.ceil((1 - bucket.tokens) / self.rate))
        bucket.tokens -= 1
        return 0


def peer_address(request: web.Request) -> str:
    return request.remote or "unknown"


def forwarded_for(request: web.Request) -> str:
    """The client address a reverse proxy appended last to X-Forwarded-For (only behind such a proxy)."""
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    return hops[-1] if hops else peer_address(request)


WITNESS = web.AppKey("witness", Witness)


def create_witness_app(
    witness: Witness, limiter: RateLimiter | None = None, client_key: Callable[[web.Request], str] = peer_address
) -> web.Application:
    limits = limiter or RateLimiter()

    async def add_checkpoint(request: web.Request) -> web.Response:
        wait = limits.take(client_key(request))
        if wait:
            text = f"too many requests from {client_key(request)}; retry in {wait} s\n"
            return web.Response(status=429, text=text, headers={"Retry-After": str(wait)})
        raw = await request.read()  # aiohttp answers 413 beyond client_max_size
        try:
            answer = await witness.submit(raw)
        except StorageUnavailableError as exc:
            log.error("state not stored: %s", exc)
            answer = Answer(503, b"the witness cannot store its state right now; retry later\n")
        except StorageError as exc:
            log.error("state not stored: %s", exc)
            answer = Answer(500, b"the witness could not store its state\n")
        headers = {"Content-Type": answer.content_type}  # set verbatim: text/x.tlog.size takes no charset
        if answer.status == 503:
            headers["Retry-After"] = "1"
        return web.Response(status=answer.status, body=answer.body, headers=headers)

    async def describe(request: web.Request) -> web.Response:
        lines = [
            f"hrledger witness {witness.cosigner.name}",
            f"cosignature key (C2SP tlog-cosignature v1.0.1): {witness.cosigner.vkey}",
            "submission: POST /add-checkpoint (C2SP tlog-witness v1.0.0)",
            "logs witnessed:",
            *(f"  {v.text}" for keys in witness.logs.values() for v in keys),
        ]
        return web.Response(text="\n".join(lines) + "\n")

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[WITNESS] = witness
    app.router.add_post("/add-checkpoint", add_checkpoint)
    app.router.add_get("/", describe)
    return app


async def run(app: web.Application, host: str, port: int, *, ready: Callable[[list[str]], None] | None = None) -> None:
    """Serve ``app`` until SIGTERM or SIGINT; requests in flight finish (their state is already stored)."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False, keepalive_timeout=KEEPALIVE_TIMEOUT)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await web.TCPSite(runner, host, port, reuse_address=True).start()
        urls = [
            f"http://{f'[{a[0]}]' if ':' in a[0] else a[0]}:{a[1]}" for a in runner.addresses if isinstance(a, tuple)
        ]
        if ready is not None:
            ready(urls)
        await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await runner.cleanup()

"""One conversation with one witness about one checkpoint (C2SP tlog-witness v1.0.0), for the witness client.

The request is ``old <the size it last cosigned>``, the consistency proof from there and the signed
checkpoint; the answers are read as SPEC section 7 says (``ledger.services.witness_client`` tells how). What
is learnt is kept in the store (``witness_records``): cosignatures, the witness's state, split-view evidence.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp

from ledger.core.cosignature import read_cosignatures
from ledger.core.entries import format_recorded_at
from ledger.core.records import StoredCheckpoint
from ledger.errors import LedgerError
from ledger.log import Log
from ledger.services import witness_records as records
from ledger.services.witness_policy import WitnessEndpoint

logger = logging.getLogger("hrledger.witnesses")

SIZE_CONTENT_TYPE = "text/x.tlog.size"
MAX_ATTEMPTS = 4  # per round: the first request, a resend from a named size, a confirmation, one more
MAX_ANSWER_BYTES = 64 * 1024
NAMED_OURS = "it names our latest size, and no submission of ours to it is on record unanswered"
_SIZE = re.compile(r"(0|[1-9][0-9]{0,19})\n?")


class SubmissionFailed(Exception):
    """This round did not get a cosignature; retry after backoff (the reason is shown in /healthz)."""


@dataclass
class WitnessWorker:
    """One witness of the policy: what the log knows of it, and the submission in flight (at most one)."""

    endpoint: WitnessEndpoint
    state: records.WitnessState
    failures: int = 0
    last_error: str | None = None
    next_try: float = 0.0  # monotonic time before which it is not asked again (backoff)
    retry_after: float = 0.0  # what its last 429 or 503 asked for
    task: asyncio.Task[None] | None = None
    uncovered: deque[tuple[int, float]] = field(default_factory=lambda: deque(maxlen=10_000))
    latencies: list[float] = field(default_factory=list)  # publication to cosignature, drained by /metrics
    cosignatures: int = 0


class Conversation:
    """Submits checkpoints to witnesses and keeps what they answer; ``on_disputed`` is told when a witness
    becomes disputed, ``on_cosigned(worker, checkpoint, was_disputed)`` after each cosignature is kept."""

    def __init__(
        self,
        log: Log,
        session: aiohttp.ClientSession,
        *,
        timeout: float,
        clock: Callable[[], datetime],
        on_disputed: Callable[[], None],
        on_cosigned: Callable[[WitnessWorker, StoredCheckpoint, bool], None],
    ) -> None:
        self.log, self.store, self._session = log, log.store, session
        self.timeout = timeout
        self._clock = clock
        self._on_disputed, self._on_cosigned = on_disputed, on_cosigned
        self._record_lock = asyncio.Lock()  # cosignature records are read, changed and written

    async def submit(self, w: WitnessWorker, cp: StoredCheckpoint) -> None:
        """Get ``w``'s cosignature on ``cp``; raises SubmissionFailed when this round gets none."""
        root = b64(cp.root)
        sent_before = w.state.unanswered == (cp.size, root)
        old = w.state.size if w.state.size <= cp.size else 0
        named_ours: tuple[int, int, str, bytes] | None = None  # a 409 naming our size, kept until confirmed
        for _ in range(MAX_ATTEMPTS):
            proof = [] if old in (0, cp.size) else await self.log.consistency_proof(old, cp.size)
            body = "".join(f"{line}\n" for line in [f"old {old}", *map(b64, proof)]).encode() + b"\n" + cp.note
            try:
                status, content_type, answer, retry_after = await self._post(w, body)
            except SubmissionFailed:
                await self._unanswered(w, cp)  # it may have cosigned it: a later "409: I have it" is ours
                raise
            if status == 200:
                if named_ours is not None:
                    meaning = f"{NAMED_OURS}; asked to confirm, it cosigned our very root: no other history shown"
                    await self._evidence(w, cp, *named_ours, meaning)
                await self._cosigned(w, cp, answer)
                return
            if status == 429 or status >= 500:
                w.retry_after = retry_after
                await self._unanswered(w, cp)
                raise SubmissionFailed(f"answered HTTP {status}: {snippet(answer)}")
            w.state.unanswered = None  # it answered: it decided on this very request
            size = _named_size(status, content_type, answer)
            if size is not None and size < cp.size and size != old:
                if size < w.state.size:
                    logger.warning(
                        "witness %s names size %d below the size %d it cosigned for us: has it lost its state?",
                        w.endpoint.label,
                        size,
                        w.state.size,
                    )
                old = size  # resend from the size it has
                continue
            if size == cp.size and old != size:
                if not (sent_before or w.endpoint.label in await records.cosignature_lines(self.store, cp)):
                    named_ours = (old, status, content_type, answer)
                old = size  # ask it to cosign this very root again
                continue
            if status in (409, 422):
                if named_ours is not None:
                    await self._evidence(w, cp, *named_ours, f"{NAMED_OURS}; asked to confirm, it refused our root")
                await self._evidence(w, cp, old, status, content_type, answer, _meaning(status, size, cp.size))
                w.state.disputed = True
                self._on_disputed()
                await records.save_state(self.store, w.state)
                raise SubmissionFailed(f"split-view evidence: HTTP {status} {snippet(answer)}")
            await records.save_state(self.store, w.state)
            raise SubmissionFailed(
                f"refused with HTTP {status} (check its URL and its list of logs): {snippet(answer)}"
            )
        raise SubmissionFailed("the witness kept naming other sizes; trying again later")

    async def _unanswered(self, w: WitnessWorker, cp: StoredCheckpoint) -> None:
        if w.state.unanswered != (cp.size, b64(cp.root)):
            w.state.unanswered = (cp.size, b64(cp.root))
            await records.save_state(self.store, w.state)

    async def _post(self, w: WitnessWorker, body: bytes) -> tuple[int, str, bytes, float]:
        assert self._session is not None
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        try:
            async with self._session.post(w.endpoint.add_checkpoint_url, data=body, timeout=timeout) as resp:
                chunks: list[bytes] = []
                async for chunk in resp.content.iter_chunked(16 * 1024):
                    chunks.append(chunk)
                    if sum(map(len, chunks)) > MAX_ANSWER_BYTES:
                        raise SubmissionFailed(f"answered more than {MAX_ANSWER_BYTES} bytes")
                answer = b"".join(chunks)
                retry = resp.headers.get("Retry-After", "")
                return resp.status, resp.content_type, answer, float(retry) if retry.isdigit() else 0.0
        except TimeoutError:
            raise SubmissionFailed(f"no answer within {self.timeout:g} s") from None
        except aiohttp.ClientError as exc:
            raise SubmissionFailed(f"unreachable: {type(exc).__name__}: {exc}") from None

    async def _cosigned(self, w: WitnessWorker, cp: StoredCheckpoint, answer: bytes) -> None:
        try:
            found = read_cosignatures(cp.note, answer, [w.endpoint.key], self.log.signer.vkey)
        except LedgerError as exc:
            raise SubmissionFailed(f"answered 200 with a bad cosignature: {exc}") from None
        if not found:
            raise SubmissionFailed(f"answered 200 without a cosignature by {w.endpoint.label}: {snippet(answer)}")
        cosig = found[0]
        w.failures, w.last_error, w.next_try, w.retry_after = 0, None, 0.0, 0.0
        received_at = format_recorded_at(self._clock())
        was_disputed = w.state.disputed
        # A witness that cosigns our history again held no other one: it counts again (its evidence stays).
        w.state = records.WitnessState(w.endpoint.label, cp.size, b64(cp.root), cosig.timestamp, None, w.state.evidence)

        async def keep_line() -> None:
            async with self._record_lock:
                await records.add_cosignature(
                    self.store, cp, w.endpoint.label, cosig.line, cosig.timestamp, received_at
                )

        await asyncio.gather(keep_line(), records.save_state(self.store, w.state))  # one queue, adjacent writes
        w.cosignatures += 1
        self._on_cosigned(w, cp, was_disputed)
        logger.info("witness %s cosigned size %d at %s", w.endpoint.label, cp.size, utc(cosig.timestamp))

    async def _evidence(
        self,
        w: WitnessWorker,
        cp: StoredCheckpoint,
        old: int,
        status: int,
        content_type: str,
        body: bytes,
        meaning: str,
    ) -> None:
        """Keep one piece of split-view evidence (SPEC section 7) and count it for /healthz and /metrics."""
        key = await records.record_evidence(
            self.store,
            recorded_at=format_recorded_at(self._clock()),
            witness=w.endpoint.label,
            vkey=w.endpoint.key.vkey,
            url=w.endpoint.url,
            checkpoint=cp,
            request_old=old,
            status=status,
            content_type=content_type,
            body=body,
            meaning=meaning,
        )
        w.state.evidence += 1
        await records.save_state(self.store, w.state)
        logger.error("SPLIT-VIEW EVIDENCE from witness %s on size %d: %s (%s)", w.endpoint.label, cp.size, meaning, key)


def _named_size(status: int, content_type: str, body: bytes) -> int | None:
    """The size a 409 names (``text/x.tlog.size``, a decimal and a newline), else None."""
    if status != 409 or content_type != SIZE_CONTENT_TYPE:
        return None
    match = _SIZE.fullmatch(body.decode("ascii", "replace"))
    return int(match.group(1)) if match else None


def _meaning(status: int, size: int | None, ours: int) -> str:
    if status == 422:
        return "its consistency proof check failed: it holds a tree our history does not extend"
    if size is None:
        return "409 without a size: it cosigned another root for this size (tlog-witness v1.0.0)"
    if size > ours:
        return f"it cosigned size {size}, larger than any checkpoint this log published ({ours})"
    return f"it names size {size} as its latest, yet refused a request from that very size"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def utc(timestamp: int) -> str:
    try:
        return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return f"POSIX {timestamp}"


def snippet(body: bytes) -> str:
    text = body[:200].decode("utf-8", "replace").strip()
    return "".join(ch if ch.isprintable() else "?" for ch in text) or "(empty body)"

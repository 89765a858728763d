"""The log's witness client (SPEC section 7, C2SP tlog-witness v1.0.0): every published checkpoint goes to
every witness of the policy, and what they answer is kept.

Rounds: each takes the latest checkpoint and sends it, all at once, to every witness that is idle, not
backing off and not already holding it, so that the witnesses cosign the same checkpoints (a quorum needs
that); one submission is in flight per witness. The request (``witness_submission``) is ``old <the size it
last cosigned>``, the consistency proof from there, and the signed checkpoint. Answers:

- 200: the cosignature is verified with the witness's key and kept (``witness_records``);
- 409 naming a smaller size: resend from that size (the witness lost or never had our last answer);
- 409 naming our own size, after a submission of this very checkpoint went unanswered (or when its
  cosignature of it is on record): resend from it (the witness did cosign it, the answer was lost), which
  is no evidence of anything;
- 409 naming an equal size otherwise, a larger size, a 409 naming no size, or a 422: split-view evidence.
  It is recorded (the log's checkpoint, the witness, the status, the body) and raised in /healthz and
  /metrics. For an equal size the witness is first asked to confirm (old = that size), and the record says
  how it answered: if it cosigns, it holds our very root (someone else sent it our checkpoint, or an
  answer was lost before a restart) and it keeps counting. Otherwise it is *disputed*: it no longer counts
  towards the quorum, and is asked again only every ``retry_max`` seconds, until it cosigns one of our
  checkpoints again;
- anything else (a network failure, 429, 5xx, or 400/403/404, which mean a configuration error): retried
  later with exponential backoff.

Nothing here ever blocks ingest. The log stops signing (``Log.signing_hold``) only when the witnesses not
disputed are fewer than the policy's quorum.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp

from ledger.core.records import StoredCheckpoint
from ledger.errors import LedgerError
from ledger.log import Log
from ledger.services import witness_records as records
from ledger.services.witness_policy import WitnessPolicy
from ledger.services.witness_submission import Conversation, SubmissionFailed, WitnessWorker, b64, utc

logger = logging.getLogger("hrledger.witnesses")

REFRESH_SECONDS = 30.0  # rounds run this often unprompted too (a standby refreshes what it shows)
ROUND_WAIT = 1.0  # seconds a round waits for the witnesses' answers before the next may start


class WitnessClient:
    """Rounds: each takes the latest checkpoint and sends it to every witness that is idle, not backing off
    and not already holding it, all at once, so that the witnesses cosign the same checkpoints (a quorum
    needs that). A round waits ``ROUND_WAIT`` for the answers; a slower witness finishes on its own and
    joins a later round. Rounds run at most every ``min_interval_seconds``."""

    def __init__(
        self,
        log: Log,
        policy: WitnessPolicy,
        *,
        clock: Callable[[], datetime],
        active: Callable[[], bool] = lambda: True,
        session: aiohttp.ClientSession | None = None,
        retry_initial: float = 0.5,
        retry_max: float = 300.0,
    ) -> None:
        self.log, self.store, self.policy = log, log.store, policy
        self._clock = clock
        self._active = active  # only the sequencer submits (MongoDB); the others read the records
        self._session = session
        self._owns_session = session is None
        self.retry_initial, self.retry_max = retry_initial, retry_max
        self._workers: list[WitnessWorker] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._quorum_uncovered: deque[tuple[int, float]] = deque(maxlen=10_000)
        self._quorum_latencies: list[float] = []
        self._witnessed = 0  # the largest tree size the quorum has cosigned, as far as this process saw

    # -- lifecycle ----------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        self._conversation = Conversation(
            self.log,
            self._session,
            timeout=self.policy.timeout_seconds,
            clock=self._clock,
            on_disputed=self._update_hold,
            on_cosigned=self._cosigned,
        )
        for endpoint in self.policy.witnesses:
            self._workers.append(WitnessWorker(endpoint, await records.load_state(self.store, endpoint.label)))
        self._update_hold()
        self.log.add_publish_listener(self._published)
        self._wake.set()  # the latest checkpoint may not have reached every witness yet
        self._task = asyncio.create_task(self._run(), name="witness rounds")

    async def stop(self) -> None:
        with contextlib.suppress(ValueError):
            self.log.remove_publish_listener(self._published)
        for task in [self._task, *(w.task for w in self._workers)]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._owns_session and self._session is not None:
            await self._session.close()

    def _published(self, checkpoint: StoredCheckpoint) -> None:
        now = time.monotonic()
        self._quorum_uncovered.append((checkpoint.size, now))
        for w in self._workers:
            w.uncovered.append((checkpoint.size, now))
        self._wake.set()

    # -- status ---------------------------------------------------------------------------------------
    def status(self, latest: StoredCheckpoint | None) -> dict[str, Any]:
        """For /healthz and /metrics: whether the latest checkpoint is witnessed (quorum reached), and each
        witness's last cosigned size, lag, errors and evidence."""
        now = time.monotonic()
        latest_size = None if latest is None else latest.size
        on_latest = 0
        out = []
        for w in self._workers:
            s = w.state
            if latest is not None and (s.size, s.root) == (latest.size, b64(latest.root)):
                on_latest += 1
            behind = latest_size is not None and latest_size > s.size
            out.append(
                {
                    "witness": w.endpoint.label,
                    "url": w.endpoint.url,
                    "cosigned_size": s.size,
                    "cosigned_at": None if s.timestamp is None else utc(s.timestamp),
                    "lag_entries": max(0, (latest_size or 0) - s.size),
                    "lag_seconds": round(now - w.uncovered[0][1], 3) if behind and w.uncovered else 0.0,
                    "failures": w.failures,
                    "last_error": w.last_error,
                    "evidence": s.evidence,
                    "disputed": s.disputed,
                    "cosignatures": w.cosignatures,
                }
            )
        return {
            "quorum": self.policy.quorum,
            "cosignatures_on_latest": on_latest,
            "checkpoint_witnessed": on_latest >= self.policy.quorum,
            "signing_hold": self.log.signing_hold,
            "evidence": sum(w.state.evidence for w in self._workers),
            "witnesses": out,
        }

    async def latest_witnessed(self) -> StoredCheckpoint | None:
        """The largest published checkpoint the policy's quorum has cosigned (bundles claim ``latest`` on it).

        Seen in this process, or else found from the witnesses' states: the quorum-th largest size they
        cosigned, if its record holds a quorum of cosignature lines."""
        size = self._witnessed
        if size == 0:
            sizes = sorted((w.state.size for w in self._workers if not w.state.disputed), reverse=True)
            size = sizes[self.policy.quorum - 1] if len(sizes) >= self.policy.quorum else 0
        if size == 0:
            return None
        checkpoint = await self.store.get_checkpoint(size)
        if checkpoint is None or len(await records.cosignature_lines(self.store, checkpoint)) < self.policy.quorum:
            return None
        self._witnessed = size
        return checkpoint

    async def cosigned_note(self, checkpoint: StoredCheckpoint) -> bytes:
        """The checkpoint with the cosignature lines kept for it (GET /v1/checkpoint)."""
        return await records.cosigned_note(self.store, checkpoint)

    def drain_latencies(self) -> tuple[dict[str, list[float]], list[float]]:
        """Seconds from publishing a checkpoint to a cosignature covering it, per witness, and to the
        quorum's cosignatures on one checkpoint covering it; each value is returned once."""
        per_witness = {w.endpoint.label: w.latencies for w in self._workers}
        quorum, self._quorum_latencies = self._quorum_latencies, []
        for w in self._workers:
            w.latencies = []
        return per_witness, quorum

    def _update_hold(self) -> None:
        usable = [w for w in self._workers if not w.state.disputed]
        hold = None
        if len(usable) < self.policy.quorum:
            disputed = ", ".join(w.endpoint.label for w in self._workers if w.state.disputed)
            hold = (
                f"split-view evidence from {disputed}: {len(usable)} witness(es) left, the policy needs "
                f"{self.policy.quorum}; see /healthz and docs/witnesses.md"
            )
        if hold != self.log.signing_hold:
            self.log.signing_hold = hold
            if hold is None:
                logger.warning("signing resumed: the witness policy can be met again")
            else:
                logger.error("signing held: %s", hold)

    # -- rounds ---------------------------------------------------------------------------------------
    async def _run(self) -> None:
        last_round = -math.inf
        while True:
            now = time.monotonic()
            backoffs = [w.next_try - now for w in self._workers if w.task is None and w.next_try > now]
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min([REFRESH_SECONDS, *backoffs])):
                    await self._wake.wait()
            pause = last_round + self.policy.min_interval_seconds - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            self._wake.clear()
            last_round = time.monotonic()
            try:
                await self._round()
            except LedgerError as exc:  # the store failing: the next round tries again
                logger.warning("witness round: the log's store: %s", exc)
                await asyncio.sleep(self.retry_initial)
            except Exception:  # a bug must not end the rounds silently
                logger.exception("witness round failed")
                await asyncio.sleep(self.retry_initial)

    async def _round(self) -> None:
        for w in self._workers:
            if w.task is None:  # from the store: after a takeover on MongoDB, the last sequencer's answers
                w.state = await records.load_state(self.store, w.endpoint.label)
        self._update_hold()
        if not self._active():
            return  # another process is the sequencer and submits; this one only shows what it recorded
        cp = await self.log.latest_checkpoint()
        if cp is None:
            return
        now, root = time.monotonic(), b64(cp.root)
        due = [
            w
            for w in self._workers
            if w.task is None and now >= w.next_try and (w.state.size, w.state.root) != (cp.size, root)
        ]
        for w in due:
            w.task = asyncio.create_task(self._attempt(w, cp), name=f"witness {w.endpoint.label}")
        if due:
            await asyncio.wait([w.task for w in due if w.task is not None], timeout=ROUND_WAIT)

    async def _attempt(self, w: WitnessWorker, cp: StoredCheckpoint) -> None:
        try:
            await self._conversation.submit(w, cp)
        except SubmissionFailed as exc:
            self._failed(w, str(exc))
        except LedgerError as exc:
            self._failed(w, f"the log's store: {exc}")
        except Exception as exc:  # a bug must not pass silently
            logger.exception("witness %s: submission failed", w.endpoint.label)
            self._failed(w, f"{type(exc).__name__}: {exc}")
        finally:
            w.task = None
            self._wake.set()

    def _cosigned(self, w: WitnessWorker, cp: StoredCheckpoint, was_disputed: bool) -> None:
        if was_disputed:
            self._update_hold()
        now = time.monotonic()
        while w.uncovered and w.uncovered[0][0] <= cp.size:
            w.latencies.append(now - w.uncovered.popleft()[1])
        if sum((o.state.size, o.state.root) == (cp.size, w.state.root) for o in self._workers) >= self.policy.quorum:
            self._witnessed = max(self._witnessed, cp.size)
            while self._quorum_uncovered and self._quorum_uncovered[0][0] <= cp.size:
                self._quorum_latencies.append(now - self._quorum_uncovered.popleft()[1])

    def _failed(self, w: WitnessWorker, reason: str) -> None:
        w.failures += 1
        w.last_error = reason
        delay = self.retry_max if w.state.disputed else self.retry_initial * 2 ** min(w.failures - 1, 30)
        w.next_try = time.monotonic() + max(min(delay, self.retry_max), w.retry_after)
        w.retry_after = 0.0
        logger.warning("witness %s: %s (%d in a row)", w.endpoint.label, reason, w.failures)

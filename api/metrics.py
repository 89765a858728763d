"""Prometheus metrics (one CollectorRegistry per app, so tests can build many apps) and the access log.

The ack-to-checkpoint lag is measured for every acknowledged POST: handlers note (tree size needed,
ack time) and a watcher task observes the delay when a signed checkpoint first covers it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from ledger.core.records import StoredCheckpoint
from ledger.log import Log
from ledger.services.calendar_keeper import CalendarStatus
from ledger.services.witness_client import WitnessClient

access_log = logging.getLogger("hrledger.access")
logger = logging.getLogger("hrledger.metrics")

BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
#: acknowledgment -> signed checkpoint: the goal is p99 <= 1 s (issue 17), so the buckets tell 0.3 s from 1 s
CHECKPOINT_LAG_BUCKETS = (
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.15,
    0.2,
    0.25,
    0.3,
    0.4,
    0.5,
    0.6,
    0.75,
    0.9,
    1,
    1.5,
    2,
    5,
    10,
)


class _LogCounters(Collector):
    def __init__(self, log: Callable[[], Log | None]) -> None:
        self._log = log

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        log = self._log()
        if log is None:
            return
        stats = log.stats
        yield GaugeMetricFamily(
            "hrledger_sequencer",
            "1 while this process may commit (holds the sequencer lease on MongoDB; always on SQLite), else 0",
            value=int(log.is_sequencer()),
        )
        yield CounterMetricFamily("hrledger_commits", "Group commits made by the sequencer", value=stats.commits)
        yield CounterMetricFamily(
            "hrledger_events_committed", "Entries committed to the log", value=stats.events_committed
        )
        yield CounterMetricFamily(
            "hrledger_checkpoints_published", "Signed checkpoints published", value=stats.checkpoints_published
        )


class Metrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry(auto_describe=True)
        self.log: Log | None = None
        self.ingested = Counter("hrledger_events_ingested", "New entries created by POST /v1/events", registry=r)
        self.replayed = Counter(
            "hrledger_events_replayed", "Idempotent replays answered with the original result", registry=r
        )
        self.rejected = Counter(
            "hrledger_requests_rejected", "Requests refused, by reason (problem type slug)", ["reason"], registry=r
        )
        self.request_batch = Histogram(
            "hrledger_request_batch_size", "Events per POST /v1/events request", buckets=BATCH_BUCKETS, registry=r
        )
        self.commit_batch = Histogram(
            "hrledger_commit_batch_size", "Entries per durable group commit", buckets=BATCH_BUCKETS, registry=r
        )
        self.commit_seconds = Histogram(
            "hrledger_commit_seconds",
            "Duration of one group commit (read, hash, durable write)",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.checkpoint_lag = Histogram(
            "hrledger_checkpoint_lag_seconds",
            "Delay from acknowledging a POST to the first signed checkpoint covering it",
            buckets=CHECKPOINT_LAG_BUCKETS,
            registry=r,
        )
        self.lag_entries = Gauge(
            "hrledger_checkpoint_lag_entries", "Committed entries not yet covered by a signed checkpoint", registry=r
        )
        self.tree_size = Gauge("hrledger_tree_size", "Committed entries in the log", registry=r)
        self.checkpoint_size = Gauge(
            "hrledger_checkpoint_size", "Tree size of the latest signed checkpoint", registry=r
        )
        self.http_requests = Counter(
            "hrledger_http_requests", "HTTP requests by route and status", ["method", "route", "status"], registry=r
        )
        self.http_seconds = Histogram(
            "hrledger_http_request_seconds",
            "HTTP request latency by route",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.calendar_days_left = Gauge(
            "hrledger_calendar_days_left",
            "Days until the working-day calendar ends (warned from 60; -1 when it does not cover today)",
            registry=r,
        )
        self.calendar_missing = Gauge(
            "hrledger_calendar_missing_cases",
            "Open cases that need a calendar year nothing records, by year",
            ["year"],
            registry=r,
        )
        self.calendar: Callable[[], CalendarStatus] | None = None  # set by the escalation context
        self.witnesses: WitnessClient | None = None  # set by the witness context
        self._witness_gauges = {
            key: Gauge(f"hrledger_witness_{key}", text, ["witness"], registry=r)
            for key, text in (
                ("cosigned_size", "Tree size of the latest checkpoint the witness cosigned"),
                ("lag_entries", "Entries of the latest checkpoint not yet covered by the witness's cosignature"),
                ("lag_seconds", "Seconds since the first checkpoint the witness has not yet cosigned was published"),
                ("evidence", "Split-view evidence recorded about the witness (SPEC section 7): investigate"),
                ("disputed", "1 while the witness does not count towards the quorum (split-view evidence)"),
                ("failures", "Submissions in a row that got no cosignature"),
            )
        }
        self.witness_cosign_seconds = Histogram(
            "hrledger_witness_cosign_seconds",
            "Delay from publishing a checkpoint to a cosignature covering it, by witness",
            ["witness"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.witnessed_seconds = Histogram(
            "hrledger_checkpoint_witnessed_seconds",
            "Delay from publishing a checkpoint to the policy's quorum of cosignatures on one covering it",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.checkpoint_witnessed = Gauge(
            "hrledger_checkpoint_witnessed",
            "1 when the latest checkpoint has the cosignatures the policy needs",
            registry=r,
        )
        self.signing_held = Gauge(
            "hrledger_signing_held",
            "1 while the log does not sign: the witness policy can no longer be met",
            registry=r,
        )
        r.register(_LogCounters(lambda: self.log))
        self._acks: deque[tuple[int, float]] = deque()
        self._ack_event = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None

    # -- checkpoint lag ---------------------------------------------------------------------------
    def acknowledged(self, size: int) -> None:
        """An append covering the first ``size`` entries was just acknowledged."""
        self._acks.append((size, time.monotonic()))
        self._ack_event.set()

    def start(self, log: Log) -> None:
        self.log = log
        self._watcher = asyncio.create_task(self._watch(log), name="checkpoint-lag")

    async def stop(self) -> None:
        watcher, self._watcher = self._watcher, None
        while watcher is not None and not watcher.done():
            # Again until it ends: a cancellation that arrives as an inner wait completes can be absorbed.
            watcher.cancel()
            await asyncio.wait({watcher}, timeout=1)
        if watcher is not None and not watcher.cancelled() and watcher.exception() is not None:
            logger.error("the checkpoint-lag watcher failed: %r", watcher.exception())

    async def _watch(self, log: Log) -> None:
        acks = self._acks
        while True:
            if not acks:
                self._ack_event.clear()
                await self._ack_event.wait()
                continue
            try:
                checkpoint = await log.wait_for_checkpoint(acks[0][0], timeout=60)
            except TimeoutError:
                continue
            except Exception:  # the store failing must not kill the watcher; /healthz reports it
                await asyncio.sleep(1)
                continue
            now = time.monotonic()
            while acks and acks[0][0] <= checkpoint.size:
                self.checkpoint_lag.observe(now - acks.popleft()[1])

    # -- exposition -------------------------------------------------------------------------------
    async def render(self) -> bytes:
        log = self.log
        if log is not None:
            stats = log.stats
            for size, seconds in zip(stats.batch_sizes, stats.commit_seconds, strict=True):
                self.commit_batch.observe(size)
                self.commit_seconds.observe(seconds)
            stats.batch_sizes.clear()
            stats.commit_seconds.clear()
            size = await log.store.tree_size()
            latest = await log.store.latest_checkpoint()
            covered = latest.size if latest else 0
            self.tree_size.set(size)
            self.checkpoint_size.set(covered)
            self.lag_entries.set(size - covered)
            if self.witnesses is not None:
                self._observe_witnesses(self.witnesses, latest)
        if self.calendar is not None:
            status = self.calendar()
            left = status.days_left
            self.calendar_days_left.set(-1 if left is None else left)
            self.calendar_missing.clear()
            for year, cases in status.missing_years.items():
                self.calendar_missing.labels(str(year)).set(len(cases))
        return generate_latest(self.registry)

    def _observe_witnesses(self, client: WitnessClient, latest: StoredCheckpoint | None) -> None:
        status = client.status(latest)
        for w in status["witnesses"]:
            for key, gauge in self._witness_gauges.items():
                gauge.labels(w["witness"]).set(float(w[key]))
        per_witness, quorum = client.drain_latencies()
        for label, seconds in per_witness.items():
            histogram = self.witness_cosign_seconds.labels(label)
            for s in seconds:
                histogram.observe(s)
        for s in quorum:
            self.witnessed_seconds.observe(s)
        self.checkpoint_witnessed.set(int(status["checkpoint_witnessed"]))
        self.signing_held.set(int(status["signing_hold"] is not None))

    # -- per request ---------------------------------------------------------------------------------
    def request_observer(self, log_lines: bool) -> Callable[[web.Request, int, float], None]:
        """``observe(request, status, started)``: count and time one answered request (``started`` from
        ``time.perf_counter()``), and write its access-log line when ``log_lines``. The service layer in
        ``api.app`` calls it once per request."""
        requests, seconds = self.http_requests, self.http_seconds
        # labels() takes a lock and builds a key per call; cache the children per route and status instead
        counters: dict[tuple[str, str, int], Any] = {}
        timers: dict[str, Any] = {}

        def observe(request: web.Request, status: int, started: float) -> None:
            elapsed = time.perf_counter() - started
            resource = request.match_info.route.resource
            route = resource.canonical if resource is not None else "unmatched"
            key = (request.method, route, status)
            counter = counters.get(key)
            if counter is None:
                counter = counters[key] = requests.labels(request.method, route, str(status))
            counter.inc()
            timer = timers.get(route)
            if timer is None:
                timer = timers[route] = seconds.labels(route)
            timer.observe(elapsed)
            if log_lines and access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    '%s "%s %s" %d %.2fms', request.remote, request.method, request.path_qs, status, elapsed * 1000
                )

        return observe

"""The aiohttp application factory.

Resources (the store, the log's sequencer and publisher, the metrics watcher) live in one
``cleanup_ctx``: opened in order on startup, closed in reverse on shutdown, where ``Log.stop`` drains
what was accepted, commits it and publishes a last checkpoint before the store closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from api.auth import TOKENS, TokenCache
from api.bundle_routes import setup_bundles
from api.config import CONFIG, LOG, METRICS, SIGNER, STORE, AppConfig
from api.domain_routes import setup_domain
from api.errors import error_middleware
from api.metrics import Metrics
from api.ratelimit import AuthFailureLimiter, auth_failure_limit
from api.routes import EVENTS_PATH, add_routes
from ledger.admin.datadir import load_datadir
from ledger.log import Log
from ledger.services.identity import claim_store
from ledger.storage.base import Storage

logger = logging.getLogger("hrledger.api")


async def _ledger(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    datadir = load_datadir(config.data_dir)
    signer = datadir.signer()
    store = datadir.open_store(config.store_uri)
    await store.open()
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(store.close)
        await claim_store(store, signer)  # never sign for a log of another key
        term = await _sequencer_lease(store, stack, config.lease_ttl)
        log = Log(store, signer, clock=config.clock, random_bytes=config.random_bytes, term=term)
        await log.start()
        await _first_checkpoint(log, config.checkpoint_wait_seconds)
        app[STORE], app[SIGNER], app[LOG] = store, signer, log
        app[METRICS].start(log)
        stack.push_async_callback(log.stop)  # drain, commit, publish a last checkpoint
        stack.push_async_callback(app[METRICS].stop)
        if config.tsa_url:
            await _timestamper(config, store, stack, log.is_sequencer)
        yield


async def _sequencer_lease(store: Storage, stack: contextlib.AsyncExitStack, ttl: float) -> Callable[[], int]:
    """On MongoDB several processes share one log: only the lease holder commits (docs/deploy.md); the others
    answer writes with 503 and Retry-After. SQLite has one process and needs no lease."""
    from ledger.storage.mongo import MongoStorage

    if not isinstance(store, MongoStorage):
        return lambda: 0
    from ledger.services.lease import Lease

    lease = Lease(store, ttl=ttl)
    await lease.step()  # take it now if it is free, so a lone process accepts writes at once
    stop = asyncio.Event()
    task = asyncio.create_task(lease.run(stop), name="sequencer-lease")

    async def release() -> None:
        stop.set()
        await task
        await lease.release()

    stack.push_async_callback(release)
    return lease.current_term


async def _timestamper(
    config: AppConfig, store: Storage, stack: contextlib.AsyncExitStack, active: Callable[[], bool]
) -> None:
    from ledger.services.timestamping import Timestamper

    assert config.tsa_url is not None
    root = config.tsa_root.read_bytes() if config.tsa_root else None
    stamper = Timestamper(store, config.tsa_url, config.tsa_interval, root_pem=root, active=active)
    task = asyncio.create_task(stamper.run(), name="timestamper")

    async def cancel() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(cancel)


async def _first_checkpoint(log: Log, timeout: float) -> None:
    """Start serving once the publisher has covered the committed tree, so /v1/checkpoint is never empty."""
    size = await log.store.tree_size()
    try:
        await log.wait_for_checkpoint(size, timeout)
    except TimeoutError:
        logger.error(
            "no checkpoint covers the %d committed entries yet: %s", size, log.publish_error or "the publisher is slow"
        )


def create_app(config: AppConfig) -> web.Application:
    metrics = Metrics()

    def on_reject(request: web.Request, reason: str) -> None:
        if request.path == EVENTS_PATH:
            metrics.rejected.labels(reason).inc()

    app = web.Application(
        client_max_size=config.max_body_bytes,
        # The rate limiter is outermost so that it sees the final status of every failed authentication.
        middlewares=[
            auth_failure_limit(
                AuthFailureLimiter(burst=config.auth_failure_burst, per_second=config.auth_failure_per_second)
            ),
            metrics.middleware(config.access_log),
            error_middleware(on_reject, config.max_body_bytes),
        ],
    )
    app[CONFIG] = config
    app[METRICS] = metrics
    app[TOKENS] = TokenCache(config.token_cache_seconds)
    app.cleanup_ctx.append(_ledger)
    add_routes(app)
    setup_domain(app)  # absence, cases, contacts, deliveries, and the escalation scheduler
    setup_bundles(app)
    return app

"""The aiohttp application factory.

Resources (the store, the log's sequencer and publisher, the metrics watcher) live in one
``cleanup_ctx``: opened in order on startup, closed in reverse on shutdown, where ``Log.stop`` drains
what was accepted, commits it and publishes a last checkpoint before the store closes.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from api.auth import TOKENS, TokenCache
from api.config import CONFIG, LOG, METRICS, SIGNER, STORE, AppConfig
from api.errors import error_middleware
from api.metrics import Metrics
from api.routes import EVENTS_PATH, add_routes
from ledger.datadir import load_datadir
from ledger.log import Log

logger = logging.getLogger("hrledger.api")


async def _ledger(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    datadir = load_datadir(config.data_dir)
    signer = datadir.signer()
    store = datadir.open_store(config.store_uri)
    await store.open()
    try:
        log = Log(store, signer, clock=config.clock, random_bytes=config.random_bytes)
        await log.start()
        await _first_checkpoint(log, config.checkpoint_wait_seconds)
        app[STORE], app[SIGNER], app[LOG] = store, signer, log
        app[METRICS].start(log)
        try:
            yield
        finally:
            await app[METRICS].stop()
            await log.stop()  # drain, commit, publish a last checkpoint
    finally:
        await store.close()


async def _first_checkpoint(log: Log, timeout: float) -> None:
    """Start serving once the publisher has covered the committed tree, so /v1/checkpoint is never empty."""
    size = await log.store.tree_size()
    try:
        await log.wait_for_checkpoint(size, timeout)
    except TimeoutError:
        logger.error("no checkpoint covers the %d committed entries yet: %s", size,
                     log.publish_error or "the publisher is slow")


def create_app(config: AppConfig) -> web.Application:
    metrics = Metrics()

    def on_reject(request: web.Request, reason: str) -> None:
        if request.path == EVENTS_PATH:
            metrics.rejected.labels(reason).inc()

    app = web.Application(
        client_max_size=config.max_body_bytes,
        middlewares=[metrics.middleware(config.access_log), error_middleware(on_reject, config.max_body_bytes)],
    )
    app[CONFIG] = config
    app[METRICS] = metrics
    app[TOKENS] = TokenCache(config.token_cache_seconds)
    app.cleanup_ctx.append(_ledger)
    add_routes(app)
    return app

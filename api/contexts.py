"""The service's resources, one ``cleanup_ctx`` each, opened in order at start-up and closed in reverse.

- ``ledger_context``: the store (bound to this log's key), the sequencer lease on MongoDB, the log's
  sequencer and publisher, the metrics watcher and the RFC 3161 timestamper. ``Log.stop`` drains what
  was accepted, commits it and publishes a last checkpoint before the store closes.
- ``witness_context``: the witness client, which sends each new checkpoint to the witnesses of the
  policy file (``AppConfig.witnesses_path``) and keeps their cosignatures (docs/witnesses.md).
- ``escalation_context``: the policy, the projection follower, the notifier and the escalator, whose loop runs every
  ``AppConfig.tick_seconds`` (``<= 0`` disables the loop; reads still work).

This is the one module of ``api`` that opens the store; handlers reach it only through the log and the
services.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from aiohttp import web

from api.config import (
    CONFIG,
    DRAFTER,
    ESCALATOR,
    FOLLOWER,
    LOG,
    METRICS,
    NOTIFIER,
    POLICY,
    SIGNER,
    STORE,
    TOKENS,
    WITNESSES,
    AppConfig,
)
from ledger.admin.datadir import load_datadir
from ledger.domain import DEFAULT_POLICY, Policy, PolicyError, load_policy
from ledger.log import Log
from ledger.services.drafting import NoticeDrafter, Templates
from ledger.services.escalator import Escalator
from ledger.services.follower import ProjectionFollower
from ledger.services.identity import claim_store
from ledger.services.notify import Notifier
from ledger.services.tokens import TokenCache
from ledger.services.witness_client import WitnessClient
from ledger.services.witness_policy import read_witness_policy
from ledger.storage.base import Storage

logger = logging.getLogger("hrledger.api")
STOP_TIMEOUT = 10.0


async def ledger_context(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    datadir = load_datadir(config.data_dir)
    signer = datadir.signer()
    store = datadir.open_store(config.store_uri)
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(store.close)  # also when open fails: its worker threads must end
        await store.open()
        await claim_store(store, signer)  # never sign for a log of another key
        term = await _sequencer_lease(store, stack, config.lease_ttl)
        log = Log(store, signer, clock=config.clock, random_bytes=config.random_bytes, term=term)
        await log.start()
        await _first_checkpoint(log, config.checkpoint_wait_seconds)
        app[STORE], app[SIGNER], app[LOG] = store, signer, log
        app[TOKENS] = TokenCache(store, config.token_cache_seconds)
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
    size = await log.tree_size()
    try:
        await log.wait_for_checkpoint(size, timeout)
    except TimeoutError:
        logger.error(
            "no checkpoint covers the %d committed entries yet: %s", size, log.publish_error or "the publisher is slow"
        )


def read_policy(path: Path | None) -> Policy:
    if path is None:
        return DEFAULT_POLICY
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError("policy", f"cannot read the policy file {path}: {exc}") from None
    return load_policy(text)


async def witness_context(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    if config.witnesses_path is None:
        yield
        return
    log = app[LOG]
    client = WitnessClient(log, read_witness_policy(config.witnesses_path), clock=config.clock, active=log.is_sequencer)
    await client.start()
    app[WITNESSES] = client
    app[METRICS].witnesses = client
    try:
        yield
    finally:
        await client.stop()


async def escalation_context(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    policy = read_policy(config.policy_path)
    follower = ProjectionFollower(app[LOG], policy)
    notifier = Notifier(app[STORE], policy, clock=config.clock, active=app[LOG].is_sequencer)
    templates = Templates(config.workbench.notice_templates)
    drafter = NoticeDrafter(app[STORE], policy, templates, projector=lambda: follower.projector)
    escalator = Escalator(app[LOG], policy, follower=follower, clock=config.clock, notifier=notifier, drafter=drafter)
    notifier.name_of = escalator.employee_name
    app[POLICY], app[NOTIFIER], app[FOLLOWER], app[ESCALATOR] = policy, notifier, follower, escalator
    app[DRAFTER] = drafter
    await escalator.start()
    app[METRICS].calendar = escalator.calendar_status
    warning = escalator.calendar_status().warning
    if warning is not None:
        logger.warning("%s", warning)
    stop = asyncio.Event()
    task = asyncio.create_task(escalator.run(stop, config.tick_seconds)) if config.tick_seconds > 0 else None
    try:
        yield
    finally:
        stop.set()
        if task is not None:
            try:
                async with asyncio.timeout(STOP_TIMEOUT):
                    await task  # a timeout cancels it
            except TimeoutError:
                logger.error("the escalation loop did not stop within %.0f s; cancelled", STOP_TIMEOUT)
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await notifier.stop()  # pending deliveries stay in the store and resume on the next start
        follower.close()

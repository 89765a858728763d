"""Configuration of one service instance and the typed keys of its shared state (every ``web.AppKey``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from api.metrics import Metrics
from api.ratelimit import DEFAULT_BURST
from api.workbench.settings import WorkbenchSettings
from api.workbench.state import Workbench
from ledger.core.notes import Signer
from ledger.domain import Policy
from ledger.log import Log
from ledger.services.drafting import NoticeDrafter
from ledger.services.escalator import Escalator
from ledger.services.follower import ProjectionFollower
from ledger.services.notify import Notifier
from ledger.services.tokens import TokenCache
from ledger.services.witness_client import WitnessClient
from ledger.storage.base import Storage

MAX_BODY_BYTES = 1 << 20  # SPEC section 2: bodies over 1 MiB are refused with 413
MAX_BATCH = 1000


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class AppConfig:
    """Everything ``create_app`` needs; time and randomness come in here so tests can fix them."""

    data_dir: Path
    store_uri: str | None = None  # overrides the store named in the data dir (sqlite:PATH or mongodb://...)
    clock: Callable[[], datetime] = utc_now
    random_bytes: Callable[[int], bytes] = os.urandom
    tick_seconds: float = 60.0  # escalation evaluation period (used by the escalation issue)
    policy_path: Path | None = None  # escalation policy file (used by the escalation issue)
    token_cache_seconds: float = 5.0  # how long a token lookup (or a revocation) may be served from memory
    checkpoint_wait_seconds: float = 10.0  # upper bound for POST /v1/events?wait=checkpoint
    max_body_bytes: int = MAX_BODY_BYTES
    max_batch: int = MAX_BATCH
    access_log: bool = True
    tsa_url: str | None = None  # RFC 3161 Time Stamping Authority; None: checkpoints are not timestamped
    tsa_interval: float = 300.0  # seconds between timestamps of the latest checkpoint
    tsa_root: Path | None = None  # PEM root to check each token on receipt
    auth_failure_burst: int = DEFAULT_BURST  # failed authentications a client address may make at once ...
    auth_failure_per_second: float = 0.5  # ... and how fast that allowance refills (429 beyond it)
    lease_ttl: float = 10.0  # MongoDB only: seconds a killed sequencer blocks writes before another takes over
    witnesses_path: Path | None = None  # witness policy (TOML, docs/witnesses.md); None: checkpoints are not witnessed
    workbench: WorkbenchSettings = field(default_factory=WorkbenchSettings)  # the people's pages (SPEC section 8)


CONFIG = web.AppKey("config", AppConfig)
STORE = web.AppKey("store", Storage)
LOG = web.AppKey("log", Log)
SIGNER = web.AppKey("signer", Signer)
METRICS = web.AppKey("metrics", Metrics)
POLICY = web.AppKey("policy", Policy)
FOLLOWER = web.AppKey("follower", ProjectionFollower)
ESCALATOR = web.AppKey("escalator", Escalator)
NOTIFIER = web.AppKey("notifier", Notifier)
TOKENS = web.AppKey("tokens", TokenCache)
WITNESSES = web.AppKey("witnesses", WitnessClient)
DRAFTER = web.AppKey("drafter", NoticeDrafter)
WORKBENCH = web.AppKey("workbench", Workbench)

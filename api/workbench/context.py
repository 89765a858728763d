"""The workbench's cleanup context: its sessions and sign-in limiter, and the bundle jobs it cancels at shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from api.config import CONFIG, STORE, WORKBENCH
from api.ratelimit import AuthFailureLimiter
from api.workbench.jobs import BundleJobs
from api.workbench.sessions import Sessions
from api.workbench.state import Workbench


async def workbench_context(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    settings = config.workbench
    sessions = Sessions(app[STORE], settings, clock=config.clock, random_bytes=config.random_bytes)
    limiter = AuthFailureLimiter(burst=settings.sign_in_burst, per_second=settings.sign_in_per_second)
    jobs = BundleJobs(config.random_bytes)
    app[WORKBENCH] = Workbench(settings, sessions, limiter, jobs)
    try:
        yield
    finally:
        await jobs.close()

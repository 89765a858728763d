"""The workbench's cleanup context: its sessions and sign-in limiter, and the bundle jobs it cancels at shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from api.config import CONFIG, STORE, WORKBENCH
from api.ratelimit import AuthFailureLimiter
from api.workbench.jobs import BundleJobs
from api.workbench.sessions import Sessions
from api.workbench.state import Workbench
from ledger.services.users import User, get_user


async def workbench_context(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    settings = config.workbench
    store = app[STORE]

    async def find_user(name: str) -> User | None:
        return await get_user(store, name)

    sessions = Sessions(store, settings, find_user=find_user, clock=config.clock, random_bytes=config.random_bytes)
    limiter = AuthFailureLimiter(burst=settings.sign_in_burst, per_second=settings.sign_in_per_second)
    jobs = BundleJobs(config.random_bytes)
    app[WORKBENCH] = Workbench(settings, sessions, limiter, jobs)
    try:
        yield
    finally:
        await jobs.close()

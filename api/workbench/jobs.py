"""Bundle exports started from the workbench: each runs as a task, its state polled by the page.

A job is ``queued``, ``building``, ``done`` (its zip kept in memory for ``KEEP`` so the person can
download it) or ``failed`` (with the reason). Jobs belong to the person who started them; at most
``MAX_JOBS`` are kept, the oldest finished ones forgotten first, and ``MAX_RUNNING`` build at once so
exports cannot starve the service.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ledger.errors import LedgerError, ValidationError

log = logging.getLogger("hrledger.workbench")
KEEP = 15 * 60.0
MAX_JOBS = 100
MAX_RUNNING = 2
STATE_LABELS = {
    "queued": ("排队中", "queued"),
    "building": ("正在生成并自行核验证据包", "building and verifying the bundle"),
    "done": ("已完成", "done"),
    "failed": ("失败", "failed"),
}


@dataclass
class Job:
    job_id: str
    owner: str
    subject: str
    start: str
    end: str
    state: str = "queued"
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    error: str | None = None
    result: bytes | None = None
    task: asyncio.Task[None] | None = None

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def filename(self) -> str:
        name = f"{self.subject}_{self.start}_{self.end}.zip"
        return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)

    def status(self, lang: str) -> dict[str, object]:
        zh, en = STATE_LABELS[self.state]
        return {
            "job": self.job_id,
            "state": self.state,
            "state_label": en if lang == "en" else zh,
            "elapsed_seconds": round(self.elapsed, 1),
            "error": self.error,
            "bytes": len(self.result) if self.result is not None else None,
        }


class BundleJobs:
    def __init__(self, random_bytes: Callable[[int], bytes]) -> None:
        self.random_bytes = random_bytes
        self.jobs: dict[str, Job] = {}
        self._slots = asyncio.Semaphore(MAX_RUNNING)

    def start(self, owner: str, subject: str, start: str, end: str, build: Callable[[], Awaitable[bytes]]) -> Job:
        self._forget()
        if len(self.jobs) >= MAX_JOBS:
            raise ValidationError("bundle", f"{MAX_JOBS} exports are kept already; try again in a few minutes")
        job_id = base64.urlsafe_b64encode(self.random_bytes(12)).decode("ascii")
        job = Job(job_id, owner, subject, start, end)
        job.task = asyncio.create_task(self._run(job, build), name=f"bundle-{job_id}")
        self.jobs[job_id] = job
        return job

    async def _run(self, job: Job, build: Callable[[], Awaitable[bytes]]) -> None:
        async with self._slots:
            job.state = "building"
            try:
                job.result = await build()
                job.state = "done"
            except LedgerError as exc:
                job.state, job.error = "failed", str(exc)
            except Exception as exc:  # a bug must show as a failed export, not a silent hang
                log.exception("bundle export %s crashed", job.job_id)
                job.state, job.error = "failed", f"internal error ({type(exc).__name__}); it has been logged"
            finally:
                job.finished = time.monotonic()

    def get(self, job_id: str, owner: str) -> Job | None:
        job = self.jobs.get(job_id)
        return job if job is not None and job.owner == owner else None

    def _forget(self) -> None:
        now = time.monotonic()
        for job_id, job in list(self.jobs.items()):
            if job.finished is not None and now - job.finished > KEEP:
                del self.jobs[job_id]
        finished = sorted((j for j in self.jobs.values() if j.finished is not None), key=lambda j: j.finished or 0)
        while len(self.jobs) >= MAX_JOBS and finished:
            del self.jobs[finished.pop(0).job_id]

    async def close(self) -> None:
        for job in self.jobs.values():
            if job.task is not None and not job.task.done():
                job.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await job.task

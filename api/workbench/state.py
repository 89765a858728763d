"""The workbench's shared state, kept under ``api.config.WORKBENCH``."""

from __future__ import annotations

from dataclasses import dataclass

from api.ratelimit import AuthFailureLimiter
from api.workbench.jobs import BundleJobs
from api.workbench.sessions import Sessions
from api.workbench.settings import WorkbenchSettings


@dataclass
class Workbench:
    settings: WorkbenchSettings
    sessions: Sessions
    sign_ins: AuthFailureLimiter  # failed sign-ins per client address, like failed tokens on the API
    jobs: BundleJobs

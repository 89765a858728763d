"""The aiohttp application factory: middlewares, typed state, the resources' contexts, the route table."""

from __future__ import annotations

from aiohttp import web

from api.config import CONFIG, METRICS, AppConfig
from api.contexts import escalation_context, ledger_context, witness_context
from api.errors import error_middleware
from api.metrics import Metrics
from api.ratelimit import AuthFailureLimiter, auth_failure_limit
from api.routes import EVENTS_PATH, add_routes
from api.workbench.context import workbench_context
from api.workbench.routes import add_pages


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
    app.cleanup_ctx.extend([ledger_context, witness_context, escalation_context, workbench_context])
    add_routes(app)
    add_pages(app)  # the workbench: HTML for people, its sessions checked on its own routes only
    return app

"""The aiohttp application factory: one service middleware, typed state, the resources' contexts, the routes.

Every request passes ONE middleware layer (each layer is a coroutine frame and a call per request, and
under load they add up): it refuses a client whose failed authentications emptied its bucket, runs the
handler, maps what the handler raised to problem+json (``api.errors``), charges a 401 that answered a token
to the client's bucket (``api.ratelimit``) and observes the request for /metrics and the access log (``api.metrics``),
in that order, so the limiter sees the final status and the metrics see every answer, 429s included.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from api.config import CONFIG, METRICS, AppConfig
from api.contexts import escalation_context, ledger_context, witness_context
from api.errors import Handler, RejectHook, error_response
from api.metrics import Metrics
from api.ratelimit import AuthFailureLimiter, client_ip, too_many_requests
from api.routes import EVENTS_PATH, add_routes
from api.workbench.context import workbench_context
from api.workbench.routes import add_pages


def service_middleware(
    limits: AuthFailureLimiter, metrics: Metrics, on_reject: RejectHook, *, max_body: int, access_log: bool
) -> Any:
    """The one middleware layer (see the module docstring)."""
    observe = metrics.request_observer(access_log)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        authenticating = "Authorization" in request.headers
        if authenticating:
            wait = limits.retry_after(client_ip(request))
            if wait:
                refused = too_many_requests(client_ip(request), wait)
                observe(request, 429, started)
                return refused
        try:
            response = await handler(request)
        except Exception as exc:
            handled = error_response(request, exc, max_body)
            if handled is None:  # a redirect: aiohttp answers it
                observe(request, getattr(exc, "status", 500), started)
                raise
            response, slug = handled
            on_reject(request, slug)
        except BaseException:  # cancelled: the client went away
            observe(request, 500, started)
            raise
        if response.status == 401 and authenticating:  # no header, no guess: nothing to charge
            limits.failed(client_ip(request))
        observe(request, response.status, started)
        return response

    return middleware


def create_app(config: AppConfig) -> web.Application:
    """The service for ``config``; its resources open when the app starts (``cleanup_ctx``)."""
    metrics = Metrics()

    def on_reject(request: web.Request, reason: str) -> None:
        if request.path == EVENTS_PATH:
            metrics.rejected.labels(reason).inc()

    limiter = AuthFailureLimiter(burst=config.auth_failure_burst, per_second=config.auth_failure_per_second)
    app = web.Application(
        client_max_size=config.max_body_bytes,
        middlewares=[
            service_middleware(
                limiter, metrics, on_reject, max_body=config.max_body_bytes, access_log=config.access_log
            )
        ],
    )
    app[CONFIG] = config
    app[METRICS] = metrics
    app.cleanup_ctx.extend([ledger_context, witness_context, escalation_context, workbench_context])
    add_routes(app)
    add_pages(app)  # the workbench: HTML for people, its sessions checked on its own routes only
    return app

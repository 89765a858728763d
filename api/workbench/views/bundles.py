"""Exporting an evidence bundle from a case page: started as a job, its progress shown until it can be downloaded.

The bundle is the same as ``POST /v1/bundles`` builds (``ledger.services.evidence``); the page polls the
job's status (``/bundles/{job}/status``, JSON) with a few lines of script, or reloads itself without it.
"""

from __future__ import annotations

import json
from datetime import date

from aiohttp import web

from api.bundles import bundle_of
from api.config import LOG, WORKBENCH
from api.workbench.jobs import Job
from api.workbench.page import page, see_other, session_of
from api.workbench.render import language
from api.workbench.security import page_headers
from ledger.errors import NotFoundError, ValidationError


def _day(value: object, name: str) -> date:
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(name, f"must be a date YYYY-MM-DD, got {value!r}") from None


async def start_bundle(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    subject = str(form.get("subject", ""))
    start, end = _day(form.get("from"), "from"), _day(form.get("to"), "to")
    if start > end:
        raise ValidationError("from", f"the period starts ({start}) after it ends ({end})")
    app = request.app

    async def build() -> bytes:
        return await bundle_of(app, subject, start, end)

    job = app[WORKBENCH].jobs.start(session_of(request).user.name, subject, start.isoformat(), end.isoformat(), build)
    return see_other(f"/bundles/{job.job_id}")


def _job(request: web.Request) -> Job:
    job = request.app[WORKBENCH].jobs.get(request.match_info["job"], session_of(request).user.name)
    if job is None:
        raise NotFoundError("no such bundle export of yours (exports are kept for 15 minutes)")
    return job


async def bundle_page(request: web.Request) -> web.Response:
    job = _job(request)
    vkey = request.app[LOG].signer.vkey
    return page(request, "bundle.html", {"job": job, "status": job.status(language(request)), "vkey": vkey})


async def bundle_status(request: web.Request) -> web.Response:
    response = web.Response(
        body=json.dumps(_job(request).status(language(request)), ensure_ascii=False).encode("utf-8"),
        content_type="application/json",
    )
    page_headers(response)
    return response


async def bundle_download(request: web.Request) -> web.Response:
    job = _job(request)
    if job.result is None:
        raise NotFoundError(f"the bundle is not ready ({job.state})")
    response = web.Response(body=job.result, content_type="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{job.filename}"'
    page_headers(response)
    return response

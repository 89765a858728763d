"""A drafted notice: its facts and state, the document to open and print (and as PDF where Chromium is
installed), the form that issues it, and drafting one on demand."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from api.cases import evaluate
from api.config import CONFIG, DRAFTER, POLICY, WORKBENCH
from api.events import append_events, parse_events
from api.workbench.page import now, page, projection, see_other, session_of
from api.workbench.security import DOCUMENT_CSP, page_headers
from api.workbench.views.cases import nonce
from ledger.core.entries import Event
from ledger.errors import LedgerError, NotFoundError, ValidationError
from ledger.services.drafting import DRAFTED, KINDS, find_notice, notice_id_for
from ledger.services.labels import STAGES

PDF_TIMEOUT = 60.0
#: where a notice of each kind usually goes (SPEC section 4 stage channels; the person adjusts them)
DEFAULT_CHANNELS = {
    "reminder": ["sms", "email"],
    "return_demand": ["visit", "post", "sms", "email"],
    "absenteeism": ["post", "sms", "email"],
    "termination": ["visit", "post"],
    "publication": ["newspaper", "notice_board"],
}


async def _notice(request: web.Request) -> dict[str, Any]:
    notice_id = request.query.get("id", "")
    found = await find_notice(request.app[DRAFTER], notice_id) if notice_id else None
    if found is None:
        raise NotFoundError(f"no drafted notice {notice_id!r} in the log")
    return found


async def notice_page(request: web.Request) -> web.Response:
    found = await _notice(request)
    facts = found.get("facts") or {}
    issued = [e for e in found["events"] if e["type"] == "notice.issued"]
    recipients = [str(facts.get("employee", {}).get("name"))] if facts.get("employee") else []
    context = {
        "notice": found,
        "facts": facts,
        "issued": issued,
        "csrf": session_of(request).csrf,
        "nonce": nonce(request),
        "now_local": now(request).astimezone(request.app[POLICY].tz).strftime("%Y-%m-%dT%H:%M"),
        "options": {"recipients": recipients},
        "default_channels": DEFAULT_CHANNELS.get(str(found["kind"]), []),
        # only a return demand must set a deadline (a publication may; no other notice does)
        "deadline_days": (facts.get("deadline") or {}).get("days") if found["kind"] == "return_demand" else None,
        "serves": (facts.get("served") or {}).get("notice_id") if facts.get("served") else None,
        "pdf": request.app[WORKBENCH].settings.chromium is not None
        and shutil.which(request.app[WORKBENCH].settings.chromium or "") is not None,
        "back": f"/notice?id={quote(found['notice_id'], safe='')}",
        "case_url": f"/cases/{found['case_id']}" if found.get("case_id") else None,
    }
    return page(request, "notice.html", context)


async def notice_document(request: web.Request) -> web.Response:
    """The document exactly as drafted (its bytes hash to the recorded digest), under a script-free CSP."""
    found = await _notice(request)
    if found["document"] is None:
        raise NotFoundError("the log records this notice's digest, but its document is not kept by this service")
    response = web.Response(body=str(found["document"]).encode("utf-8"), content_type="text/html", charset="utf-8")
    page_headers(response, csp=DOCUMENT_CSP, frame="SAMEORIGIN")
    return response


async def notice_pdf(request: web.Request) -> web.Response:
    """The document printed to A4 PDF by headless Chromium (only where it is installed)."""
    found = await _notice(request)
    chromium = request.app[WORKBENCH].settings.chromium
    binary = shutil.which(chromium) if chromium else None
    if binary is None or found["document"] is None:
        raise NotFoundError("PDF printing needs Chromium on the server (Debian: apt-get install chromium)")
    pdf = await print_pdf(binary, str(found["document"]).encode("utf-8"))
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in found["notice_id"]) + ".pdf"
    response = web.Response(body=pdf, content_type="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    page_headers(response, csp=DOCUMENT_CSP)
    return response


async def print_pdf(binary: str, html: bytes) -> bytes:
    with tempfile.TemporaryDirectory(prefix="hrledger-pdf-") as tmp:
        source, out = Path(tmp) / "notice.html", Path(tmp) / "notice.pdf"
        source.write_bytes(html)
        args = [
            binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp}/profile", "--no-pdf-header-footer",
            f"--print-to-pdf={out}", source.as_uri(),
        ]  # fmt: skip
        proc = await asyncio.create_subprocess_exec(
            *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        try:
            async with asyncio.timeout(PDF_TIMEOUT):
                await proc.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise LedgerError(f"printing to PDF took more than {PDF_TIMEOUT:g} s") from None
        if proc.returncode != 0 or not out.exists():
            raise LedgerError(f"Chromium could not print the notice (exit {proc.returncode})")
        return out.read_bytes()


async def draft_notice(request: web.Request) -> web.StreamResponse:
    """Draft a notice now from today's facts (a re-draft, or the publication text), recorded like any event."""
    form = await request.post()
    session = session_of(request)
    kind, case_id = str(form.get("kind", "")), str(form.get("case_id", ""))
    if kind not in KINDS:
        raise ValidationError("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    serves = str(form.get("serves", "")).strip() or None
    at = now(request)
    await evaluate(request, lambda p: p.case(case_id, at), lambda doc: [doc])  # records calendar years it needs
    p = await projection(request)
    drafter = request.app[DRAFTER]
    stamp = at.astimezone(p.policy.tz).strftime("%Y%m%d%H%M%S")
    draft = drafter.compose(p, case_id, kind, at, notice_id=notice_id_for(case_id, kind, stamp), serves=serves)
    event_id = f"workbench/{session.user.name}/draft-{stamp}-{kind}"
    doc: dict[str, Any] = {
        "event_id": event_id,
        "type": DRAFTED,
        "subject": draft.subject,
        "occurred_at": at.astimezone(p.policy.tz).isoformat(),
        "source": session.user.source,
        "data": draft.data(),
    }
    events = _parse(doc, request)
    await drafter.keep(draft, event_id)
    await append_events(request.app, events, session.grants, f"{session.user.name} has role {session.user.role}")
    return see_other(f"/notice?id={quote(draft.notice_id, safe='')}")


def _parse(doc: dict[str, Any], request: web.Request) -> list[Event]:
    events, _ = parse_events(
        json.dumps(doc, ensure_ascii=False).encode("utf-8"), now=request.app[CONFIG].clock(), max_batch=1
    )
    return events


__all__ = ["STAGES", "draft_notice", "notice_document", "notice_page", "notice_pdf"]

"""The workbench's pages, each with the role it needs (None: no session needed, on purpose).

Registered beside the JSON API by ``api.app.create_app`` (``add_pages``), each handler wrapped by
:func:`guarded_page`: the session is looked up for these routes only, form posts must carry the CSRF
token, and errors become HTML pages (the JSON API keeps its problem+json). These routes are HTML for
people and are left out of the OpenAPI document on purpose (``is_page``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp import web

from api.config import WORKBENCH
from api.errors import Handler, classify
from api.workbench.page import SESSION, page, see_other
from api.workbench.security import CSRF_FIELD, same_origin
from api.workbench.sessions import cookie_name
from api.workbench.views import bundles, cases, notices, overview, record, signin
from ledger.errors import ForbiddenError, LedgerError, ValidationError


@dataclass(frozen=True)
class Page:
    method: str
    path: str
    handler: Handler
    role: str | None


PAGES: tuple[Page, ...] = (
    Page("GET", "/", overview.overview, "legal"),
    Page("GET", "/signin", signin.sign_in_form, None),
    Page("POST", "/signin", signin.sign_in, None),
    Page("POST", "/signout", signin.sign_out, "auditor"),
    Page("GET", "/lang/{lang}", signin.set_language, None),
    Page("GET", "/static/{name}", signin.static, None),
    Page("GET", "/cases/{case_id:.+}", cases.case_page, "legal"),
    Page("GET", "/employees/{subject}", cases.employee_page, "legal"),
    Page("POST", "/record/{form}", record.record, "writer"),
    Page("GET", "/notice", notices.notice_page, "legal"),
    Page("GET", "/notice/document", notices.notice_document, "legal"),
    Page("GET", "/notice/pdf", notices.notice_pdf, "legal"),
    Page("POST", "/notice/draft", notices.draft_notice, "writer"),
    Page("POST", "/bundles", bundles.start_bundle, "legal"),
    Page("GET", "/bundles/{job}", bundles.bundle_page, "legal"),
    Page("GET", "/bundles/{job}/status", bundles.bundle_status, "legal"),
    Page("GET", "/bundles/{job}/download", bundles.bundle_download, "legal"),
)
PAGE_PATHS = frozenset((p.method, p.path.replace(":.+", "")) for p in PAGES)


def is_page(method: str, canonical: str) -> bool:
    """Whether a registered route is one of the workbench's pages (not part of the JSON API)."""
    return (method, canonical) in PAGE_PATHS


def add_pages(app: web.Application, pages: Iterable[Page] = PAGES) -> None:
    for p in pages:
        app.router.add_route(p.method, p.path, guarded_page(p.handler, p.role))


def error_page(request: web.Request, exc: LedgerError) -> web.Response:
    status, _ = classify(exc)
    message = exc.detail if isinstance(exc, ValidationError) else str(exc) or exc.title
    if isinstance(exc, ValidationError):
        message = f"{exc.field}: {exc.detail}"
    context = {"status": status, "title": exc.title, "message": message, "back": request.headers.get("Referer")}
    back = context["back"]
    if not (isinstance(back, str) and back.startswith(f"{request.scheme}://{request.host}/")):
        context["back"] = "/"
    return page(request, "error.html", context, status=status)


def guarded_page(handler: Handler, role: str | None) -> Handler:
    async def run(request: web.Request) -> web.StreamResponse:
        try:
            if role is not None:
                wb = request.app[WORKBENCH]
                session = await wb.sessions.lookup(request.cookies.get(cookie_name(request, wb.settings)))
                if session is None:
                    if request.method == "GET":
                        return see_other(signin.sign_in_location(request))
                    raise ForbiddenError("you are not signed in, or your session ended: sign in and try again")
                request[SESSION] = session
                if not session.grants(role):
                    raise ForbiddenError(
                        f"this needs the {role} role; {session.user.name} has role {session.user.role}"
                    )
                if request.method == "POST":
                    same_origin(request)
                    form = await request.post()
                    given = form.get(CSRF_FIELD)
                    if not session.csrf_ok(given if isinstance(given, str) else None):
                        raise ForbiddenError("the form lacks this session's CSRF token: reload the page and try again")
            return await handler(request)
        except LedgerError as exc:
            return error_page(request, exc)

    run.__name__ = getattr(handler, "__name__", "page")
    run.__doc__ = handler.__doc__
    return run

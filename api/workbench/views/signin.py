"""Signing in and out, the language switch and the static files."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from api.config import CONFIG, STORE, WORKBENCH
from api.ratelimit import client_ip
from api.workbench.page import page, safe_next, see_other, session_of
from api.workbench.render import LANG_COOKIE, LANGS
from api.workbench.security import SIGN_IN_COOKIE, page_headers, same_origin, tokens_match
from api.workbench.sessions import cookie_name
from ledger.services.users import authenticate

STATIC = Path(__file__).parent.parent / "static"
#: the files /static/ serves: a fixed table, so no path from a request ever reaches the file system
STATIC_FILES = {"workbench.css": "text/css", "workbench.js": "text/javascript"}


async def sign_in_form(
    request: web.Request, *, error: str | None = None, status: int = 200, nxt: str | None = None
) -> web.Response:
    token = base64.urlsafe_b64encode(request.app[CONFIG].random_bytes(24)).decode("ascii")
    nxt = safe_next(nxt or request.query.get("next"))
    response = page(request, "signin.html", {"csrf": token, "next": nxt, "session": None, "error": error}, status)
    response.set_cookie(SIGN_IN_COOKIE, token, httponly=True, samesite="Strict", path="/signin", max_age=3600)
    return response


async def sign_in(request: web.Request) -> web.StreamResponse:
    same_origin(request)
    wb = request.app[WORKBENCH]
    form = await request.post()
    nxt = str(form.get("next", "/"))
    if not tokens_match(request.cookies.get(SIGN_IN_COOKIE), str(form.get("csrf", ""))):
        return await _refused(
            request, "登录表单已过期，请重新登录 / The sign-in form expired; please sign in again", 403, nxt
        )
    ip = client_ip(request)
    wait = wb.sign_ins.retry_after(ip)
    if wait:
        return await _refused(
            request, f"登录失败次数过多，请 {wait} 秒后再试 / Too many failed sign-ins; try again in {wait} s", 429, nxt
        )
    user = await authenticate(request.app[STORE], str(form.get("name", "")), str(form.get("password", "")))
    if user is None:
        wb.sign_ins.failed(ip)
        return await _refused(
            request, "用户名或密码不正确，或账号已停用 / Wrong name or password, or the account is disabled", 403, nxt
        )
    cookie, _ = await wb.sessions.create(user)
    response = see_other(safe_next(nxt))
    wb.sessions.set_cookie(response, request, cookie)
    response.del_cookie(SIGN_IN_COOKIE, path="/signin")
    return response


async def _refused(request: web.Request, text: str, status: int, nxt: str) -> web.Response:
    return await sign_in_form(request, error=text, status=status, nxt=nxt)


async def sign_out(request: web.Request) -> web.StreamResponse:
    wb = request.app[WORKBENCH]
    await wb.sessions.end(session_of(request))
    response = see_other("/signin")
    wb.sessions.clear_cookie(response, request)
    return response


async def set_language(request: web.Request) -> web.StreamResponse:
    lang = request.match_info["lang"]
    response = see_other(safe_next(request.query.get("next")))
    if lang in LANGS:
        response.set_cookie(LANG_COOKIE, lang, samesite="Lax", path="/", max_age=365 * 86400)
    return response


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    kind = STATIC_FILES.get(name)
    if kind is None:
        raise web.HTTPNotFound()
    response = web.Response(body=(STATIC / name).read_bytes(), content_type=kind, charset="utf-8")
    page_headers(response)
    response.headers["Cache-Control"] = "no-cache"
    return response


def sign_in_location(request: web.Request) -> str:
    return "/signin?next=" + quote(request.path_qs, safe="/")


__all__ = ["cookie_name", "set_language", "sign_in", "sign_in_form", "sign_in_location", "sign_out", "static"]

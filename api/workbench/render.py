"""Rendering a page: the templates (Jinja2, autoescaped, strict about undefined names), the language, and
times in the company's time zone (Beijing time by default).

Chinese is the default; ``/lang/en`` sets a cookie for English. Templates write both languages side by side,
``{{ tr("总览", "Overview") }}``, so a translator sees each pair where it is used. Names of events, stages
and checklist items come from ``ledger.services.labels`` (``{{ lbl("stage", s) }}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

from api.workbench.security import page_headers
from ledger.core.entries import parse_rfc3339
from ledger.errors import ValidationError
from ledger.services.labels import label

TEMPLATES = Path(__file__).parent / "templates"
LANG_COOKIE = "hrl_lang"
LANGS = ("zh", "en")
ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES)),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def language(request: web.Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, "zh")
    return lang if lang in LANGS else "zh"


def local_time(value: Any, tz: ZoneInfo, *, seconds: bool = False) -> str:
    """'2025-06-23 14:00' in ``tz`` from an RFC 3339 string or an aware datetime; '' for nothing."""
    if value in (None, ""):
        return ""
    try:
        when = value if isinstance(value, datetime) else parse_rfc3339(str(value), "time")
    except ValidationError:
        return str(value)
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def render(
    request: web.Request,
    template: str,
    context: Mapping[str, Any],
    *,
    tz: ZoneInfo,
    status: int = 200,
) -> web.Response:
    lang = language(request)

    def tr(zh: str, en: str) -> str:
        return en if lang == "en" else zh

    def lbl(table: str, key: object, both: bool = False) -> str:
        zh, en = label(table, key)
        if both:
            return zh if zh == en else f"{zh} / {en}"
        return en if lang == "en" else zh

    def lbl_other(table: str, key: object) -> str:
        zh, en = label(table, key)
        return zh if lang == "en" else en

    def bj(value: Any, seconds: bool = False) -> str:
        return local_time(value, tz, seconds=seconds)

    html = ENV.get_template(template).render(
        {
            **context,
            "lang": lang,
            "tr": tr,
            "lbl": lbl,
            "lbl_other": lbl_other,
            "bj": bj,
            "tz_name": str(tz),
            "path": request.path_qs,
        }
    )
    response = web.Response(status=status, text=html, content_type="text/html", charset="utf-8")
    page_headers(response)
    return response

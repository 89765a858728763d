"""The small pieces the court exhibit is built from (``ledger.services.exhibit``): escaping, times, cells."""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

Row = dict[str, Any]


def clean(value: Any) -> str:
    """Untrusted text, printable and escaped: control, format and bidi characters become \\u escapes (4 hex digits)."""
    text = "" if value is None else str(value)
    out = []
    for c in text:
        if c in "\n\t":
            out.append(" ")
        elif unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return html.escape("".join(out), quote=True)


def time_of(value: Any, tz: ZoneInfo) -> str:
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return clean(value)
    if when.tzinfo is None:
        return clean(value)
    local = when.astimezone(tz)  # date and time may wrap between them, never inside either
    return f'<span class="t">{local:%Y-%m-%d}</span> <span class="t">{local:%H:%M}</span>'


def both(pair: tuple[str, str]) -> str:
    zh, en = pair
    return clean(zh) if zh == en else f'{clean(zh)}<br><span class="en">{clean(en)}</span>'


def head(*names: str, css: str = "") -> str:
    table = f"<table class='{css}'>" if css else "<table>"
    return table + "<thead><tr>" + "".join(f"<th>{n}</th>" for n in names) + "</tr></thead><tbody>"


def cells(*cells: object) -> str:
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def verdict(css: str, zh: str, en: str) -> str:
    return f"<div class='verdict {css}'>{clean(zh)}<br><span class='en'>{clean(en)}</span></div>"


def by_type(rows: Sequence[Row], *types: str) -> list[Row]:
    return [r for r in rows if r["leaf"].get("type") in types and r["data"] is not None]

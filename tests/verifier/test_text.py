"""What the verifier prints (``verifier.text``): control, format and bidirectional characters escaped, all else kept."""

from __future__ import annotations

import pytest

from verifier.text import html, shown


@pytest.mark.parametrize(
    ("raw", "printed"),
    [
        ("E1001", "E1001"),
        ("张三 — 2026", "张三 — 2026"),
        ("\x1b[2J", "\\x1b[2J"),
        ("a\rb\nc\td", "a\\x0db\\x0ac\\x09d"),
        ("pay\u202eto\u2066x\u2069", "pay\\u202eto\\u2066x\\u2069"),
        ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
        ("line\u2028sep", "line\\u2028sep"),
        ("\ud800", "\\ud800"),
        ("\U000e0001tag", "\\U000e0001tag"),
    ],
)
def test_shown_escapes_what_could_change_the_screen(raw: str, printed: str) -> None:
    assert shown(raw) == printed


def test_html_escapes_markup_after_the_controls() -> None:
    assert html("<script>\u202e&'\"") == "&lt;script&gt;\\u202e&amp;&#x27;&quot;"
    assert html(None) == "None" and html(7) == "7"

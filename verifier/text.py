"""Untrusted text made safe to print: control, format and bidirectional characters are shown escaped.

Everything the verifier prints or writes to HTML passes through here: a tampered entry holding terminal
escape codes, a right-to-left override or a zero-width character must not change what the reader sees
(an escape code could hide a failure behind a fake "every check holds").
"""

from __future__ import annotations

import unicodedata
from html import escape

#: Unicode categories escaped: controls, format characters (bidi overrides and isolates, zero-width
#: characters, the BOM), surrogates, and the line and paragraph separators.
ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def shown(text: object) -> str:
    """``text`` with every character of ``ESCAPED_CATEGORIES`` written as ``\\xNN`` or ``\\uNNNN``."""
    value = str(text)
    if value.isprintable() and value.isascii():
        return value  # the common case, at C speed
    return "".join(_escape(ch) if unicodedata.category(ch) in ESCAPED_CATEGORIES else ch for ch in value)


def html(text: object) -> str:
    """Safe in an HTML text node or a quoted attribute: escaped as above, then HTML-escaped."""
    return escape(shown(text), quote=True)

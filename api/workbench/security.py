"""What every workbench response carries, and what every form post must show.

- A strict Content-Security-Policy: scripts and styles only from this origin's ``/static/`` files (no
  inline script, no ``eval``), no plugins, forms post only here, no framing by others. A drafted notice
  is shown under a tighter one still: no script at all and a ``sandbox``, styles inline (the document
  carries its own A4 styles, and its digest covers them).
- CSRF: every form carries the session's token (synchronizer token), compared in constant time; the
  sign-in form, before any session, a double-submit cookie. A post whose ``Origin`` or
  ``Sec-Fetch-Site`` says it came from another site is refused before that.
- ``Cache-Control: no-store`` (pages hold personal data), ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: same-origin``, and ``X-Frame-Options`` for browsers without CSP level 2.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from aiohttp import web

from ledger.errors import ForbiddenError

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
DOCUMENT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
SIGN_IN_COOKIE = "hrl_signin"
CSRF_FIELD = "csrf"


def page_headers(response: web.StreamResponse, *, csp: str = PAGE_CSP, frame: str = "DENY") -> None:
    response.headers["Content-Security-Policy"] = csp
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = frame
    response.headers.setdefault("Cache-Control", "no-store")


def same_origin(request: web.Request) -> None:
    """Refuse a state-changing request a browser says came from elsewhere."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        raise ForbiddenError("this form was posted from another site; open the workbench and post it from there")
    origin = request.headers.get("Origin")
    if origin is not None and origin != "null":
        parts = urlsplit(origin)
        if parts.netloc.lower() != request.host.lower():
            raise ForbiddenError(f"this form was posted from {origin}, not from this workbench")
    elif origin == "null":
        raise ForbiddenError("this form was posted from an opaque origin")


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and given is not None and hmac.compare_digest(str(expected).encode(), given.encode())

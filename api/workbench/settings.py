"""The workbench's settings: part of ``api.config.AppConfig``, so tests and ``hrledger serve`` set them alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path


@dataclass(frozen=True)
class WorkbenchSettings:
    #: the address people open, e.g. https://hr.example.com/. When it is https, the session cookie is
    #: ``Secure`` (and ``__Host-`` prefixed) whatever the request says. Unset, the cookie is Secure when the
    #: request came over TLS or through a proxy that says so (``X-Forwarded-Proto: https``): a client that
    #: forges that header over plain HTTP only makes its own browser drop the cookie.
    public_url: str | None = None
    idle: timedelta = timedelta(minutes=30)  # a session unused this long ends
    lifetime: timedelta = timedelta(hours=12)  # and every session ends this long after sign-in
    notice_templates: Path | None = None  # a company's notice templates (ledger/services/templates/notices)
    chromium: str | None = "/usr/bin/chromium"  # prints notices to PDF where installed; None: no PDF
    sign_in_burst: int = 10  # failed sign-ins one address may make at once ...
    sign_in_per_second: float = 0.2  # ... and how fast that allowance refills

    @property
    def force_secure(self) -> bool:
        return bool(self.public_url and self.public_url.startswith("https://"))

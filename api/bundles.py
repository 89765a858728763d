"""``POST /v1/bundles`` (role legal): the evidence bundle of one employee and period, as a zip.

The bundle is built from the log alone (``ledger.services.evidence``); the same log state and request give the
same bytes. Building never writes to the log, except that it may publish a checkpoint the sequencer
had not yet published (so every proof refers to a signed root).
"""

from __future__ import annotations

from datetime import date

from aiohttp import web

from api.config import CONFIG, FOLLOWER, LOG, POLICY, WITNESSES
from api.errors import decode_json, read_body
from api.openapi_domain import BUNDLE_FIELDS
from ledger.errors import ValidationError
from ledger.services.evidence import build_subject_bundle


def parse_bundle_request(body: bytes) -> tuple[str, date, date]:
    doc = decode_json(body)
    if not isinstance(doc, dict):
        raise ValidationError("body", 'must be a JSON object {"subject","from","to"}')
    unknown = sorted(set(doc) - set(BUNDLE_FIELDS))
    if unknown:
        raise ValidationError(unknown[0], "unknown field")
    subject = doc.get("subject")
    if not isinstance(subject, str) or not 1 <= len(subject) <= 256 or not subject.isprintable():
        raise ValidationError("subject", "must be an employee id (1 to 256 printable characters)")
    days: list[date] = []
    for name in ("from", "to"):
        value = doc.get(name)
        if value is None:
            raise ValidationError(name, "is required: the period's first (from) and last (to) day, YYYY-MM-DD")
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError
            days.append(date.fromisoformat(value))
        except ValueError:
            raise ValidationError(name, f"must be a date YYYY-MM-DD, got {value!r}") from None
    return subject, days[0], days[1]


async def bundle_of(app: web.Application, subject: str, start: date, end: date) -> bytes:
    """The evidence bundle of one subject and period, as this service builds it for the API and the
    workbench alike: the projection caught up first, ``latest`` only for a tree the witnesses' quorum
    cosigned (when the log has witnesses)."""
    follower = app[FOLLOWER]
    await follower.catch_up()
    return await build_subject_bundle(
        app[LOG],
        subject=subject,
        start=start,
        end=end,
        now=app[CONFIG].clock(),
        policy=app[POLICY],
        projector=follower.projector,
        witnessed=witnesses.latest_witnessed if (witnesses := app.get(WITNESSES)) is not None else None,
    )


async def post_bundle(request: web.Request) -> web.Response:
    subject, start, end = parse_bundle_request(await read_body(request))
    bundle = await bundle_of(request.app, subject, start, end)
    name = f"{subject}_{start.isoformat()}_{end.isoformat()}.zip"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return web.Response(
        body=bundle, content_type="application/zip", headers={"Content-Disposition": f'attachment; filename="{safe}"'}
    )

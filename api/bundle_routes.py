"""``POST /v1/bundles`` (role legal): the evidence bundle of one employee and period, as a zip.

The bundle is built from the log alone (``ledger.services.evidence``); the same log state and request give the
same bytes. Building never writes to the log, except that it may publish a checkpoint the sequencer
had not yet published (so every proof refers to a signed root).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from api.auth import guarded
from api.config import CONFIG, ESCALATOR, LOG, POLICY
from api.errors import decode_json, read_body
from ledger.domain import DEFAULT_POLICY
from ledger.errors import ValidationError
from ledger.services.evidence import build_subject_bundle

BUNDLES_PATH = "/v1/bundles"
_FIELDS = ("subject", "from", "to")


def parse_bundle_request(body: bytes) -> tuple[str, date, date]:
    doc = decode_json(body)
    if not isinstance(doc, dict):
        raise ValidationError("body", 'must be a JSON object {"subject","from","to"}')
    unknown = sorted(set(doc) - set(_FIELDS))
    if unknown:
        raise ValidationError(unknown[0], "unknown field")
    subject = doc.get("subject")
    if not isinstance(subject, str) or not 1 <= len(subject) <= 256 or not subject.isprintable():
        raise ValidationError("subject", "must be an employee id (1 to 256 printable characters)")
    days: list[date] = []
    for name in ("from", "to"):
        value = doc.get(name)
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError
            days.append(date.fromisoformat(value))
        except ValueError:
            raise ValidationError(name, f"must be a date YYYY-MM-DD, got {value!r}") from None
    return subject, days[0], days[1]


async def post_bundle(request: web.Request) -> web.Response:
    subject, start, end = parse_bundle_request(await read_body(request))
    app = request.app
    escalator = app.get(ESCALATOR)
    if escalator is not None:
        await escalator.catch_up()
    bundle = await build_subject_bundle(
        app[LOG],
        subject=subject,
        start=start,
        end=end,
        now=app[CONFIG].clock(),
        policy=app.get(POLICY, DEFAULT_POLICY),
        projector=escalator.projector if escalator else None,
    )
    name = f"{subject}_{start.isoformat()}_{end.isoformat()}.zip"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return web.Response(
        body=bundle, content_type="application/zip", headers={"Content-Disposition": f'attachment; filename="{safe}"'}
    )


def setup_bundles(app: web.Application) -> None:
    app.router.add_post(BUNDLES_PATH, guarded(post_bundle, "legal"))


_ERR = {s: {"$ref": f"#/components/responses/{s}"} for s in ("400", "401", "403", "404", "413", "422", "500")}
BUNDLE_OPENAPI_PATHS: dict[str, Any] = {
    BUNDLES_PATH: {
        "post": {
            "summary": "Evidence bundle of one employee and period",
            "description": "A zip (SPEC section 5): manifest, checkpoint, entries with tlog-proofs, "
            "consistency proofs, RFC 3161 timestamps, report.html and VERIFY.md. Dates are read in the company "
            "time zone, both ends inclusive. Requires the `legal` role (admin has every role).",
            "security": [{"bearer": []}],
            "x-required-role": "legal",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": list(_FIELDS),
                            "additionalProperties": False,
                            "properties": {
                                "subject": {"type": "string", "minLength": 1, "maxLength": 256},
                                "from": {"type": "string", "format": "date"},
                                "to": {"type": "string", "format": "date"},
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "the bundle",
                    "content": {
                        "application/zip": {"schema": {"type": "string", "contentMediaType": "application/zip"}}
                    },
                },
                **_ERR,
            },
        }
    },
}

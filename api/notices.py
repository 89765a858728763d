"""``GET /v1/notices/{notice_id}`` (role legal): a drafted notice, its facts, its document and digest, and
what the log says became of it. The id may contain ``/`` (``E1001/L1/return_demand``), sent as is or
percent-encoded."""

from __future__ import annotations

import json

from aiohttp import web

from api.config import DRAFTER
from api.params import check_params
from ledger.errors import NotFoundError
from ledger.services.drafting import find_notice

NOTICE_PATH = "/v1/notices/{notice_id:.+}"


async def get_notice(request: web.Request) -> web.Response:
    """One drafted notice by id."""
    check_params(request.query, ())
    notice_id = request.match_info["notice_id"]
    found = await find_notice(request.app[DRAFTER], notice_id)
    if found is None:
        raise NotFoundError(f"no drafted notice {notice_id!r} in the log")
    return web.Response(body=json.dumps(found, ensure_ascii=False).encode("utf-8"), content_type="application/json")

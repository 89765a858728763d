"""The bare stack hrledger is measured against: aiohttp alone, parsing the same JSON event and answering 201.

    .venv/bin/python -m bench.bare --port PORT

``GET /`` answers a constant; ``POST /v1/events`` reads the body, parses it as JSON, checks it is an object
(or ``{"events": [...]}``) and answers 201 with a result of the same shape as hrledger's. No validation,
no storage: what any aiohttp service pays per request before doing its own work.
"""

from __future__ import annotations

import argparse
import json

from aiohttp import web

RESULT = (
    b'{"seq": 0, "leaf_hash": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", '
    b'"recorded_at": "2026-01-05T01:00:00.000000Z"}'
)
HEADERS = {"Content-Type": "application/json"}


async def constant(request: web.Request) -> web.Response:
    """A constant answer: the floor of aiohttp's cost per request."""
    return web.Response(body=b'{"status": "ok"}', headers=HEADERS)


async def post_events(request: web.Request) -> web.Response:
    """Parse the event (or batch) and answer 201, as a service that did nothing with it would."""
    doc = json.loads(await request.read())
    if not isinstance(doc, dict):
        return web.Response(status=400, text="not an object")
    events = doc.get("events")
    if isinstance(events, list):
        body = b'{"results": [' + b", ".join(RESULT for _ in events) + b"]}"
        return web.Response(status=201, body=body, headers=HEADERS)
    return web.Response(status=201, body=RESULT, headers=HEADERS)


def main() -> None:
    """Serve on 127.0.0.1:PORT until killed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = web.Application()
    app.router.add_get("/", constant)
    app.router.add_post("/v1/events", post_events)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()

"""Read routes for auditors: log info, checkpoint, entries, proofs; plus /healthz and /metrics."""

from __future__ import annotations

import base64
import json
from typing import Any

from aiohttp import web

from api.config import ESCALATOR, LOG, METRICS, SIGNER, WITNESSES
from api.params import check_params, int_param, required_int, seq_param
from ledger.core.records import StoredEntry
from ledger.errors import BadRequestError, NotFoundError
from ledger.services.subject_head import subject_head_statement

DEFAULT_PAGE = 100
MAX_PAGE = 1000


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _json(doc: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status, body=json.dumps(doc, ensure_ascii=False).encode("utf-8"), content_type="application/json"
    )


def entry_doc(e: StoredEntry) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "entry": e.entry.decode("utf-8"),
        "leaf_hash": _b64(e.leaf_hash),
        "data": None if e.data is None else json.loads(e.data),
        "salt": None if e.salt is None else _b64(e.salt),
    }


async def get_log(request: web.Request) -> web.Response:
    """Origin, verifier key and sizes."""
    check_params(request.query, ())
    app = request.app
    latest = await app[LOG].latest_checkpoint()
    return _json(
        {
            "origin": app[SIGNER].name,
            "vkey": app[SIGNER].vkey,
            "tree_size": await app[LOG].tree_size(),
            "checkpoint_size": latest.size if latest else None,
        }
    )


async def get_checkpoint(request: web.Request) -> web.Response:
    """The latest signed checkpoint note, verbatim, with a cosignature line per witness that cosigned it."""
    check_params(request.query, ())
    latest = await request.app[LOG].latest_checkpoint()
    if latest is None:
        raise NotFoundError("no checkpoint has been published yet")
    witnesses = request.app.get(WITNESSES)
    note = latest.note if witnesses is None else await witnesses.cosigned_note(latest)
    return web.Response(body=note, content_type="text/plain", charset="utf-8")


async def get_entry(request: web.Request) -> web.Response:
    check_params(request.query, ())
    seq = seq_param(request)
    entry = await request.app[LOG].entry(seq)
    if entry is None:
        raise NotFoundError(f"no entry at seq {seq}")
    return _json(entry_doc(entry))


async def list_entries(request: web.Request) -> web.Response:
    query = request.query
    check_params(query, ("subject", "type", "from_seq", "limit"))
    from_seq = int_param(query, "from_seq", default=0) or 0
    limit = int_param(query, "limit", default=DEFAULT_PAGE, minimum=1, maximum=MAX_PAGE) or DEFAULT_PAGE
    subject, type_ = query.get("subject") or None, query.get("type") or None
    rows = await request.app[LOG].entries(from_seq=from_seq, limit=limit + 1, subject=subject, type=type_)
    more = len(rows) > limit
    rows = rows[:limit]
    return _json({"entries": [entry_doc(e) for e in rows], "next_from_seq": rows[-1].seq + 1 if more else None})


async def _checkpoint_size(request: web.Request) -> int:
    latest = await request.app[LOG].latest_checkpoint()
    if latest is None:
        raise NotFoundError("no checkpoint has been published yet; pass tree_size")
    return latest.size


async def _check_size(request: web.Request, name: str, size: int) -> None:
    committed = await request.app[LOG].tree_size()
    if size > committed:
        raise NotFoundError(f"{name} {size} is beyond the log ({committed} entries)")


async def inclusion_proof(request: web.Request) -> web.Response:
    query = request.query
    check_params(query, ("seq", "tree_size"))
    seq = required_int(query, "seq")
    size = int_param(query, "tree_size")
    if size is None:
        size = await _checkpoint_size(request)
    await _check_size(request, "tree_size", size)
    if seq >= size:
        committed = await request.app[LOG].tree_size()
        if seq >= committed:
            raise NotFoundError(f"no entry at seq {seq}")
        raise BadRequestError("seq", f"seq {seq} is not in a tree of size {size}; ask for a larger tree_size")
    log = request.app[LOG]
    entry = await request.app[LOG].entry(seq)
    if entry is None:
        raise NotFoundError(f"no entry at seq {seq}")
    proof = await log.inclusion_proof(seq, size)
    return _json({"seq": seq, "tree_size": size, "leaf_hash": _b64(entry.leaf_hash), "proof": [_b64(h) for h in proof]})


async def consistency_proof(request: web.Request) -> web.Response:
    query = request.query
    check_params(query, ("first", "second"))
    first = required_int(query, "first")
    second = int_param(query, "second")
    if second is None:
        second = await _checkpoint_size(request)
    if first > second:
        raise BadRequestError("first", f"first ({first}) must not be larger than second ({second})")
    await _check_size(request, "second", second)
    proof = await request.app[LOG].consistency_proof(first, second)
    return _json({"first": first, "second": second, "proof": [_b64(h) for h in proof]})


async def subject_head(request: web.Request) -> web.Response:
    """The subject-head statement (SPEC section 1) for a published tree size: a C2SP signed note, verbatim."""
    query = request.query
    check_params(query, ("tree_size",))
    subject = request.match_info["subject"]
    if not 1 <= len(subject) <= 128 or not subject.isprintable():
        raise BadRequestError("subject", "must be 1 to 128 printable characters")
    note = await subject_head_statement(request.app[LOG], subject, int_param(query, "tree_size"))
    return web.Response(body=note, content_type="text/plain", charset="utf-8")


async def healthz(request: web.Request) -> web.Response:
    """Liveness (always 200 while serving); ``degraded`` when the publisher refused to sign. ``sequencer`` tells a
    load balancer which process takes writes now (the others answer POST /v1/events with 503)."""
    log = request.app[LOG]
    error = log.publish_error
    doc: dict[str, object] = {"status": "ok" if error is None else "degraded", "sequencer": log.is_sequencer()}
    if error is not None:
        doc["publish_error"] = str(error)
    warnings: list[str] = []
    witnesses = request.app.get(WITNESSES)
    if witnesses is not None:
        status = witnesses.status(await log.latest_checkpoint())
        doc["witnesses"] = status
        disputed = [w["witness"] for w in status["witnesses"] if w["disputed"]]
        if status["evidence"]:
            warnings.append(
                f"split-view evidence recorded about {status['evidence']} witness answer(s)"
                + (f"; disputed: {', '.join(disputed)}" if disputed else "")
                + " (docs/witnesses.md: what to do)"
            )
        if disputed or status["signing_hold"] is not None:
            doc["status"] = "degraded"
        if not status["checkpoint_witnessed"]:
            warnings.append(
                f"the latest checkpoint is not yet witnessed: {status['cosignatures_on_latest']} of "
                f"{status['quorum']} cosignatures"
            )
    escalator = request.app.get(ESCALATOR)
    if escalator is not None:
        calendar = escalator.calendar_status()
        doc["calendar"] = calendar.to_dict()
        if calendar.warning is not None:
            warnings.append(calendar.warning)
    doc["warnings"] = warnings
    return _json(doc)


async def metrics(request: web.Request) -> web.Response:
    body = await request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

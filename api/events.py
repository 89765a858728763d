"""POST /v1/events: one event or {"events": [...]}, all-or-nothing, acknowledged after a durable commit.

Status: 201 when the request created at least one entry (a batch mixing new events and replays is
201), 200 when every event in it was already recorded with the same content (an exact replay). The
body is the same either way: the original ``seq``, ``leaf_hash`` and ``recorded_at`` of each event.

``?wait=checkpoint`` also waits until a signed checkpoint covers the entries and adds, per entry, its
inclusion ``proof`` and a C2SP ``tlog_proof``, plus the ``checkpoint`` note and its ``tree_size``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from api.auth import TOKEN_INFO
from api.config import CONFIG, FOLLOWER, LOG, METRICS
from api.errors import decode_json, read_body
from api.params import wait_param
from ledger.core.entries import LATEST, Event, validate_envelope
from ledger.core.notes import format_tlog_proof
from ledger.domain.personal_data import personal_data_warnings
from ledger.domain.references import REFERENCES, unmatched_references
from ledger.domain.schemas import ADMIN_TYPES, validate_event
from ledger.errors import CheckpointTimeoutError, ForbiddenError, ValidationError
from ledger.log import AppendResult, Log

_b64 = base64.b64encode
JSON_HEADERS = {"Content-Type": "application/json"}


def _result(r: AppendResult) -> dict[str, Any]:
    return {"seq": r.seq, "leaf_hash": _b64(r.leaf_hash).decode("ascii"), "recorded_at": r.recorded_at}


def _result_bytes(r: AppendResult) -> bytes:
    """The same object as ``_result``, serialised directly: every field is ASCII that JSON needs not escape."""
    return b'{"seq": %d, "leaf_hash": "%s", "recorded_at": "%s"}' % (
        r.seq,
        _b64(r.leaf_hash),
        r.recorded_at.encode("ascii"),
    )


def parse_events(body: bytes, *, now: Any, max_batch: int) -> tuple[list[Event], bool]:
    """Decode and validate a request body; returns the events and whether it was a batch."""
    doc = decode_json(body)
    if isinstance(doc, dict) and "events" in doc:
        extra = sorted(set(doc) - {"events"})
        if extra:
            raise ValidationError(extra[0], "unknown field beside events")
        items = doc["events"]
        if not isinstance(items, list):
            raise ValidationError("events", "must be an array of events")
        if not 1 <= len(items) <= max_batch:
            raise ValidationError("events", f"must hold 1 to {max_batch} events, got {len(items)}")
        events: list[Event] = []
        for index, item in enumerate(items):
            try:
                event = validate_envelope(item, now=now)
                validate_event(event)
            except ValidationError as exc:
                raise ValidationError(f"events[{index}].{exc.field}", exc.detail) from None
            events.append(event)
        return events, True
    event = validate_envelope(doc, now=now)
    validate_event(event)
    return [event], False


def check_roles(events: list[Event], grants: Callable[[str], bool], who: str, batch: bool = False) -> None:
    for index, event in enumerate(events):
        if event.type in ADMIN_TYPES and not grants("admin"):
            where = f"events[{index}]" if batch else "the event"
            raise ForbiddenError(f"{where} is {event.type}, which needs the admin role; {who}")


async def append_events(
    app: web.Application, events: list[Event], grants: Callable[[str], bool], who: str, batch: bool = False
) -> list[AppendResult]:
    """The role checks and the append every recorded event passes, by token (here) or by a person's session
    (the workbench); ``who`` says who asked, in the refusal."""
    check_roles(events, grants, who, batch)
    results = await app[LOG].append(events)
    metrics = app[METRICS]
    created = sum(1 for r in results if r.created)
    metrics.request_batch.observe(len(events))
    if created:
        metrics.ingested.inc(created)
    if created < len(results):
        metrics.replayed.inc(len(results) - created)
    metrics.acknowledged(max(r.seq for r in results) + 1)
    return results


async def post_events(request: web.Request) -> web.Response:
    """Append one event or a batch; see the module docstring for statuses."""
    app = request.app
    config = app[CONFIG]
    wait = wait_param(request)
    body = await read_body(request)
    events, batch = parse_events(body, now=config.clock(), max_batch=config.max_batch)
    info = request[TOKEN_INFO]
    who = f"the token {info.token_id!r} has role {info.role}"
    check_roles(events, info.grants, who, batch)
    warnings = _unmatched(request, events)
    results = await append_events(app, events, info.grants, who, batch)
    log = app[LOG]
    created = sum(1 for r in results if r.created)
    needed = max(r.seq for r in results) + 1
    status = 201 if created else 200
    if not wait and not warnings:  # the hot path: no intermediate dicts
        parts = [_result_bytes(r) for r in results]
        body_out = b'{"results": [' + b", ".join(parts) + b"]}" if batch else parts[0]
        return web.Response(status=status, body=body_out, headers=JSON_HEADERS)
    items = [_result(r) for r in results]
    for index, messages in warnings.items():
        items[index]["warnings"] = messages
    if not wait:
        doc_out: dict[str, Any] = {"results": items} if batch else items[0]
        return web.Response(status=status, body=json.dumps(doc_out).encode("utf-8"), headers=JSON_HEADERS)
    extra = await _with_proofs(log, results, items, needed, config.checkpoint_wait_seconds)
    doc: dict[str, Any] = {"results": items, **extra} if batch else {**items[0], **extra}
    return web.Response(status=status, body=json.dumps(doc).encode("utf-8"), headers=JSON_HEADERS)


def _unmatched(request: web.Request, events: list[Event]) -> dict[int, list[str]]:
    """Warnings for events naming a leave or notice the log does not hold, or putting obvious personal data in a
    field the leaf keeps forever (SPEC section 1); they are recorded all the same."""
    out: dict[int, list[str]] = {}
    for index, e in enumerate(events):
        personal = personal_data_warnings(e.subject, e.event_id, e.source)
        if personal:
            out[index] = personal
    if not any(e.type in REFERENCES for e in events):
        return out
    projector = request.app[FOLLOWER].projector
    for subject in {e.subject for e in events if e.type in REFERENCES}:
        mine = [(i, e) for i, e in enumerate(events) if e.subject == subject]
        found = unmatched_references([(e.type, e.data) for _, e in mine], projector.facts(subject, LATEST))
        for u in found:
            out.setdefault(mine[u.index][0], []).append(u.message())
    return out


async def _with_proofs(
    log: Log, results: list[AppendResult], items: list[dict[str, Any]], needed: int, timeout: float
) -> dict[str, Any]:
    if log.publish_error is not None:
        raise log.publish_error
    try:
        checkpoint = await log.wait_for_checkpoint(needed, timeout)
    except TimeoutError:
        raise CheckpointTimeoutError(
            f"the events are durably committed but no signed checkpoint covered tree size {needed} within "
            f"{timeout:g} s; repeat the same request (it is idempotent) to get the proofs"
        ) from None
    proofs = await log.inclusion_proofs([r.seq for r in results], checkpoint.size)
    for item, r in zip(items, results, strict=True):
        proof = proofs[r.seq]
        item["proof"] = [_b64(h).decode("ascii") for h in proof]
        # The receipt: the tlog-proof with the entry's leaf in its extra line (SPEC section 1)
        item["tlog_proof"] = format_tlog_proof(r.seq, proof, checkpoint.note, extra=r.entry).decode("utf-8")
    return {"tree_size": checkpoint.size, "checkpoint": checkpoint.note.decode("utf-8")}

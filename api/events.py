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
from api.config import CONFIG, LOG, METRICS
from api.errors import BadRequestError, CheckpointTimeoutError, decode_json, read_body
from ledger.core import merkle
from ledger.core.entries import Event, validate_envelope
from ledger.core.notes import format_tlog_proof
from ledger.domain.schemas import ADMIN_TYPES
from ledger.errors import ForbiddenError, IntegrityError, ValidationError
from ledger.log import AppendResult, Log


def _domain_validator() -> Callable[[Event], None] | None:
    """Per-type ``data`` schemas (SPEC section 3) from the domain module, when it is installed."""
    try:
        from ledger.domain import schemas
    except ImportError:  # pragma: no cover - the envelope checks still apply
        return None
    return schemas.validate_event


validate_event = _domain_validator()
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
                if validate_event is not None:
                    validate_event(event)
            except ValidationError as exc:
                raise ValidationError(f"events[{index}].{exc.field}", exc.detail) from None
            events.append(event)
        return events, True
    event = validate_envelope(doc, now=now)
    if validate_event is not None:
        validate_event(event)
    return [event], False


async def post_events(request: web.Request) -> web.Response:
    """Append one event or a batch; see the module docstring for statuses."""
    app = request.app
    config = app[CONFIG]
    wait = _wait_param(request)
    body = await read_body(request)
    events, batch = parse_events(body, now=config.clock(), max_batch=config.max_batch)
    info = request[TOKEN_INFO]
    for index, event in enumerate(events):
        if event.type in ADMIN_TYPES and not info.grants("admin"):
            where = f"events[{index}]" if batch else "the event"
            raise ForbiddenError(
                f"{where} is {event.type}, which needs the admin role; the token {info.token_id!r} has role {info.role}"
            )
    log = app[LOG]
    results = await log.append(events)
    metrics = app[METRICS]
    created = sum(1 for r in results if r.created)
    metrics.request_batch.observe(len(events))
    if created:
        metrics.ingested.inc(created)
    if created < len(results):
        metrics.replayed.inc(len(results) - created)
    needed = max(r.seq for r in results) + 1
    metrics.acknowledged(needed)
    status = 201 if created else 200
    if not wait:  # the hot path: no intermediate dicts
        parts = [_result_bytes(r) for r in results]
        body_out = b'{"results": [' + b", ".join(parts) + b"]}" if batch else parts[0]
        return web.Response(status=status, body=body_out, headers=JSON_HEADERS)
    items = [_result(r) for r in results]
    extra = await _with_proofs(log, results, items, needed, config.checkpoint_wait_seconds)
    doc: dict[str, Any] = {"results": items, **extra} if batch else {**items[0], **extra}
    return web.Response(status=status, body=json.dumps(doc).encode("utf-8"), headers=JSON_HEADERS)


def _wait_param(request: web.Request) -> bool:
    query = request.query
    unknown = sorted(set(query) - {"wait"})
    if unknown:
        raise BadRequestError(unknown[0], "unknown query parameter")
    wait = query.get("wait")
    if wait is None:
        return False
    if wait != "checkpoint":
        raise BadRequestError("wait", "the only accepted value is 'checkpoint'")
    return True


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
    proofs = await inclusion_proofs(log, [r.seq for r in results], checkpoint.size)
    for item, r, proof in zip(items, results, proofs, strict=True):
        item["proof"] = [_b64(h).decode("ascii") for h in proof]
        item["tlog_proof"] = format_tlog_proof(r.seq, proof, checkpoint.note).decode("utf-8")
    return {"tree_size": checkpoint.size, "checkpoint": checkpoint.note.decode("utf-8")}


async def inclusion_proofs(log: Log, seqs: list[int], size: int) -> list[list[bytes]]:
    """Inclusion proofs of many seqs in one tree, with one batched node read (sizes are committed)."""
    ranges = [merkle.inclusion_ranges(seq, size) for seq in seqs]
    ids = merkle.nodes_for_ranges(r for rs in ranges for r in rs)
    nodes = await log.store.get_nodes(ids)
    missing = [n for n in ids if n not in nodes]
    if missing:
        raise IntegrityError(f"tree nodes {missing[:3]} are missing for size {size}; run hrledger fsck")
    return [merkle.hash_ranges(rs, nodes) for rs in ranges]

"""The log's leaf (SPEC section 1): the exact entry bytes, RFC 8785 canonical JSON, and its fields.

The one definition of what a leaf is: the verifier checks bundled entries and receipts with it, the ledger
its stored ones (fsck). A v2 leaf carries ``prev``, the seq of the subject's previous entry (null for its
first), so each subject's entries form one hash-committed chain; a v1 leaf (a log made before v2) has none.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from verifier import jcs
from verifier.rfc3339 import TimeFormatError, parse_rfc3339

LEAF_FIELDS_V1 = ("v", "seq", "event_id", "type", "subject", "occurred_at", "recorded_at", "source", "data_digest")
LEAF_FIELDS_V2 = (
    "v",
    "seq",
    "prev",
    "event_id",
    "type",
    "subject",
    "occurred_at",
    "recorded_at",
    "source",
    "data_digest",
)
TEXT_FIELDS = ("event_id", "type", "subject", "occurred_at", "recorded_at", "source", "data_digest")
#: ``occurred_at`` is never more than this after the entry's own ``recorded_at`` (SPEC section 1)
OCCURRED_AFTER_RECORDED = timedelta(minutes=5)
ERASED_TYPE = "ledger.erased"
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_RECORDED = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")


class LeafError(ValueError):
    """The bytes are not a leaf in canonical form."""


def parse_leaf(entry: bytes) -> dict[str, Any]:
    """The leaf's JSON object; LeafError unless the bytes are exactly its RFC 8785 form."""
    try:
        obj = jcs.load_json(entry)
    except jcs.JSONError as exc:
        raise LeafError(f"is not UTF-8 JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise LeafError("is not a JSON object")
    try:
        canonical = jcs.canonicalize(obj)
    except jcs.CanonicalError as exc:
        raise LeafError(f"cannot be canonicalised: {exc}") from None
    if canonical != entry:
        raise LeafError("is not an RFC 8785 canonical JSON object")
    return obj


def leaf_problems(leaf: dict[str, Any], seq: int) -> list[str]:
    """What is wrong with a parsed leaf at ``seq``: its field set for its version, types, digest and times."""
    version = leaf.get("v")
    if version not in (1, 2) or isinstance(version, bool):
        return [f"version v is {version!r}, expected 2 (or 1, for a log made before v2)"]
    fields = LEAF_FIELDS_V2 if version == 2 else LEAF_FIELDS_V1
    problems: list[str] = []
    if sorted(leaf) != sorted(fields):
        problems.append(f"fields are {sorted(leaf)}, expected {sorted(fields)} for v{version}")
    if leaf.get("seq") != seq or isinstance(leaf.get("seq"), bool):
        problems.append(f"seq is {leaf.get('seq')!r}, expected {seq}")
    if version == 2:
        prev = leaf.get("prev")
        if prev is not None and (type(prev) is not int or not 0 <= prev < seq):
            problems.append(f"prev is {prev!r}: it must be null or the seq of an earlier entry")
    for key in TEXT_FIELDS:
        if key in leaf and not isinstance(leaf[key], str):
            problems.append(f"{key} is not a string")
    if not (isinstance(leaf.get("data_digest"), str) and _DIGEST.fullmatch(leaf["data_digest"])):
        problems.append("data_digest is not sha256:<64 hex>")
    if not (isinstance(leaf.get("recorded_at"), str) and _RECORDED.fullmatch(leaf["recorded_at"])):
        problems.append(f"recorded_at {leaf.get('recorded_at')!r} is not UTC with microseconds and Z")
    try:
        occurred = parse_rfc3339(leaf.get("occurred_at"))
    except TimeFormatError as exc:
        problems.append(f"occurred_at: {exc}")
    else:
        recorded = recorded_time(leaf)
        if version == 2 and recorded is not None and occurred - recorded > OCCURRED_AFTER_RECORDED:
            problems.append(
                f"occurred_at {leaf['occurred_at']} is more than 5 minutes after its recorded_at {leaf['recorded_at']}"
            )
    return problems


def recorded_time(leaf: dict[str, Any]) -> datetime | None:
    """The leaf's ``recorded_at`` as a datetime, or None when it is not one."""
    try:
        return parse_rfc3339(leaf.get("recorded_at"))
    except TimeFormatError:
        return None

"""The log's leaf (SPEC section 1): the exact entry bytes, RFC 8785 canonical JSON, and its fields.

The one definition of what a leaf is: the verifier checks bundled entries with it, the ledger its stored ones.
"""

from __future__ import annotations

import re
from typing import Any

from verifier import jcs

LEAF_FIELDS_V1 = ("v", "seq", "event_id", "type", "subject", "occurred_at", "recorded_at", "source", "data_digest")
TEXT_FIELDS = ("event_id", "type", "subject", "occurred_at", "recorded_at", "source", "data_digest")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


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
    """What is wrong with a parsed leaf at ``seq``: its field set, types, version and digest form."""
    problems: list[str] = []
    if sorted(leaf) != sorted(LEAF_FIELDS_V1):
        problems.append(f"fields are {sorted(leaf)}, expected {sorted(LEAF_FIELDS_V1)}")
    if leaf.get("v") != 1:
        problems.append(f"version v is {leaf.get('v')!r}, expected 1")
    if leaf.get("seq") != seq:
        problems.append(f"seq is {leaf.get('seq')!r}, expected {seq}")
    for key in TEXT_FIELDS:
        if key in leaf and not isinstance(leaf[key], str):
            problems.append(f"{key} is not a string")
    if not (isinstance(leaf.get("data_digest"), str) and _DIGEST.fullmatch(leaf["data_digest"])):
        problems.append("data_digest is not sha256:<64 hex>")
    return problems

"""Events and their canonical leaf (SPEC section 1 and the type-independent checks of section 3).

Pure: the salt and the receipt time come in as arguments.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger.core.wire import canonicalize
from ledger.core.wire import parse_leaf as parse_leaf  # re-exported for the log, fsck and the projections
from ledger.core.wire import parse_rfc3339 as parse_rfc3339
from ledger.errors import ValidationError
from verifier.jcs import encode_plain
from verifier.leaf import OCCURRED_AFTER_RECORDED as OCCURRED_AFTER_RECORDED  # the sequencer's check

ENTRY_VERSION = 2  # v2 leaves carry prev (SPEC section 1); a log made before v2 holds v1 leaves
SALT_SIZE = 32
MAX_ID = 128  # subject, event_id and source (SPEC section 1)
MAX_NAME = 256  # an event type
MAX_DATA_BYTES = 256 * 1024
MAX_FUTURE = timedelta(minutes=5)
SYSTEM_TYPES = frozenset({"escalation.stage_entered", "escalation.stage_withdrawn", "ledger.erased"})
#: event_id prefixes under which hrledger records its own entries (stages, withdrawals, calendar years, drafted
#: notices, erasures). A client's event may not take one: its id would squat the deterministic id of a decision
#: hrledger has yet to record, which the log's idempotency would then refuse (409) on every escalation tick.
RESERVED_ID_PREFIXES = ("escalation/", "escalation-withdrawn/", "calendar/", "draft/", "erasure/")
ENVELOPE_FIELDS = ("event_id", "type", "subject", "occurred_at", "source", "data")
#: ``Event.occurred_at`` of hrledger's own entries: the sequencer writes their ``recorded_at`` there
#: (SPEC section 1), so they never claim a time other than when the log recorded them
AT_RECORDING = ""

_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_][a-z0-9_-]*)+$")


def _printable(value: str) -> bool:
    """Whether ``value`` holds printable characters only."""
    return value.isprintable()


def format_recorded_at(instant: datetime) -> str:
    """Server receipt time: UTC, microseconds, Z."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> bytes:
    """RFC 8785 bytes (``verifier.jcs``: the stdlib's C encoder where it is exact, the verifier's JCS elsewhere)."""
    return canonicalize(value, "data")


def data_digest(salt: bytes, data_bytes: bytes) -> str:
    """``sha256:<hex>`` of the salt followed by the canonical data (SPEC section 1)."""
    return "sha256:" + hashlib.sha256(salt + data_bytes).hexdigest()


@dataclass(frozen=True, slots=True)
class Event:
    """A validated client event, not yet sequenced."""

    event_id: str
    type: str
    subject: str
    occurred_at: str
    source: str
    data: dict[str, Any]
    # The canonical bytes of ``data`` when validation already computed them (ingest would otherwise
    # canonicalise every event twice); not part of the event's identity.
    canonical_data: bytes | None = field(default=None, compare=False, repr=False)
    # ``occurred_at`` as validation parsed it (the sequencer's clock check would otherwise parse it again).
    occurred: datetime | None = field(default=None, compare=False, repr=False)

    @property
    def data_bytes(self) -> bytes:
        """The canonical JSON of ``data`` (computed at validation when it could be)."""
        return self.canonical_data if self.canonical_data is not None else canonical_json(self.data)


#: Unicode categories an identifier may not hold: control, format (bidirectional controls among them),
#: surrogate, private-use, unassigned, line and paragraph separators. They print as nothing, or reorder
#: what is printed around them: in an id a court reads, that is how two different ids look the same.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_CATEGORY_NAMES = {
    "Cc": "a control",
    "Cf": "a format or bidirectional",
    "Cs": "a surrogate",
    "Co": "a private-use",
    "Cn": "an unassigned",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 12, 31, 23, 59, 59, tzinfo=UTC)  # as far as the working-day calendar can reach
MAX_OFFSET = timedelta(hours=14)  # the widest UTC offset in use (Kiribati, +14:00)


def identifier_problem(value: str) -> str | None:
    """Why ``value`` cannot be an identifier (subject, event_id, source), or None (SPEC section 1)."""
    if value.isascii() and value.isprintable():
        return None  # U+0020..U+007E: letters, digits, punctuation, symbols, space; always NFC (most ids)
    for char in value:
        category = unicodedata.category(char)
        if category in _REFUSED_CATEGORIES:
            name = unicodedata.name(char, "")
            return f"contains U+{ord(char):04X}{f' ({name})' if name else ''}, {_CATEGORY_NAMES[category]} character"
    if not unicodedata.is_normalized("NFC", value):
        return "is not in Unicode normalisation form NFC (send it normalised; it is refused, not normalised)"
    return None


def instant_problem(instant: datetime) -> str | None:
    """Why an instant is outside what the ledger records: before 1970, after 2200, or an offset past ±14:00."""
    offset = instant.utcoffset()
    if offset is None or abs(offset) > MAX_OFFSET:
        return "has a UTC offset beyond ±14:00"
    if instant < EARLIEST:
        return "is before 1970-01-01T00:00:00Z"
    if instant > LATEST:
        return "is after 2200-12-31"
    return None


def _text(obj: dict[str, Any], field: str, max_len: int, *, identifier: bool = True) -> str:
    """A required text field of the envelope, checked for type, length and characters."""
    value = obj.get(field)
    if value is None:
        raise ValidationError(field, "is required")
    if not isinstance(value, str):
        raise ValidationError(field, "must be a string")
    if not 1 <= len(value) <= max_len:
        raise ValidationError(field, f"must be 1 to {max_len} characters")
    problem = identifier_problem(value) if identifier else None
    if problem is not None:
        raise ValidationError(field, problem)
    if not _printable(value):
        raise ValidationError(field, "must not contain control characters")
    return value


def _check_numbers(value: Any, field: str) -> None:
    """Refuse floats beyond I-JSON's exact range: RFC 8785 writes 1e17 as an integer literal that no
    longer canonicalises once read back, so the stored data could never be re-checked against its digest."""
    stack = [(value, field)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, float) and abs(item) >= 2.0**53:
            raise ValidationError(path, "numbers must lie within ±2^53 (I-JSON); send large values as strings")
        if isinstance(item, dict):
            stack.extend((v, f"{path}.{k}") for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(item))


def validate_envelope(obj: Any, *, now: datetime, allow_system: bool = False) -> Event:
    """The checks every event passes whatever its type; raises ValidationError naming the field."""
    if not isinstance(obj, dict):
        raise ValidationError("event", "must be a JSON object")
    unknown = sorted(set(obj) - set(ENVELOPE_FIELDS))
    if unknown:
        raise ValidationError(unknown[0], "unknown field")
    event_id = _text(obj, "event_id", MAX_ID)
    if not allow_system and event_id.startswith(RESERVED_ID_PREFIXES):
        prefix = next(p for p in RESERVED_ID_PREFIXES if event_id.startswith(p))
        raise ValidationError("event_id", f"ids beginning with {prefix!r} are hrledger's own; choose another")
    type_ = _text(obj, "type", MAX_NAME, identifier=False)
    if not _TYPE.match(type_):
        raise ValidationError("type", f"{type_!r} is not an event type (dotted lower-case, e.g. leave.requested)")
    if type_ in SYSTEM_TYPES and not allow_system:
        raise ValidationError("type", f"{type_} is written by hrledger itself and refused from clients")
    subject = _text(obj, "subject", MAX_ID)
    if "/" in subject:
        raise ValidationError("subject", "must not contain '/' (a case id is subject/leave_id)")
    source = _text(obj, "source", MAX_ID)
    occurred_raw = obj.get("occurred_at")
    occurred = parse_rfc3339(occurred_raw, "occurred_at")
    problem = instant_problem(occurred)
    if problem is not None:
        raise ValidationError("occurred_at", problem)
    if occurred - now > MAX_FUTURE:
        raise ValidationError("occurred_at", "is more than 5 minutes ahead of the server clock")
    data = obj.get("data")
    if not isinstance(data, dict):
        raise ValidationError("data", "must be a JSON object")
    _check_numbers(data, "data")
    canonical = canonical_json(data)
    if len(canonical) > MAX_DATA_BYTES:
        raise ValidationError("data", f"is larger than {MAX_DATA_BYTES} bytes")
    assert isinstance(occurred_raw, str)
    return Event(event_id, type_, subject, occurred_raw, source, data, canonical, occurred)


def leaf_object(event: Event, *, seq: int, prev: int | None, recorded_at: str, digest: str) -> dict[str, Any]:
    """The v2 leaf; ``prev`` is the seq of the subject's previous entry, None for its first."""
    return {
        "v": ENTRY_VERSION,
        "seq": seq,
        "prev": prev,
        "event_id": event.event_id,
        "type": event.type,
        "subject": event.subject,
        "occurred_at": recorded_at if event.occurred_at == AT_RECORDING else event.occurred_at,
        "recorded_at": recorded_at,
        "source": event.source,
        "data_digest": digest,
    }


def leaf_bytes(event: Event, *, seq: int, prev: int | None, recorded_at: str, digest: str) -> bytes:
    """The leaf: RFC 8785 bytes of ``leaf_object``."""
    # Every leaf value is a string, an integer or null under ASCII keys: the stdlib encoder is exact RFC 8785 here.
    leaf = leaf_object(event, seq=seq, prev=prev, recorded_at=recorded_at, digest=digest)
    return encode_plain(leaf).encode("utf-8")


def same_content(event: Event, leaf: dict[str, Any], salt: bytes | None) -> bool | None:
    """Whether ``event`` repeats the recorded ``leaf``; None when the data was erased and cannot be compared.

    An event to be stamped at recording (``AT_RECORDING``) repeats an entry whatever time that entry got."""
    fields = (
        ("type", "subject", "source")
        if event.occurred_at == AT_RECORDING
        else ("type", "subject", "occurred_at", "source")
    )
    head = all(leaf.get(k) == getattr(event, k) for k in fields)
    if not head:
        return False
    if salt is None:
        return None
    return bool(data_digest(salt, event.data_bytes) == leaf.get("data_digest"))

"""Events and their canonical leaf (`ledger.core.entries`): SPEC section 1 bytes and section 3 envelope checks."""

from __future__ import annotations

import hashlib
import json
import random
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.entries import (
    MAX_DATA_BYTES,
    MAX_ID,
    Event,
    canonical_json,
    data_digest,
    format_recorded_at,
    leaf_bytes,
    leaf_object,
    parse_leaf,
    parse_rfc3339,
    same_content,
    validate_envelope,
)
from ledger.errors import ValidationError

NOW = datetime(2026, 3, 2, 1, 0, 0, tzinfo=UTC)
SALT = bytes(range(32))
RECORDED = "2026-03-02T01:00:00.123456Z"


def envelope(**changes: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "event_id": "att-2026-03-02-0001",
        "type": "leave.requested",
        "subject": "E1001",
        "occurred_at": "2026-03-02T09:00:00+08:00",
        "source": "hr-core",
        "data": {"leave_id": "L-7", "kind": "sick", "start": "2026-03-02", "end": "2026-03-06"},
    }
    for key, value in changes.items():
        if value is DROP:
            obj.pop(key)
        else:
            obj[key] = value
    return obj


DROP = object()


def event(**changes: Any) -> Event:
    return validate_envelope(envelope(**changes), now=NOW)


def expected_leaf(ev: Event, seq: int, recorded_at: str, salt: bytes, prev: int | None = None) -> bytes:
    """The leaf computed independently of ledger.core.entries (simple inputs: json.dumps agrees with JCS)."""
    data = json.dumps(ev.data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert data == rfc8785.dumps(ev.data)
    obj = {
        "v": 2,
        "seq": seq,
        "prev": prev,
        "event_id": ev.event_id,
        "type": ev.type,
        "subject": ev.subject,
        "occurred_at": ev.occurred_at,
        "recorded_at": recorded_at,
        "source": ev.source,
        "data_digest": "sha256:" + hashlib.sha256(salt + data).hexdigest(),
    }
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert text == rfc8785.dumps(obj)
    return text


def make_leaf(
    ev: Event, seq: int = 7, salt: bytes = SALT, recorded_at: str = RECORDED, prev: int | None = None
) -> bytes:
    return leaf_bytes(ev, seq=seq, prev=prev, recorded_at=recorded_at, digest=data_digest(salt, ev.data_bytes))


# ---------------------------------------------------------------------------------------------
# Canonical leaf bytes


def test_leaf_bytes_exact() -> None:
    ev = event(subject="张三", source="考勤系统", data={"b": 1, "a": "请假"})
    digest = "sha256:" + hashlib.sha256(SALT + '{"a":"请假","b":1}'.encode()).hexdigest()
    assert ev.data_bytes == '{"a":"请假","b":1}'.encode()
    assert data_digest(SALT, ev.data_bytes) == digest
    expected = (
        '{"data_digest":"' + digest + '","event_id":"att-2026-03-02-0001",'
        '"occurred_at":"2026-03-02T09:00:00+08:00","prev":3,"recorded_at":"2026-03-02T01:00:00.123456Z",'
        '"seq":7,"source":"考勤系统","subject":"张三","type":"leave.requested","v":2}'
    ).encode("utf-8")
    assert make_leaf(ev, prev=3) == expected
    assert make_leaf(ev) == expected.replace(b'"prev":3', b'"prev":null')
    assert b"\\u" not in expected  # non-ASCII stays raw UTF-8, never escaped


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"subject": "李四-002", "data": {"名字": "王五", "n": [1, 2, {"z": None, "a": True}]}},
        {"type": "custom.any-thing", "data": {}},
        {"event_id": "x" * MAX_ID, "occurred_at": "2026-03-01t23:59:59.123456789z"},
        {"subject": "company", "type": "policy.adopted", "data": {"quote": 'say "hi"\\ok'}},
    ],
    ids=["plain", "cjk-nested", "custom-empty", "long-id-lowercase-z", "escapes"],
)
@pytest.mark.parametrize(("seq", "prev"), [(0, None), (1, 0), (2**40, 2**40 - 7)])
def test_leaf_bytes_match_independent_computation(changes: dict[str, Any], seq: int, prev: int | None) -> None:
    ev = event(**changes)
    salt = hashlib.sha256(repr(changes).encode()).digest()
    leaf = make_leaf(ev, seq=seq, salt=salt, prev=prev)
    assert leaf == expected_leaf(ev, seq, RECORDED, salt, prev)
    obj = parse_leaf(leaf)
    digest = data_digest(salt, ev.data_bytes)
    assert obj == leaf_object(ev, seq=seq, prev=prev, recorded_at=RECORDED, digest=digest)
    assert list(obj) == sorted(obj)
    assert obj["v"] == 2 and obj["seq"] == seq and obj["prev"] == prev


def test_digest_depends_on_salt_and_data_only() -> None:
    ev = event()
    other_salt = b"\x01" * 32
    assert data_digest(SALT, ev.data_bytes) != data_digest(other_salt, ev.data_bytes)
    reordered = event(data=dict(reversed(list(ev.data.items()))))
    assert reordered.data_bytes == ev.data_bytes
    assert data_digest(SALT, reordered.data_bytes) == data_digest(SALT, ev.data_bytes)
    assert data_digest(SALT, b"{}") == "sha256:" + hashlib.sha256(SALT + b"{}").hexdigest()


def test_format_recorded_at_is_utc_microseconds_z() -> None:
    shanghai = timezone(timedelta(hours=8))
    assert format_recorded_at(datetime(2026, 3, 2, 9, 0, 0, 5, tzinfo=shanghai)) == "2026-03-02T01:00:00.000005Z"
    assert format_recorded_at(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00.000000Z"
    assert parse_rfc3339(format_recorded_at(NOW), "recorded_at") == NOW


# ---------------------------------------------------------------------------------------------
# parse_leaf: canonical form only


def test_parse_leaf_round_trip() -> None:
    ev = event(subject="张三")
    leaf = make_leaf(ev)
    obj = parse_leaf(leaf)
    assert obj == leaf_object(ev, seq=7, prev=None, recorded_at=RECORDED, digest=data_digest(SALT, ev.data_bytes))
    assert rfc8785.dumps(obj) == leaf


@pytest.mark.parametrize(
    "entry",
    [
        b'{"v":1,"seq":1}',  # keys out of order
        b'{"seq": 1,"v":1}',  # whitespace
        b'{"seq":1,"v":1}\n',  # trailing newline
        b' {"seq":1,"v":1}',
        b'{"s":"\\u5f20"}',  # escaped non-ASCII
        b'{"s":"\\u0041"}',  # needless escape
        b'{"n":1.0}',  # number not in shortest form
        b'{"n":1e2}',
        b'{"a":1,"a":1}',  # duplicate key
        b"[1,2]",  # not an object
        b'"text"',
        b"null",
        b"",
        b'{"s":"\xff"}',  # not UTF-8
        b"\xef\xbb\xbf{}",  # BOM
        b"{",
    ],
)
def test_parse_leaf_refuses_non_canonical(entry: bytes) -> None:
    with pytest.raises(ValidationError) as info:
        parse_leaf(entry)
    assert info.value.field == "entry"


@pytest.mark.parametrize(
    "entry",
    [
        b'{"n":NaN}',  # rfc8785.FloatDomainError
        b'{"n":Infinity}',
        b'{"n":1e400}',
        b'{"n":12345678901234567890}',  # rfc8785.IntegerDomainError
        b'{"s":"\\ud800"}',  # lone surrogate: rfc8785.CanonicalizationError
        b"[" * 100_000 + b"]" * 100_000,  # RecursionError from json.loads
    ],
    ids=["nan", "infinity", "overflow", "big-int", "lone-surrogate", "deep-nesting"],
)
def test_parse_leaf_refuses_unencodable_json_with_validation_error(entry: bytes) -> None:
    try:
        parse_leaf(entry)
    except ValidationError as exc:
        assert exc.field == "entry"
    else:
        pytest.fail("accepted")


# ---------------------------------------------------------------------------------------------
# Envelope validation


def test_valid_envelope() -> None:
    ev = event()
    assert ev == Event(
        "att-2026-03-02-0001",
        "leave.requested",
        "E1001",
        "2026-03-02T09:00:00+08:00",
        "hr-core",
        {"leave_id": "L-7", "kind": "sick", "start": "2026-03-02", "end": "2026-03-06"},
    )
    assert event(event_id="x").event_id == "x"
    assert event(event_id="x" * MAX_ID).event_id == "x" * MAX_ID
    assert event(subject="张三 (E1001)").subject == "张三 (E1001)"


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"event_id": DROP}, "event_id", "is required"),
        ({"event_id": None}, "event_id", "is required"),
        ({"event_id": ""}, "event_id", "1 to 128 characters"),
        ({"event_id": "x" * (MAX_ID + 1)}, "event_id", "1 to 128 characters"),
        ({"event_id": 12}, "event_id", "must be a string"),
        ({"event_id": "a\nb"}, "event_id", r"U\+000A, a control character"),
        ({"event_id": "a\x00b"}, "event_id", r"U\+0000, a control character"),
        ({"event_id": "a\x7fb"}, "event_id", r"U\+007F, a control character"),
        ({"event_id": "a\u2028b"}, "event_id", r"U\+2028 \(LINE SEPARATOR\)"),
        ({"event_id": "\ud800"}, "event_id", "a surrogate character"),
        ({"type": DROP}, "type", "is required"),
        ({"type": ["leave.requested"]}, "type", "must be a string"),
        ({"type": "leave.requested\t"}, "type", "control characters"),
        ({"subject": DROP}, "subject", "is required"),
        ({"subject": 1001}, "subject", "must be a string"),
        ({"subject": ""}, "subject", "1 to 128 characters"),
        ({"subject": "x" * 129}, "subject", "1 to 128 characters"),
        ({"source": "x" * 129}, "source", "1 to 128 characters"),
        ({"subject": "E1/L1"}, "subject", "must not contain '/'"),
        ({"subject": "E1\u202e1"}, "subject", r"U\+202E \(RIGHT-TO-LEFT OVERRIDE\), a format or bidirectional"),
        ({"event_id": "a\u200bb"}, "event_id", r"U\+200B \(ZERO WIDTH SPACE\)"),
        ({"source": "hr\u2066is"}, "source", r"U\+2066"),
        ({"subject": "Cafe\u0301"}, "subject", "NFC"),
        ({"occurred_at": "0001-01-01T00:00:00+23:59"}, "occurred_at", "beyond ±14:00"),
        ({"occurred_at": "1969-12-31T23:59:59Z"}, "occurred_at", "before 1970"),
        ({"occurred_at": "2026-01-05T09:00:00+14:01"}, "occurred_at", "beyond ±14:00"),
        ({"subject": "E1\r\n"}, "subject", r"U\+000D, a control character"),
        ({"source": DROP}, "source", "is required"),
        ({"source": True}, "source", "must be a string"),
        ({"source": "hr\x1b[31m"}, "source", r"U\+001B, a control character"),
        ({"occurred_at": DROP}, "occurred_at", "RFC 3339 date-time string"),
        ({"occurred_at": 1772413200}, "occurred_at", "RFC 3339 date-time string"),
        ({"data": DROP}, "data", "must be a JSON object"),
        ({"data": None}, "data", "must be a JSON object"),
        ({"data": []}, "data", "must be a JSON object"),
        ({"data": "x"}, "data", "must be a JSON object"),
        ({"data": 1}, "data", "must be a JSON object"),
        ({"data": {"x": "a" * MAX_DATA_BYTES}}, "data", f"larger than {MAX_DATA_BYTES} bytes"),
        ({"data": {"n": float("nan")}}, "data", "cannot be canonicalised"),
        ({"data": {"n": 2**60}}, "data", "cannot be canonicalised"),
        ({"data": {1: "x"}}, "data", "cannot be canonicalised"),
        ({"extra": 1}, "extra", "unknown field"),
        ({"seq": 3}, "seq", "unknown field"),
        ({"data_digest": "sha256:00"}, "data_digest", "unknown field"),
    ],
    ids=lambda v: repr(v)[:40] if not isinstance(v, dict) else None,
)
def test_envelope_refusals_name_the_field(changes: dict[str, Any], field: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment) as info:
        validate_envelope(envelope(**changes), now=NOW)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")


@pytest.mark.parametrize("obj", [None, [], "event", 1])
def test_envelope_must_be_an_object(obj: Any) -> None:
    with pytest.raises(ValidationError, match="must be a JSON object") as info:
        validate_envelope(obj, now=NOW)
    assert info.value.field == "event"


def test_data_size_limit_is_inclusive() -> None:
    at_limit = {"x": "a" * (MAX_DATA_BYTES - len('{"x":""}'))}
    assert len(canonical_json(at_limit)) == MAX_DATA_BYTES
    assert event(data=at_limit).data == at_limit
    with pytest.raises(ValidationError, match="larger than") as info:
        event(data={"x": "a" * (MAX_DATA_BYTES - len('{"x":""}') + 1)})
    assert info.value.field == "data"


@pytest.mark.parametrize(
    "type_",
    [
        "Leave.requested",
        "leave",
        "leave.",
        ".leave",
        "leave..requested",
        "leave.Requested",
        "leave requested",
        "1leave.requested",
        "leave.-x",
        "leave/requested",
        "léave.requested",
    ],
)
def test_bad_type_names(type_: str) -> None:
    with pytest.raises(ValidationError, match="is not an event type") as info:
        event(type=type_)
    assert info.value.field == "type"


@pytest.mark.parametrize("type_", ["leave.requested", "custom.my-thing", "custom.a.b_c", "a.0"])
def test_good_type_names(type_: str) -> None:
    assert event(type=type_).type == type_


@pytest.mark.parametrize("type_", ["escalation.stage_entered", "ledger.erased"])
def test_system_types_only_with_allow_system(type_: str) -> None:
    with pytest.raises(ValidationError, match="refused from clients") as info:
        event(type=type_)
    assert info.value.field == "type"
    assert validate_envelope(envelope(type=type_), now=NOW, allow_system=True).type == type_


@pytest.mark.parametrize(
    "occurred_at",
    [
        "2026-03-02T09:00:00",  # no offset
        "2026-03-02T09:00:00+0800",
        "2026-03-02T09:00:00+08",
        "2026-03-02 09:00:00Z",
        "2026-03-02",
        "2026-3-2T09:00:00Z",
        "2026-03-02T09:00Z",
        "2026-03-02T09:00:00.Z",
        "2026-03-02T09:00:00.1234567890Z",  # 10 fraction digits
        "2026-02-30T09:00:00Z",  # impossible date
        "2025-02-29T09:00:00Z",
        "2026-03-02T24:00:00Z",
        "2026-03-02T23:59:60Z",
        "2026-03-02T09:00:00+24:00",
        "２０２６-03-02T09:00:00Z",  # non-ASCII digits
        "",
        " 2026-03-02T09:00:00Z",
    ],
)
def test_occurred_at_refusals(occurred_at: str) -> None:
    with pytest.raises(ValidationError) as info:
        event(occurred_at=occurred_at)
    assert info.value.field == "occurred_at"


@pytest.mark.parametrize("occurred_at", ["2026-03-01T09:00:00Z\n", "2026-03-02T09:00:00+08:00\n"])
def test_occurred_at_refuses_trailing_newline(occurred_at: str) -> None:
    assert parse_rfc3339(occurred_at.strip(), "occurred_at") <= NOW  # valid but for the newline
    with pytest.raises(ValidationError) as info:
        event(occurred_at=occurred_at)
    assert info.value.field == "occurred_at"


def test_occurred_at_future_limit() -> None:
    def at(delta: timedelta) -> str:
        return (NOW + delta).isoformat().replace("+00:00", "Z")

    assert event(occurred_at=at(timedelta(minutes=4))).occurred_at == at(timedelta(minutes=4))
    assert event(occurred_at=at(timedelta(minutes=5))).occurred_at == at(timedelta(minutes=5))
    assert event(occurred_at="2000-01-01T00:00:00Z").occurred_at == "2000-01-01T00:00:00Z"
    for delta in (timedelta(minutes=5, microseconds=1), timedelta(minutes=6), timedelta(days=400)):
        with pytest.raises(ValidationError, match="more than 5 minutes ahead") as info:
            event(occurred_at=at(delta))
        assert info.value.field == "occurred_at"
    # The same instant written in another offset is judged by the instant, not the wall clock.
    shanghai_plus_4 = (NOW + timedelta(minutes=4)).astimezone(timezone(timedelta(hours=8))).isoformat()
    assert event(occurred_at=shanghai_plus_4).occurred_at == shanghai_plus_4
    west_plus_6 = (NOW + timedelta(minutes=6)).astimezone(timezone(timedelta(hours=-5))).isoformat()
    with pytest.raises(ValidationError, match="ahead"):
        event(occurred_at=west_plus_6)


def test_occurred_at_is_kept_verbatim() -> None:
    raw = "2026-03-01t09:00:00.5+08:00"
    assert event(occurred_at=raw).occurred_at == raw


# ---------------------------------------------------------------------------------------------
# parse_rfc3339


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-02T09:00:00Z", datetime(2026, 3, 2, 9, tzinfo=UTC)),
        ("2026-03-02T09:00:00z", datetime(2026, 3, 2, 9, tzinfo=UTC)),
        ("2026-03-02t09:00:00Z", datetime(2026, 3, 2, 9, tzinfo=UTC)),
        ("2026-03-02T09:00:00+00:00", datetime(2026, 3, 2, 9, tzinfo=UTC)),
        ("2026-03-02T09:00:00-00:00", datetime(2026, 3, 2, 9, tzinfo=UTC)),
        ("2026-03-02T17:00:00+08:00", datetime(2026, 3, 2, 9, tzinfo=UTC)),
        ("2026-03-02T04:30:00-04:30", datetime(2026, 3, 2, 9, tzinfo=UTC)),
        ("2026-03-02T09:00:00.5Z", datetime(2026, 3, 2, 9, 0, 0, 500000, tzinfo=UTC)),
        ("2026-03-02T09:00:00.000001Z", datetime(2026, 3, 2, 9, 0, 0, 1, tzinfo=UTC)),
        ("2026-03-02T09:00:00.1234567Z", datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=UTC)),
        ("2026-03-02T09:00:00.123456789+08:00", datetime(2026, 3, 2, 1, 0, 0, 123456, tzinfo=UTC)),
        ("2024-02-29T23:59:59.999999999Z", datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC)),
    ],
)
def test_parse_rfc3339_accepts(text: str, expected: datetime) -> None:
    parsed = parse_rfc3339(text, "when")
    assert parsed == expected
    assert parsed.utcoffset() is not None


def test_parse_rfc3339_keeps_the_offset() -> None:
    assert parse_rfc3339("2026-03-02T09:00:00+08:00", "x").utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize("value", [None, 20260302, b"2026-03-02T09:00:00Z", datetime(2026, 3, 2, tzinfo=UTC)])
def test_parse_rfc3339_refuses_non_strings(value: Any) -> None:
    with pytest.raises(ValidationError, match="RFC 3339 date-time string") as info:
        parse_rfc3339(value, "as_of")
    assert info.value.field == "as_of"


# ---------------------------------------------------------------------------------------------
# same_content


def test_same_content() -> None:
    ev = event()
    leaf = parse_leaf(make_leaf(ev))
    assert same_content(ev, leaf, SALT) is True
    assert same_content(event(event_id="another-id"), leaf, SALT) is True  # event_id is the lookup key
    assert same_content(event(data={**ev.data, "kind": "annual"}), leaf, SALT) is False
    assert same_content(ev, leaf, b"\x00" * 32) is False
    for changes in (
        {"type": "leave.approved"},
        {"subject": "E1002"},
        {"source": "other"},
        {"occurred_at": "2026-03-02T01:00:00Z"},  # same instant, other text: other leaf bytes
    ):
        other = event(**changes)
        assert same_content(other, leaf, SALT) is False
        assert same_content(other, leaf, None) is False  # a differing envelope is known without data
    # Erased data and salt: the content cannot be compared.
    assert same_content(ev, leaf, None) is None
    assert same_content(event(data={"anything": 1}), leaf, None) is None


# ---------------------------------------------------------------------------------------------
# Properties

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    # Floats of 2**53 and beyond are covered by the BUG test below, not here.
    | st.floats(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=25,
)
JSON_OBJECTS = st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=6)


def _shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_shuffled(v, rng) for v in value]
    return value


@settings(max_examples=150, deadline=None)
@given(data=JSON_OBJECTS, salt=st.binary(min_size=32, max_size=32), seed=st.integers(0, 2**32))
def test_any_json_data_round_trips_and_its_digest_is_stable(data: dict[str, Any], salt: bytes, seed: int) -> None:
    text = canonical_json(data)
    assert text == rfc8785.dumps(data)
    back = json.loads(text.decode("utf-8"))
    assert back == data
    assert canonical_json(back) == text
    assert canonical_json(_shuffled(data, random.Random(seed))) == text
    assert data_digest(salt, canonical_json(back)) == data_digest(salt, text)
    assert data_digest(salt, text) == "sha256:" + hashlib.sha256(salt + text).hexdigest()
    # Through the envelope and the leaf: the digest is what a verifier recomputes from data and salt.
    ev = event(data=data)
    leaf = parse_leaf(make_leaf(ev, salt=salt))
    assert leaf["data_digest"] == data_digest(salt, canonical_json(back))
    assert same_content(event(data=back), leaf, salt) is True


@pytest.mark.parametrize("number", [1e17, -(2.0**53), 2.0**60, 1e20])
def test_accepted_data_survives_a_json_round_trip(number: float) -> None:
    try:
        ev = event(data={"n": number})
    except ValidationError as exc:  # refused at intake, naming the offending number's path
        assert exc.field == "data.n"
        return
    reloaded = json.loads(ev.data_bytes)
    assert canonical_json(reloaded) == ev.data_bytes


@settings(max_examples=100, deadline=None)
@given(
    event_id=st.text(st.characters(codec="utf-8", blacklist_categories=("C", "Z")), min_size=1, max_size=MAX_ID),
    subject=st.text(st.characters(codec="utf-8", blacklist_categories=("C", "Z")), min_size=1, max_size=30),
    seq=st.integers(min_value=0, max_value=2**53 - 1),
)
def test_leaf_round_trips_for_any_printable_text(event_id: str, subject: str, seq: int) -> None:
    event_id, subject = unicodedata.normalize("NFC", event_id), unicodedata.normalize("NFC", subject).replace("/", "-")
    ev = event(event_id=event_id, subject=subject)
    leaf = make_leaf(ev, seq=seq)
    assert leaf == expected_leaf(ev, seq, RECORDED, SALT)
    obj = parse_leaf(leaf)
    assert (obj["event_id"], obj["subject"], obj["seq"]) == (event_id, subject, seq)
    assert rfc8785.dumps(obj) == leaf

"""Obvious personal data in the leaf's permanent fields (SPEC section 1: intake warns on obvious cases)."""

from __future__ import annotations

import pytest

from ledger.domain.personal_data import personal_data_warnings


@pytest.mark.parametrize(
    ("field", "value", "what"),
    [
        ("subject", "zhang.san@example.com", "an e-mail address"),
        ("event_id", "ack-zhangsan@corp.cn-1", "an e-mail address"),
        ("subject", "13800138000", "a mobile number"),
        ("event_id", "call-138-0013-8000", "a mobile number"),
        ("source", "+86 138 0013 8000", "a mobile number"),
        ("subject", "11010519491231002X", "a resident identity card number"),
    ],
)
def test_obvious_personal_data_is_named(field: str, value: str, what: str) -> None:
    envelope = {"subject": "E1001", "event_id": "ev-1", "source": "hris", field: value}
    (warning,) = personal_data_warnings(envelope["subject"], envelope["event_id"], envelope["source"])
    assert warning.startswith(f"{field} looks like {what}") and "stays in the log forever" in warning


@pytest.mark.parametrize(
    "value",
    [
        "E1001",
        "ev-20260302090000-0001",  # a timestamp is not a mobile number
        "1733065200000",  # epoch milliseconds
        "4f9c2a7e-1b7d-4c4e-9d55-3f2b8e9a1c10",
        "workbench/alice",
        "123456789012345678",  # 18 digits whose check digit does not match: not an identity card number
        "hris@v2",  # no domain
    ],
)
def test_ordinary_identifiers_are_not_flagged(value: str) -> None:
    assert personal_data_warnings(value, value, value) == []

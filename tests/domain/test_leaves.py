"""The rule book's leave rules (policy [leave_rules.<kind>]): flags for HR, never refusals (SPEC section 4)."""

from __future__ import annotations

from typing import Any

from ledger.domain import load_policy
from tests.support.domain import DIGEST, E, Log, at

SEED_RULES_TOML = "[leave_rules.sick]\ncertificate = true\nmin_notice_days = 1\nmax_days = 15\n"


def sick(log: Log, when: str, start: str, end: str, **extra: Any) -> None:
    data = {"leave_id": "L1", "kind": "sick", "start": start, "end": end, **extra}
    log.add("leave.requested", when, data)
    log.add("leave.approved", when, {"leave_id": "L1"})


def test_seed_company_leave_rules_flag_never_refuse() -> None:
    """Issue 14: the seed company's leave rules (sick leave needs a certificate, apply a day ahead, at most
    15 days) were not checked anywhere. They are flags on the absence and case answers, never refusals: the
    leave still counts as approved. A statutory medical period (医疗期, 3 to 24 months, 《企业职工患病或
    非因工负伤医疗期规定》 art. 3) may exceed any maximum: the flag says so."""
    log = Log()
    sick(log, "2025-09-22 08:00", "2025-09-22", "2025-10-10")  # same day, no certificate, 19 days
    p = log.projector(load_policy(SEED_RULES_TOML))
    absence = p.absence(E, at("2025-09-25 12:00"))
    assert absence["state"] == "on_leave"  # a flag, not a refusal
    flags = {f["rule"]: f for f in absence["leave_flags"]}
    assert set(flags) == {"certificate", "min_notice_days", "max_days"}
    assert "certificate" in flags["certificate"]["en"] and "证明" in flags["certificate"]["zh"]
    assert "0 day(s) ahead" in flags["min_notice_days"]["en"]
    assert "19 calendar days" in flags["max_days"]["en"] and "医疗期" in flags["max_days"]["note"]["en"]
    case = p.case(f"{E}/L1", at("2025-10-20 12:00"))
    assert case is not None and {f["rule"] for f in case["leave_flags"]} == set(flags)


def test_a_leave_within_the_rules_has_no_flags_and_no_rules_no_flags() -> None:
    log = Log()
    sick(log, "2025-09-19 10:00", "2025-09-22", "2025-09-30", certificate_digest=DIGEST)
    assert log.projector(load_policy(SEED_RULES_TOML)).absence(E, at("2025-09-25 12:00"))["leave_flags"] == []
    bare = Log()
    sick(bare, "2025-09-22 08:00", "2025-09-22", "2025-10-10")
    assert bare.projector().absence(E, at("2025-09-25 12:00"))["leave_flags"] == []  # no table, no rule


def test_other_kinds_follow_their_own_table() -> None:
    log = Log()
    log.add(
        "leave.requested",
        "2025-09-22 08:00",
        {"leave_id": "L1", "kind": "annual", "start": "2025-09-22", "end": "2025-09-26"},
    )
    log.add("leave.approved", "2025-09-22 08:00", {"leave_id": "L1"})
    rules = load_policy("[leave_rules.annual]\nmin_notice_days = 3\n")
    (flag,) = log.projector(rules).absence(E, at("2025-09-23 12:00"))["leave_flags"]
    assert flag["rule"] == "min_notice_days" and "note" not in flag

"""Episodes remembered per subject give the same answers as evaluating from scratch, at any ``as_of``.

A projector that has answered many questions (its timelines remember episodes) is compared, byte for byte,
with a fresh projector fed the same facts (nothing remembered), over random streams of facts fed between
questions at random instants, many of them right at a shift deadline or a midnight, in several time zones.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain import Fact, Policy, Projector, make_fact
from ledger.domain.attention import attention_reasons
from ledger.domain.contacts import contact_file, contact_health
from ledger.domain.episodes import deadline_on, deadline_position, episodes
from ledger.domain.schemas import ABSENCE_REASONS, ERASED_TYPE, STAGE_ENTERED
from ledger.domain.timeline import Timeline
from tests.support.domain import national_calendar

SUBJECTS = ("E1", "E2", "E3")
BASE = datetime(2025, 9, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
DAYS = 50
LEAVE_STEPS = ("request", "approve", "reject", "extend", "cancel")


def _when(draw: st.DrawFn, policy: Policy) -> datetime:
    """An instant in the period: anywhere, or exactly at (or a microsecond around) a deadline or midnight."""
    day = BASE.date() + timedelta(days=draw(st.integers(0, DAYS)))
    edge = draw(st.sampled_from(["any", "deadline", "midnight"]))
    if edge == "any":
        moment = datetime.combine(day, time(0), policy.tz) + timedelta(minutes=draw(st.integers(0, 24 * 60 - 1)))
    elif edge == "deadline":
        moment = deadline_on(day, policy)
    else:
        moment = datetime.combine(day, time(0), policy.tz)
    moment += timedelta(microseconds=draw(st.sampled_from([-1, 0, 0, 1])))
    zone = draw(st.sampled_from([policy.tz, UTC, timezone(timedelta(hours=8))]))
    return moment.astimezone(zone)  # the same zone object as the policy's compares by wall clock


def _day(draw: st.DrawFn) -> str:
    return (BASE.date() + timedelta(days=draw(st.integers(-3, DAYS)))).isoformat()


def _event(draw: st.DrawFn, subject: str, seqs: list[int]) -> tuple[str, dict[str, Any] | None]:
    leave = f"L{draw(st.integers(1, 3))}"
    kind = draw(
        st.sampled_from(
            [*LEAVE_STEPS, "clock_in", "clock_in", "close", "report", "assess", "stage", "enrol", "terminate", "erase"]
        )
    )
    if kind == "request":
        start = _day(draw)
        end = (date.fromisoformat(start) + timedelta(days=draw(st.integers(0, 12)))).isoformat()
        return "leave.requested", {"leave_id": leave, "kind": "sick", "start": start, "end": end}
    if kind in ("approve", "reject", "cancel"):
        return f"leave.{kind}ed" if kind != "approve" else "leave.approved", {"leave_id": leave}
    if kind == "extend":
        return "leave.extended", {"leave_id": leave, "end": _day(draw)}
    if kind == "clock_in":
        return "attendance.clock_in", {"method": "face"}
    if kind == "close":
        return "case.closed", {"case_id": f"{subject}/{leave}", "reason": "resolved"}
    if kind == "report":
        reason = draw(st.sampled_from(ABSENCE_REASONS))
        return "absence.reported", {"reason": reason, "reported_by": "family", "from": _day(draw)}
    if kind == "assess" and seqs:
        decision = draw(st.sampled_from(["excused", "not_excused"]))
        return "absence.assessed", {
            "report_seq": draw(st.sampled_from(seqs)),
            "decision": decision,
            "assessed_by": "hr",
        }
    if kind == "stage":
        data = {"case_id": f"{subject}/{leave}", "stage": "reminder", "occurrence": 1, "reached_on": _day(draw)}
        return STAGE_ENTERED, {**data, "overdue_days": 1}
    if kind == "terminate":
        return "employment.terminated", {"effective_on": _day(draw), "notice_id": "N1", "confirmed_by": "hr"}
    if kind == "erase" and seqs:
        return ERASED_TYPE, {"seqs": [draw(st.sampled_from(seqs))]}
    contacts = [{"channel": "mobile", "value": "+86 138 0000 0001"}] if draw(st.booleans()) else []
    return "employee.enrolled", {"name": "张三", "hired_on": "2025-01-01", "contacts": contacts}


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    return Policy(
        timezone=draw(st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/New_York"])),
        shift_start=time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 30, 59]))),
        grace=timedelta(minutes=draw(st.sampled_from([0, 1, 120, 23 * 60]))),
        count_absence_without_request=draw(st.booleans()),
    )


@st.composite
def sessions(draw: st.DrawFn) -> tuple[Policy, list[Fact | datetime]]:
    """A policy, then facts (in seq order) and questions (instants) interleaved."""
    policy = draw(policies())
    steps: list[Fact | datetime] = []
    seqs: list[int] = []
    years = draw(st.sampled_from([(2025,), (2024, 2025, 2026), ()]))
    calendar = national_calendar(0, years)
    steps.extend(calendar)
    seq = len(calendar)
    for _ in range(draw(st.integers(1, 30))):
        if draw(st.integers(0, 2)) == 0:
            steps.append(_when(draw, policy))
            continue
        subject = draw(st.sampled_from(SUBJECTS))
        type_, data = _event(draw, subject, seqs)
        occurred = _when(draw, policy).isoformat()
        steps.append(make_fact(seq, type_, subject, occurred, data))
        seqs.append(seq)
        seq += 1
    if years != (2024, 2025, 2026) and draw(st.booleans()):  # a year recorded later, as the service does
        steps.extend(national_calendar(seq, (2026,)))
    steps.append(_when(draw, policy))
    return policy, steps


def _answers(p: Projector, as_of: datetime) -> str:
    cases = p.cases(as_of)
    docs: dict[str, Any] = {
        "cases": cases,
        "open": p.cases(as_of, status="open"),
        "one": [p.case(c["case_id"], as_of) for c in cases],
        "mine": [p.cases(as_of, subject=s) for s in SUBJECTS],
        "missing": sorted(p.missing_calendar_years(as_of).items()),
        "attention": p.attention(as_of),
        "contacts": p.contact_health(as_of),
    }
    return json.dumps(docs, ensure_ascii=False, sort_keys=True, default=str)


@settings(max_examples=150, deadline=None)
@given(sessions(), st.integers(0, 3))
def test_remembered_episodes_answer_as_a_fresh_projection(
    session: tuple[Policy, list[Fact | datetime]], again: int
) -> None:
    policy, steps = session
    warm = Projector(policy)
    fed: list[Fact] = []
    asked = 0
    for step in steps:
        if isinstance(step, Fact):
            warm.feed(step)
            fed.append(step)
            continue
        fresh = Projector(policy)
        fresh.feed_all(fed)
        expected = _answers(fresh, step)
        for _ in range(1 + again):  # asked again at once: answered from what the timelines remember
            assert _answers(warm, step) == expected
        later = step + timedelta(milliseconds=again * 37)  # the clock has moved: maybe the same position
        fresher = Projector(policy)
        fresher.feed_all(fed)
        assert _answers(warm, later) == _answers(fresher, later)
        _assert_lists_as_scanned(warm, step)
        asked += 1
    assert asked >= 1


def _assert_lists_as_scanned(p: Projector, as_of: datetime) -> None:
    """The attention list and contact health skip subjects by the types they ever had: each equals a scan."""
    for s in SUBJECTS:
        facts = p.facts(s, as_of)
        terminated = any(f.type == "employment.terminated" for f in facts)
        found = attention_reasons(s, facts, as_of, p.policy)
        assert p.attention(as_of, subject=s)["employees"] == ([] if terminated or not found["reasons"] else [found])
        cf = contact_file(s, facts)
        health = None if cf is None or terminated else contact_health(cf, facts, as_of, p.policy)
        listed = health is not None and (health["stale_contacts"] or health["unverified_emergency_contacts"])
        assert p.contact_health(as_of, subject=s)["employees"] == ([health] if listed else [])


@settings(max_examples=300, deadline=None)
@given(policies(), st.integers(-3 * 24 * 60 * 60, DAYS * 24 * 60 * 60), st.sampled_from([-1, 0, 1]))
def test_deadline_position_orders_every_deadline(policy: Policy, seconds: int, micro: int) -> None:
    as_of = BASE + timedelta(seconds=seconds, microseconds=micro)
    for zone in (policy.tz, UTC):
        moment = as_of.astimezone(zone)
        today, last = deadline_position(moment, policy)
        assert today == moment.astimezone(policy.tz).date()
        for offset in range(-4, 5):
            day = today + timedelta(days=offset)
            assert (deadline_on(day, policy) <= moment) == (day <= last)


def test_a_subject_without_leave_requests_has_no_episodes_unless_absence_counts() -> None:
    tl = Timeline()
    for i in range(5):
        tl.add(make_fact(i, "attendance.clock_in", "E1", f"2025-09-0{i + 1}T09:00:00+08:00", {"method": "face"}))
    as_of = datetime(2025, 9, 30, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
    calendar = Projector(Policy()).calendar(as_of)
    for policy in (Policy(), Policy(count_absence_without_request=True)):
        position = deadline_position(as_of, policy)
        shared = tl.episodes("E1", as_of, position, policy, calendar)
        assert [e.case_id for e in shared] == [
            e.case_id for e in episodes("E1", tl.until(as_of), as_of, policy, calendar)
        ]
        assert bool(shared) == policy.count_absence_without_request


def test_a_new_fact_is_seen_at_once() -> None:
    policy = Policy()
    p = Projector(policy)
    p.feed_all(national_calendar(0, (2025,)))
    request = {"leave_id": "L1", "kind": "sick", "start": "2025-09-01", "end": "2025-09-05"}
    p.feed(make_fact(1, "leave.requested", "E1", "2025-08-25T10:00:00+08:00", request))
    p.feed(make_fact(2, "leave.approved", "E1", "2025-08-25T11:00:00+08:00", {"leave_id": "L1"}))
    as_of = datetime(2025, 9, 10, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert [c["status"] for c in p.cases(as_of)] == ["open"]
    p.feed(make_fact(3, "attendance.clock_in", "E1", "2025-09-10T09:00:00+08:00", {"method": "face"}))
    assert [c["status"] for c in p.cases(as_of)] == ["returned"]
    p.feed(make_fact(4, ERASED_TYPE, "E1", "2025-09-10T10:00:00+08:00", {"seqs": [3]}))
    assert [c["status"] for c in p.cases(as_of)] == ["returned"]  # the clock-in's type and time stay


@settings(max_examples=150, deadline=None)
@given(sessions())
def test_a_subject_the_escalator_skips_has_nothing_to_decide_or_withdraw(
    session: tuple[Policy, list[Fact | datetime]],
) -> None:
    """``escalations_due`` skips subjects for which ``can_escalate`` is False: at every instant asked, such a
    subject has no episode (no stage to enter) and no stage entry (none to withdraw)."""
    policy, steps = session
    p = Projector(policy)
    for step in steps:
        if isinstance(step, Fact):
            p.feed(step)
            continue
        for subject in p.subjects():
            if not p.can_escalate(subject):
                assert p.episodes(subject, step) == []
                assert all(f.type != STAGE_ENTERED for f in p.history(subject))

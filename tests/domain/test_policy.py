"""Policy file: SPEC defaults, TOML round trip, precise errors, the digest; the working-day calendar."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from ledger.domain import CalendarOverrides, Policy, PolicyError, YearCalendar
from ledger.domain.policy import DEFAULT_POLICY, LeaveRule, Smtp, Webhook
from ledger.domain.policy_toml import dump_policy, load_policy


def test_defaults_equal_spec_section_4() -> None:
    p = load_policy("")
    assert p == DEFAULT_POLICY == Policy()
    assert (p.timezone, p.shift_start, p.grace) == ("Asia/Shanghai", time(9, 0), timedelta(hours=2))
    assert [(s.name, s.overdue_days) for s in p.stages] == [
        ("reminder", 1),
        ("hr_alert", 2),
        ("lost_contact", 3),
        ("absenteeism", 4),
        ("termination_review", 8),
    ]
    assert (p.termination_threshold, p.late_recorded, p.contact_stale_months, p.publication_days) == (
        8,
        timedelta(hours=24),
        6,
        30,
    )
    # SPEC section 4's new keys: a union by default, 3 days for a 催告函, no counting without a request,
    # no leave rules (no table, no rule)
    assert (p.has_union, p.return_demand_min_days, p.count_absence_without_request, p.leave_rules) == (
        True,
        3,
        False,
        (),
    )
    assert p.digest.startswith("sha256:") and len(p.digest) == 71


FULL = """\
timezone = "Asia/Urumqi"
shift_start = "08:30"
grace_minutes = 90
termination_threshold = 6
late_recorded_hours = 48
contact_stale_months = 3
publication_days = 60
has_union = false
return_demand_min_days = 5
count_absence_without_request = true

[leave_rules.sick]
certificate = true
min_notice_days = 1
max_days = 15

[leave_rules.personal]
min_notice_days = 3

[stages.absenteeism]
overdue_days = 5
channels = ["sms", "post"]

[stages.termination_review]
overdue_days = 6

[webhook]
url = "https://hr.example/hooks/ledger"
secret = "s3cret"

[smtp]
host = "smtp.example"
port = 465
username = "ledger"
password = "pw"
sender = "ledger@example.com"
recipients = ["hr@example.com", "legal@example.com"]
starttls = false
use_tls = true

[calendar]
holidays = ["2025-12-31"]
workdays = ["2025-10-12"]

[calendar.years.2027]
holidays = ["2027-01-01"]
workdays = []
"""


def test_full_file_and_round_trip() -> None:
    p = load_policy(FULL)
    assert p.shift_start == time(8, 30) and p.grace == timedelta(minutes=90)
    assert p.stage("absenteeism").overdue_days == 5 and p.stage("absenteeism").channels == ("sms", "post")
    assert p.stage("lost_contact") == DEFAULT_POLICY.stage("lost_contact")
    assert (p.has_union, p.return_demand_min_days, p.count_absence_without_request) == (False, 5, True)
    assert p.leave_rules == (LeaveRule("sick", True, 1, 15), LeaveRule("personal", min_notice_days=3))
    assert p.leave_rule("annual") is None
    assert p.webhook == Webhook("https://hr.example/hooks/ledger", "s3cret")
    assert p.smtp == Smtp(
        "smtp.example", 465, "ledger", "pw", "ledger@example.com", ("hr@example.com", "legal@example.com"), False, True
    )
    assert p.calendar == CalendarOverrides(
        frozenset({date(2025, 12, 31)}),
        frozenset({date(2025, 10, 12)}),
        (YearCalendar(2027, frozenset({date(2027, 1, 1)}), source="policy file [calendar.years.2027]"),),
    )
    assert load_policy(dump_policy(p)) == p
    assert load_policy(dump_policy(DEFAULT_POLICY)) == DEFAULT_POLICY
    assert "s3cret" not in dump_policy(p, secrets=False)


def test_digest_excludes_secrets_and_changes_with_rules() -> None:
    p = load_policy(FULL)
    other_secret = load_policy(FULL.replace("s3cret", "other").replace('password = "pw"', 'password = "x"'))
    assert p.digest == other_secret.digest
    assert load_policy(FULL.replace("grace_minutes = 90", "grace_minutes = 91")).digest != p.digest
    assert load_policy("").digest == DEFAULT_POLICY.digest  # stable across loads


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ("shift_starts = '09:00'", "shift_starts", "unknown key"),
        ("grace_minutes = '2h'", "grace_minutes", "integer"),
        ("grace_minutes = true", "grace_minutes", "integer"),
        ("grace_minutes = -1", "grace_minutes", "from 0"),
        ("shift_start = '9 am'", "shift_start", "HH:MM"),
        ("timezone = 'Mars/Olympus'", "timezone", "IANA"),
        ("[stages.absenteeism]\noverdue_days = 2", "stages.absenteeism.overdue_days", "more than lost_contact (3)"),
        ("[stages.reminder]\nchannels = ['pigeon']", "stages.reminder.channels[0]", "one of"),
        ("[stages.coffee]\noverdue_days = 9", "stages.coffee", "unknown key"),
        ("[stages.reminder]\ndays = 1", "stages.reminder.days", "unknown key"),
        ("[webhook]\nurl = 'ftp://x'", "webhook.url", "http"),
        ("[smtp]\nport = 70000", "smtp.port", "65535"),
        ("[smtp]\nuse_tls = true", "smtp.use_tls", "starttls"),
        ("[calendar]\nholidays = ['2025-13-01']", "calendar.holidays[0]", "YYYY-MM-DD"),
        ("[calendar]\nholidays = ['2025-10-12']\nworkdays = ['2025-10-12']", "calendar.workdays", "also"),
        ("[calendar.years.2027]\nholidays = ['2028-01-01']", "calendar.years.2027.holidays", "not in 2027"),
        ("[calendar.years.next]\nholidays = []", "calendar.years.next", "4-digit"),
        ("timezone = ", "policy", "TOML"),
        ("has_union = 'yes'", "has_union", "true or false"),
        ("return_demand_min_days = -1", "return_demand_min_days", "from 0"),
        ("[leave_rules.holiday]\nmax_days = 3", "leave_rules.holiday", "leave kind"),
        ("[leave_rules.sick]\nmax_days = 0", "leave_rules.sick.max_days", "from 1"),
        ("[leave_rules.sick]\ncertificate = 1", "leave_rules.sick.certificate", "true or false"),
        ("[leave_rules.sick]\nmaximum = 3", "leave_rules.sick.maximum", "unknown key"),
    ],
)
def test_errors_name_the_key(text: str, field: str, words: str) -> None:
    with pytest.raises(PolicyError) as err:
        load_policy(text)
    assert err.value.field == field and words in err.value.detail, err.value.detail
    assert words in err.value.detail

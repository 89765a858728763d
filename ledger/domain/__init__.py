"""The HR domain core: event schemas, the working-day calendar, the company policy and the projections.

Pure and deterministic: no I/O, no clock; time comes in as arguments.
"""

from ledger.domain.calendar import CalendarBook, CalendarOverrides, WorkCalendar, YearCalendar, national_year
from ledger.domain.escalation import EscalationPlan, StageDecision, escalations_due
from ledger.domain.facts import Fact, fact_from_entry, make_fact
from ledger.domain.policy import DEFAULT_POLICY, Policy
from ledger.domain.policy_toml import dump_policy, load_policy
from ledger.domain.projection import Projector
from ledger.domain.schemas import validate_data, validate_event
from ledger.errors import CalendarError, PolicyError, ProjectionGapError

__all__ = [
    "DEFAULT_POLICY",
    "CalendarBook",
    "CalendarError",
    "CalendarOverrides",
    "EscalationPlan",
    "Fact",
    "Policy",
    "PolicyError",
    "ProjectionGapError",
    "Projector",
    "StageDecision",
    "WorkCalendar",
    "YearCalendar",
    "dump_policy",
    "escalations_due",
    "fact_from_entry",
    "load_policy",
    "make_fact",
    "national_year",
    "validate_data",
    "validate_event",
]

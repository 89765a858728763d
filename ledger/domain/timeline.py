"""One subject's facts in occurrence order, and the episodes evaluated from them, remembered by their inputs.

``Projector.cases`` runs on every request for every subject; most subjects are unchanged since the last
request and the clock has moved by milliseconds. :func:`ledger.domain.episodes.episodes` reads ``as_of``
only through the facts cut at it, the calendar in force at it, the local day and which shift deadlines
have passed (:func:`ledger.domain.episodes.deadline_position`), so its answer is remembered under exactly
those inputs and forgotten whenever the timeline changes. Nothing here reads a clock.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import replace
from datetime import date, datetime

from ledger.domain.calendar import WorkCalendar
from ledger.domain.episodes import Episode, episodes
from ledger.domain.facts import Fact
from ledger.domain.policy import Policy

#: the only fact type from which a leave, and so a leave episode, can arise (``resolve_leaves``)
LEAVE_REQUESTED = "leave.requested"
#: remembered evaluations per subject: the service asks at "now", so one or two are live at a time
MEMO_SIZE = 4

_MemoKey = tuple[int, date, date, int, int]  # cut, local day, last day whose deadline passed, calendar, policy


class Timeline:
    """One subject's facts kept sorted by (occurred_at, seq), cut at an instant by bisection."""

    __slots__ = ("_memo", "facts", "keys", "types")

    def __init__(self) -> None:
        self.keys: list[tuple[datetime, int]] = []
        self.facts: list[Fact] = []
        self.types: set[str] = set()  # every type this subject's facts have had, visible at an instant or not
        self._memo: dict[_MemoKey, tuple[WorkCalendar, Policy, list[Episode]]] = {}

    def add(self, fact: Fact) -> None:
        i = bisect.bisect(self.keys, fact.key)
        self.keys.insert(i, fact.key)
        self.facts.insert(i, fact)
        self.types.add(fact.type)
        self._memo.clear()

    def cut(self, as_of: datetime) -> int:
        """How many facts count at ``as_of`` (those that occurred at or before it)."""
        return bisect.bisect_right(self.keys, (as_of, math.inf))

    def until(self, as_of: datetime) -> list[Fact]:
        return self.facts[: self.cut(as_of)]

    def erase(self, seqs: frozenset[int]) -> None:
        self.facts = [replace(f, data=None) if f.seq in seqs else f for f in self.facts]
        self._memo.clear()

    def holds(self, fact: Fact) -> bool:
        """Whether this timeline holds ``fact`` as applied (same place, same event_id)."""
        i = bisect.bisect_left(self.keys, fact.key)
        return i < len(self.keys) and self.keys[i] == fact.key and self.facts[i].event_id == fact.event_id

    def may_have_episodes(self, policy: Policy) -> bool:
        """False when no instant can give this subject an episode: no leave request, and absence without one
        is not counted by ``policy``."""
        return policy.count_absence_without_request or LEAVE_REQUESTED in self.types

    def episodes(
        self,
        subject: str,
        as_of: datetime,
        position: tuple[date, date],
        policy: Policy,
        calendar: WorkCalendar,
    ) -> list[Episode]:
        """``episodes(subject, self.until(as_of), as_of, policy, calendar)``, shared between calls with equal
        inputs: the caller must not change the episodes. ``position`` is ``deadline_position(as_of, policy)``."""
        if not self.may_have_episodes(policy):
            return []
        cut = self.cut(as_of)
        key = (cut, position[0], position[1], id(calendar), id(policy))
        found = self._memo.get(key)
        if found is not None and found[0] is calendar and found[1] is policy:
            return found[2]
        eps = episodes(subject, self.facts[:cut], as_of, policy, calendar)
        if len(self._memo) >= MEMO_SIZE:
            self._memo.clear()
        self._memo[key] = (calendar, policy, eps)
        return eps

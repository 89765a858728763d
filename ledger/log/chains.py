"""What the sequencer adds to each leaf from the committed state it builds on (SPEC section 1, leaf v2).

- ``prev``: the seq of the subject's latest earlier entry, so each subject's entries chain through the log;
- ``recorded_at``: never smaller than the previous entry's (the larger of the clock and the last one);
- and the check that ``occurred_at`` is at most 5 minutes after the ``recorded_at`` the leaf gets.

``ChainState`` belongs to one tree size: the sequencer resets it whenever it reloads the tree (a conflict
with another writer, a takeover, an unknown commit outcome), so ``prev`` always comes from the state the
commit builds on, and a retried commit recomputes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ledger.core.entries import AT_RECORDING, OCCURRED_AFTER_RECORDED, Event, format_recorded_at, parse_rfc3339
from ledger.errors import ValidationError
from ledger.storage.base import Storage

MAX_CACHED_SUBJECTS = 200_000  # subject heads kept between commits; beyond it the cache starts again


class ChainState:
    """Subject heads and the last ``recorded_at`` of the committed tree of ``size`` entries."""

    def __init__(self) -> None:
        self.size: int | None = None
        self._heads: dict[str, int] = {}  # subject -> latest seq, for subjects looked up or written
        self._absent: set[str] = set()  # subjects known to have no entry in the tree
        self.last_recorded: datetime | None = None

    async def load(self, store: Storage, size: int) -> None:
        """Start from the committed tree of ``size`` (after a reload): nothing cached, the last receipt time read."""
        self.size, self._heads, self._absent = size, {}, set()
        last = await store.get_entry(size - 1) if size else None
        self.last_recorded = parse_rfc3339(last.recorded_at, "recorded_at") if last is not None else None

    async def heads(self, store: Storage, subjects: Iterable[str]) -> dict[str, int | None]:
        """The head of each subject in the tree this state belongs to (None: no entry yet)."""
        assert self.size is not None, "load() first"
        wanted = set(subjects)
        missing = [s for s in wanted if s not in self._heads and s not in self._absent]
        if missing:
            found = await store.subject_heads(missing, tree_size=self.size)
            self._heads.update(found)
            self._absent.update(s for s in missing if s not in found)
        return {s: self._heads.get(s) for s in wanted}

    def recorded_at(self, now: datetime) -> tuple[datetime, str]:
        """The receipt time of the next commit: the clock, or the last ``recorded_at`` if the clock is behind it."""
        instant = now if self.last_recorded is None or now >= self.last_recorded else self.last_recorded
        return instant, format_recorded_at(instant)

    def committed(self, size: int, heads: dict[str, int], recorded: datetime) -> None:
        """The commit of the entries up to ``size`` succeeded, with these new subject heads."""
        if len(self._heads) + len(heads) > MAX_CACHED_SUBJECTS:
            self._heads, self._absent = {}, set()
        self._heads.update(heads)
        self._absent.difference_update(heads)
        self.size, self.last_recorded = size, recorded


def check_occurred(event: Event, recorded: datetime, field: str) -> None:
    """Refuse an event that says it occurred more than 5 minutes after the ``recorded_at`` it would get (422)."""
    if event.occurred_at == AT_RECORDING:
        return
    occurred = event.occurred if event.occurred is not None else parse_rfc3339(event.occurred_at, field)
    if occurred - recorded > OCCURRED_AFTER_RECORDED:
        raise ValidationError(
            field,
            f"{event.occurred_at} is more than 5 minutes after the time the log records it "
            f"({format_recorded_at(recorded)}); check the sending system's clock",
        )

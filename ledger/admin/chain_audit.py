"""The per-subject chains over the whole log, for fsck (SPEC section 5: "a producer who lies in a chain or a
declaration is caught by anyone who audits the log").

In seq order, each v2 leaf's ``prev`` must be the subject's previous seq, its ``recorded_at`` no smaller than
the previous entry's, its ``occurred_at`` at most 5 minutes after its ``recorded_at``; and an entry without
data must be named by a later ``ledger.erased`` entry of its own subject. Memory: one seq per subject and
the erased entries not yet accounted for.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ledger.core.records import StoredEntry
from verifier.leaf import ERASED_TYPE, leaf_problems, recorded_time

Report = Callable[[str], None]


class ChainAudit:
    def __init__(self) -> None:
        self.heads: dict[str, int] = {}
        self.last_recorded: datetime | None = None
        self.v1_entries = 0
        self._unexplained: dict[int, str] = {}  # seq -> subject of entries without data, no erasure record yet
        #: (erasure seq, named seq, its subject) for named entries still holding data: fsck reads their subject
        self.to_confirm: list[tuple[int, int, str]] = []

    def see(self, entry: StoredEntry, leaf: dict[str, Any], report: Report) -> None:
        """Check one entry, given in seq order with its parsed leaf."""
        where = f"entry seq {entry.seq}"
        for problem in leaf_problems(leaf, entry.seq):
            report(f"{where}: the leaf's {problem}")
        subject = leaf.get("subject")
        recorded = recorded_time(leaf)
        if leaf.get("v") == 2:
            expected = self.heads.get(subject) if isinstance(subject, str) else None
            if leaf.get("prev") != expected:
                report(
                    f"{where}: prev is {leaf.get('prev')!r}, but the previous entry of {subject!r} is "
                    f"{'none' if expected is None else f'seq {expected}'} (the subject's chain is broken here)"
                )
            if recorded is not None and self.last_recorded is not None and recorded < self.last_recorded:
                report(f"{where}: recorded_at {leaf['recorded_at']} is earlier than the previous entry's")
        else:
            self.v1_entries += 1
        if isinstance(subject, str):
            self.heads[subject] = entry.seq
        if recorded is not None:
            self.last_recorded = max(recorded, self.last_recorded or recorded)
        if entry.data is None and isinstance(subject, str):
            if leaf.get("type") == ERASED_TYPE:
                report(f"{where}: a ledger.erased entry lost its own data, which is never erased")
            else:
                self._unexplained[entry.seq] = subject
        if leaf.get("type") == ERASED_TYPE and entry.data is not None:
            self._erasure(entry, subject, report)

    def _erasure(self, entry: StoredEntry, subject: Any, report: Report) -> None:
        where = f"entry seq {entry.seq}"
        try:
            data = json.loads(entry.data or b"")
            seqs, count = data["seqs"], data["count"]
            if not (isinstance(seqs, list) and all(type(s) is int for s in seqs) and type(count) is int):
                raise TypeError("seqs must be integers and count an integer")
        except (ValueError, KeyError, TypeError) as exc:
            report(f'{where}: ledger.erased data is not {{"seqs": [...], "count": n}}: {exc}')
            return
        if count != len(seqs):
            report(f"{where}: ledger.erased says count {count} but names {len(seqs)} seqs")
        for seq in seqs:
            if not 0 <= seq < entry.seq:
                report(f"{where}: ledger.erased names seq {seq}, which is not an earlier entry")
            elif seq not in self._unexplained:
                self.to_confirm.append((entry.seq, seq, str(subject)))  # still holds data: erasure pending
            elif self._unexplained[seq] != subject:
                report(f"{where}: ledger.erased names seq {seq}, an entry of another subject")
            else:
                del self._unexplained[seq]

    def confirm(self, named: StoredEntry, erasure_seq: int, subject: str, report: Report) -> None:
        """A named entry that still held data when it was seen: it must be of the erasure's own subject."""
        if named.subject != subject:
            report(f"entry seq {erasure_seq}: ledger.erased names seq {named.seq}, an entry of another subject")

    def finish(self, report: Report) -> None:
        """After the last entry: every entry without data must have been named by an erasure record."""
        for seq, subject in sorted(self._unexplained.items()):
            report(
                f"entry seq {seq}: data and salt are gone but no later ledger.erased entry of {subject!r} names it "
                "(data removed without an erasure record)"
            )

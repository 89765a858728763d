"""The port through which the escalator has the notice a stage calls for drafted (SPEC section 4).

When a stage is entered, hrledger drafts the notice it calls for (``notice.drafted``: the document from a
template filled with the case facts, and its digest). The templates live elsewhere; the escalator only
knows this protocol. For each stage entry it creates (never for a suspended case) it calls
:meth:`Drafter.draft` with the decision, the case as the projector answers it just after the entry
(``case["stages"]`` names the entry's seq) and the entry's seq, and appends the events returned right
after the stage events, in one group commit.

What the escalator does with the returned events, so a drafter need not:

- each must be a ``notice.drafted`` of the decision's subject, else it is dropped (and logged);
- ``occurred_at`` becomes the recording time and ``source`` the escalator's (hrledger's own entries);
- ``data`` gets ``case_id`` and ``stage_seq`` where the drafter left them out, so the case can show the draft
  as superseded once its stage is withdrawn;
- the event is validated against the ``notice.drafted`` schema before it is appended.

A drafter must be deterministic in its ``event_id`` (e.g. ``draft/<stage_seq>/<template>``): the log's
idempotency by event_id then keeps a draft exactly-once across racing evaluators and restarts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ledger.core.entries import Event
from ledger.domain.escalation import StageDecision

DRAFTED = "notice.drafted"


class Drafter(Protocol):
    async def draft(self, decision: StageDecision, case: Mapping[str, Any], stage_seq: int) -> Sequence[Event]:
        """The ``notice.drafted`` events for a stage just entered (zero or more)."""
        ...

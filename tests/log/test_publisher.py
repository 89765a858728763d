"""The publisher's two hooks for witnesses: listeners told of each new checkpoint, and a hold on signing."""

from __future__ import annotations

import pytest

from ledger.core.entries import Event
from ledger.core.records import StoredCheckpoint
from ledger.errors import SigningHeldError
from ledger.log import Log

ORIGIN = "test.example/log"


def event(i: int) -> Event:
    return Event(f"ev-{i}", "attendance.clock_in", "E1", "2026-01-05T09:00:00+08:00", "hr", {"method": "face"})


async def test_listeners_hear_each_new_checkpoint_once(log: Log) -> None:
    heard: list[int] = []
    await log.wait_for_checkpoint(0)  # the empty tree's, published at start

    def broken(cp: StoredCheckpoint) -> None:
        raise RuntimeError("a listener's bug")

    log.add_publish_listener(broken)
    log.add_publish_listener(lambda cp: heard.append(cp.size))
    for i in range(3):
        await log.append([event(i)])
        await log.wait_for_checkpoint(i + 1)
    assert await log.publish_checkpoint() is not None  # nothing new: no second announcement
    assert heard == [1, 2, 3] and log.publish_error is None
    log.remove_publish_listener(broken)


async def test_a_hold_stops_signing_but_not_ingest(log: Log) -> None:
    await log.append([event(0)])
    await log.wait_for_checkpoint(1)
    log.signing_hold = "split-view evidence from w.example/w+00000000"
    await log.append([event(1)])  # accepted and committed
    assert await log.tree_size() == 2
    with pytest.raises(SigningHeldError, match="not signing size 2: split-view evidence"):
        await log.publish_checkpoint()
    latest = await log.latest_checkpoint()
    assert latest is not None and latest.size == 1
    log.signing_hold = None  # signing resumes at once, without waiting for another commit
    assert (await log.wait_for_checkpoint(2)).size == 2

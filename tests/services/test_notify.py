"""Notifications against real receivers: an aiohttp HTTP server on loopback (signature checked) and an
aiosmtpd SMTP server; retries with backoff, the delivery log, and the outbox surviving a restart."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import socket
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from ledger.domain import DEFAULT_POLICY, Policy
from ledger.domain.policy import Smtp, Webhook
from ledger.services.notify import (
    DELIVERY_HEADER,
    EMAIL_KIND,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WEBHOOK_KIND,
    verify_signature,
)
from tests.support.escalator import CASE, Clock, Node, Receiver, new_datadir, open_node, scenario

SECRET = "s3cret-不要外传"
FAST = {"backoff": 0.01, "max_attempts": 4}


def hook_policy(url: str) -> Policy:
    return replace(DEFAULT_POLICY, webhook=Webhook(url, SECRET))


async def first_stage(tmp_path: Path, policy: Policy, clock: Clock, **options: Any) -> Node:
    node = await open_node(new_datadir(tmp_path).path, clock, policy, notifier_options={**FAST, **options})
    await scenario(node)
    clock.set("2025-10-09 12:00")
    assert len((await node.escalator.tick()).appended) == 1
    return node


async def test_webhook_is_signed_and_carries_the_stage_event(tmp_path: Path, receiver: Receiver) -> None:
    clock = Clock()
    node = await first_stage(tmp_path, hook_policy(receiver.url), clock)
    try:
        assert node.notifier is not None
        await node.notifier.wait_idle()
        assert len(receiver.requests) == 1
        headers, body = receiver.requests[0]
        assert headers[SIGNATURE_HEADER].startswith("sha256=")
        assert verify_signature(SECRET, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
        assert not verify_signature("other", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
        assert not verify_signature(SECRET, headers[TIMESTAMP_HEADER], body + b" ", headers[SIGNATURE_HEADER])
        assert headers[TIMESTAMP_HEADER] == str(int(clock().timestamp()))
        (stage,) = await node.stages()
        doc = json.loads(body)
        assert doc["seq"] == stage.seq and doc["event_id"] == stage.event_id == headers[DELIVERY_HEADER].split(":")[1]
        assert (doc["case_id"], doc["stage"], doc["subject"], doc["name"]) == (CASE, "reminder", "E1001", "张三")
        assert (doc["overdue_days"], doc["reached_on"]) == (1, "2025-10-09")
        assert doc["leaf_hash"] and doc["recorded_at"] == stage.recorded_at and doc["next_steps"]["zh"]
        (delivery,) = await node.notifier.deliveries()
        assert (delivery["status"], delivery["attempts"], delivery["last_error"]) == ("delivered", 1, None)
        # the same decision again (another evaluation, a restart) creates nothing and sends nothing
        assert (await node.escalator.tick()).appended == []
        await node.notifier.wait_idle()
        assert len(receiver.requests) == 1
    finally:
        await node.close()


async def test_failing_receiver_gets_retries_with_backoff(tmp_path: Path, receiver: Receiver) -> None:
    receiver.statuses = [500, 503]
    clock = Clock()
    node = await first_stage(tmp_path, hook_policy(receiver.url), clock)
    try:
        assert node.notifier is not None
        await node.notifier.wait_idle()
        assert len(receiver.requests) == 3
        assert len({b for _, b in receiver.requests}) == 1  # the same body every time
        (d,) = await node.notifier.deliveries()
        assert (d["status"], d["attempts"]) == ("delivered", 3)
        assert [h["ok"] for h in d["history"]] == [False, False, True]
        assert "HTTP 500" in d["history"][0]["result"] and "HTTP 503" in d["history"][1]["result"]
        assert d["last_error"].startswith("HTTP 503")  # the last failure stays on record
    finally:
        await node.close()


async def test_bounded_attempts_then_failed(tmp_path: Path, receiver: Receiver) -> None:
    receiver.statuses = [500] * 10
    clock = Clock()
    node = await first_stage(tmp_path, hook_policy(receiver.url), clock, max_attempts=3)
    try:
        assert node.notifier is not None
        await node.notifier.wait_idle()
        (d,) = await node.notifier.deliveries(status="failed")
        assert d["attempts"] == 3 and len(receiver.requests) == 3 and d["next_attempt_at"] is None
    finally:
        await node.close()


async def test_a_slow_receiver_does_not_hold_up_the_escalator(tmp_path: Path, receiver: Receiver) -> None:
    receiver.delay = 0.5
    clock = Clock()
    node = await open_node(new_datadir(tmp_path).path, clock, hook_policy(receiver.url), notifier_options=FAST)
    try:
        await scenario(node)
        clock.set("2025-10-20 12:00")
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert len((await node.escalator.tick()).appended) == 5
        assert loop.time() - started < 0.4
        assert node.notifier is not None
        await node.notifier.wait_idle()
        assert [d["stage"] for d in receiver.bodies()] != [] and len(receiver.requests) == 5
    finally:
        await node.close()


async def test_pending_delivery_is_resent_after_a_restart(tmp_path: Path, receiver: Receiver) -> None:
    receiver.statuses = [503]
    clock = Clock()
    node = await first_stage(tmp_path, hook_policy(receiver.url), clock, backoff=60.0)
    data = node.escalator.log.store
    assert node.notifier is not None
    while len(receiver.requests) < 1:
        await asyncio.sleep(0.01)
    while (await node.notifier.deliveries())[0]["attempts"] < 1:
        await asyncio.sleep(0.01)
    await node.close()  # the retry is a minute away: the process stops first
    del data

    clock.now += timedelta(minutes=2)
    node = await open_node(tmp_path / "data", clock, hook_policy(receiver.url), notifier_options=FAST)
    try:
        assert node.notifier is not None
        await node.notifier.wait_idle()
        (d,) = await node.notifier.deliveries()
        assert (d["status"], d["attempts"]) == ("delivered", 2)
        assert len(receiver.requests) == 2 and receiver.requests[0][1] == receiver.requests[1][1]
    finally:
        await node.close()


async def test_stage_event_without_outbox_record_is_recovered_on_start(tmp_path: Path, receiver: Receiver) -> None:
    clock = Clock()
    node = await open_node(new_datadir(tmp_path).path, clock)  # no notifier: as if it crashed before queuing
    await scenario(node)
    clock.set("2025-10-09 12:00")
    await node.escalator.tick()
    await node.close()
    node = await open_node(tmp_path / "data", clock, hook_policy(receiver.url), notifier_options=FAST)
    try:
        assert node.notifier is not None
        await node.notifier.wait_idle()
        assert [d["stage"] for d in receiver.bodies()] == ["reminder"]
    finally:
        await node.close()
    node = await open_node(tmp_path / "data", clock, hook_policy(receiver.url), notifier_options=FAST)
    try:  # recovered once, not at every start
        assert node.notifier is not None
        await node.notifier.wait_idle()
        assert len(receiver.requests) == 1
    finally:
        await node.close()


# -- e-mail ----------------------------------------------------------------------------------------


class Mailbox:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def smtp_server() -> Any:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield box, controller.port
    finally:
        controller.stop()


async def test_email_alert_reaches_the_hr_mailbox(tmp_path: Path, smtp_server: Any) -> None:
    box, port = smtp_server
    policy = replace(
        DEFAULT_POLICY,
        smtp=Smtp(
            host="127.0.0.1",
            port=port,
            sender="ledger@example.com",
            recipients=("hr@example.com", "legal@example.com"),
            starttls=False,
        ),
    )
    clock = Clock()
    node = await open_node(new_datadir(tmp_path).path, clock, policy, notifier_options=FAST)
    try:
        await scenario(node)
        clock.set("2025-10-13 12:00")
        assert len((await node.escalator.tick()).appended) == 4
        assert node.notifier is not None
        await node.notifier.wait_idle()
        assert len(box.envelopes) == 4
        # sent concurrently, so they arrive in any order: pick the absenteeism mail by its subject
        mails = [(e, email.message_from_bytes(e.content, policy=email.policy.default)) for e in box.envelopes]
        env, msg = next((e, m) for e, m in mails if "absenteeism" in str(m["Subject"]))
        assert env.mail_from == "ledger@example.com"
        assert sorted(env.rcpt_tos) == ["hr@example.com", "legal@example.com"]
        subject = str(msg["Subject"])
        assert "张三" in subject and "旷工" in subject and "absenteeism" in subject and "4" in subject
        body = msg.get_body().get_content()  # type: ignore[union-attr]
        assert "员工：张三（E1001）" in body and "Employee: 张三 (E1001)" in body
        assert "逾期未返岗：4 个工作日" in body and "Overdue: 4 working days" in body
        assert "旷工通知" in body and "absenteeism notice" in body
        deliveries = await node.notifier.deliveries(EMAIL_KIND)
        assert [d["status"] for d in deliveries] == ["delivered"] * 4
        assert await node.notifier.deliveries(WEBHOOK_KIND) == []  # no webhook configured
    finally:
        await node.close()


async def test_email_to_a_dead_server_is_retried_and_recorded(tmp_path: Path) -> None:
    policy = replace(
        DEFAULT_POLICY,
        smtp=Smtp(
            host="127.0.0.1", port=free_port(), sender="l@example.com", recipients=("hr@example.com",), starttls=False
        ),
    )
    clock = Clock()
    node = await first_stage(tmp_path, policy, clock, max_attempts=2)
    try:
        assert node.notifier is not None
        await node.notifier.wait_idle()
        (d,) = await node.notifier.deliveries(EMAIL_KIND)
        assert d["status"] == "failed" and d["attempts"] == 2 and d["last_error"]
    finally:
        await node.close()


async def test_scrub_drops_the_name_legacy_records_copied(tmp_path: Path) -> None:
    """Records written before names were looked up at send time held the name: an erasure removes it."""
    from ledger.services.notify import WEBHOOK_KIND, scrub_deliveries
    from ledger.storage.sqlite import SQLiteStorage

    store = SQLiteStorage(tmp_path / "s.sqlite3")
    await store.open()
    try:
        await store.put_record(WEBHOOK_KIND, "k1", {"subject": "E1", "payload": {"name": "张三", "seq": 1}})
        await store.put_record(WEBHOOK_KIND, "k2", {"subject": "E2", "payload": {"name": "李四", "seq": 2}})
        assert await scrub_deliveries(store, "E1") == 1
        assert await store.get_record(WEBHOOK_KIND, "k1") == {
            "subject": "E1",
            "payload": {"name": None, "seq": 1},
            "erased": True,
        }
        assert (await store.get_record(WEBHOOK_KIND, "k2") or {})["payload"]["name"] == "李四"
        assert await scrub_deliveries(store, "E1") == 0
    finally:
        await store.close()

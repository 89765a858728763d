"""The channels a stage notice goes out on: a signed webhook and an e-mail, one attempt at a time.

Webhook signature: ``X-Hrledger-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}." + body)>``
with ``X-Hrledger-Timestamp`` (Unix seconds) sent beside it; the body is the RFC 8785 JSON of the notice.
The outbox that retries and records every attempt is ``ledger.services.notify``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Protocol

import aiohttp
import aiosmtplib

from ledger.core.entries import canonical_json
from ledger.domain.policy import Policy

WEBHOOK_KIND = "webhook_delivery"
EMAIL_KIND = "email_delivery"
SIGNATURE_HEADER = "X-Hrledger-Signature"
TIMESTAMP_HEADER = "X-Hrledger-Timestamp"
DELIVERY_HEADER = "X-Hrledger-Delivery"
STAGE_LABEL = {
    "reminder": ("提醒", "reminder"),
    "hr_alert": ("HR 预警", "HR alert"),
    "lost_contact": ("失联催告", "lost contact (return demand)"),
    "absenteeism": ("旷工", "absenteeism"),
    "termination_review": ("解除审查", "termination review"),
}
NEXT_STEPS = {
    "reminder": (
        "向员工发送返岗提醒（短信、邮件、微信），并以 notice.issued kind=reminder 记录。",
        "Send the employee a reminder to return (SMS, e-mail, WeChat) and record it as notice.issued kind=reminder.",
    ),
    "hr_alert": (
        "由 HR 负责人跟进：致电员工本人及紧急联系人，每次尝试以 contact.attempted 记录。",
        "An HR officer takes the case: call the employee and the emergency contacts and record every "
        "try as contact.attempted.",
    ),
    "lost_contact": (
        "发出催告函（限期返岗通知）：通过邮件、短信并以 EMS 挂号寄往档案地址，同时联系紧急联系人。",
        "Issue the return demand (催告函): e-mail, SMS and EMS registered post to the address on "
        "file, and contact the emergency contacts.",
    ),
    "absenteeism": (
        "记录旷工并发出旷工通知；安排上门送达（或送达代收人），失败后再邮寄送达。",
        "Record the absenteeism and issue the absenteeism notice; arrange personal service (or the "
        "service agent) first, registered post after it fails.",
    ),
    "termination_review": (
        "起草解除劳动合同通知（须由专人确认），通知工会，并核对就绪清单中尚缺的项目。",
        "Draft the termination notice (a person must confirm it), notify the union and "
        "check what the readiness checklist still lacks.",
    ),
}


def stage_text(stage: str) -> tuple[str, str]:
    return STAGE_LABEL.get(stage, (stage, stage))


def steps(stage: str) -> tuple[str, str]:
    return NEXT_STEPS.get(stage, ("按公司制度处理。", "Follow the company rules."))


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Hrledger-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """Receiver side: constant-time check of a signature header (tests and integrators use this)."""
    return hmac.compare_digest(sign(secret, timestamp, body), header)


def email_message(notice: Mapping[str, Any], sender: str, recipients: tuple[str, ...] | list[str]) -> EmailMessage:
    """The alert e-mail, Chinese then English: who, which stage, how many overdue days, what to do next."""
    stage_zh, stage_en = stage_text(str(notice["stage"]))
    zh, en = steps(str(notice["stage"]))
    who = f"{notice.get('name') or notice['subject']}（{notice['subject']}）"
    who_en = f"{notice.get('name') or notice['subject']} ({notice['subject']})"
    n = notice["overdue_days"]
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = (
        f"[hrledger] {who} 逾期未返岗 {n} 个工作日：{stage_zh} / {who_en}: {stage_en}, {n} overdue working days"
    )
    msg["Message-ID"] = make_msgid(domain="hrledger.local")
    msg.set_content(
        f"员工：{who}\n"
        f"案件：{notice['case_id']}\n"
        f"阶段：{stage_zh}（{notice['reached_on']} 达到）\n"
        f"逾期未返岗：{n} 个工作日\n"
        f"下一步：{zh}\n"
        f"证据：日志序号 {notice['seq']}，叶哈希 {notice['leaf_hash']}\n"
        "\n"
        f"Employee: {who_en}\n"
        f"Case: {notice['case_id']}\n"
        f"Stage: {stage_en} (reached on {notice['reached_on']})\n"
        f"Overdue: {n} working days\n"
        f"Next: {en}\n"
        f"Evidence: log seq {notice['seq']}, leaf hash {notice['leaf_hash']}\n",
        charset="utf-8",
    )
    return msg


class DeliveryFailed(Exception):
    """One attempt failed; the message goes into ``last_error``."""


class Channel(Protocol):
    kind: str

    async def send(self, doc: Mapping[str, Any]) -> str:
        """Deliver ``doc["payload"]`` once; return a short outcome, raise DeliveryFailed otherwise."""
        ...


class WebhookChannel:
    kind = WEBHOOK_KIND

    def __init__(self, url: str, secret: str | None, clock: Callable[[], datetime], timeout: float) -> None:
        self.url, self.secret, self.clock = url, secret, clock
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.session: aiohttp.ClientSession | None = None

    async def send(self, doc: Mapping[str, Any]) -> str:
        if self.session is None:
            self.session = aiohttp.ClientSession(timeout=self.timeout)
        body = canonical_json(doc["payload"])
        timestamp = str(int(self.clock().timestamp()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            DELIVERY_HEADER: doc["id"],
            "User-Agent": "hrledger-webhook/1",
        }
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(self.secret, timestamp, body)
        try:
            async with self.session.post(self.url, data=body, headers=headers) as resp:
                text = (await resp.text(errors="replace"))[:200]
                if 200 <= resp.status < 300:
                    return f"HTTP {resp.status}"
                raise DeliveryFailed(f"HTTP {resp.status}: {text}".strip())
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None


class EmailChannel:
    kind = EMAIL_KIND

    def __init__(self, policy: Policy, timeout: float) -> None:
        self.smtp = policy.smtp
        self.timeout = timeout

    async def send(self, doc: Mapping[str, Any]) -> str:
        s = self.smtp
        assert s.host is not None
        msg = email_message(doc["payload"], s.sender or "hrledger@localhost", s.recipients)
        try:
            await aiosmtplib.send(
                msg,
                hostname=s.host,
                port=s.port,
                username=s.username,
                password=s.password,
                use_tls=s.use_tls,
                start_tls=s.starttls,
                timeout=self.timeout,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None
        return f"sent to {len(s.recipients)} recipient(s)"

    async def close(self) -> None:
        return None

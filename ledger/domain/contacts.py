"""Contacts on file and their health: the last ``employee.enrolled``/``contacts_updated`` is the file."""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ledger.core.entries import parse_rfc3339
from ledger.domain.facts import Fact
from ledger.domain.policy import Policy
from ledger.errors import ValidationError

SNAPSHOT_TYPES = ("employee.enrolled", "employee.contacts_updated")
#: which contact.attempted channels reach a contact of each kind on file
ATTEMPTS_FOR = {"mobile": ("phone", "sms"), "email": ("email",), "wechat": ("wechat",), "address": ("post", "visit")}
KIND_OF = {a: kind for kind, attempts in ATTEMPTS_FOR.items() for a in attempts}


def normalise(kind: str, value: Any) -> str:
    """Compare contact values loosely: digits of phone numbers (no +86), case of e-mails, spacing."""
    text = " ".join(str(value).split())
    if kind == "mobile":
        digits = re.sub(r"\D", "", text)
        return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits
    return text.lower() if kind == "email" else text


@dataclass(frozen=True, slots=True)
class Contact:
    kind: str  # mobile | email | wechat | address
    value: str
    verified_at: datetime | None


@dataclass(frozen=True, slots=True)
class EmergencyContact:
    name: str
    relation: str
    mobile: str
    address: str | None
    service_agent: bool


@dataclass(frozen=True, slots=True)
class EService:
    """A channel the employee agreed in writing to receive notices on (电子送达, 民事诉讼法 art. 90)."""

    channel: str  # email | sms | wechat
    value: str


@dataclass(frozen=True, slots=True)
class ContactFile:
    subject: str
    name: str
    fact: Fact
    contacts: tuple[Contact, ...]
    emergency: tuple[EmergencyContact, ...]
    service_address: str | None = None  # 约定送达地址: the labour contract's address for service
    e_service: tuple[EService, ...] = ()

    def addresses(self) -> list[str]:
        """Every address a registered letter could lawfully go to: on file, or agreed for service."""
        found = [c.value for c in self.contacts if c.kind == "address"]
        return found + ([self.service_address] if self.service_address else [])

    def agents(self) -> tuple[EmergencyContact, ...]:
        """Emergency contacts the contract names as agents for receiving documents (代收人)."""
        return tuple(e for e in self.emergency if e.service_agent)


def _time(value: Any) -> datetime | None:
    try:
        return parse_rfc3339(value, "verified_at")
    except ValidationError:
        return None


def contact_file(subject: str, facts: Sequence[Fact]) -> ContactFile | None:
    """The contacts on file from an employee's facts (cut at as_of, in occurrence order); None if none."""
    snap = next((f for f in reversed(facts) if f.type in SNAPSHOT_TYPES and f.data is not None), None)
    if snap is None:
        return None
    contacts = tuple(
        Contact(str(c.get("channel")), str(c.get("value")), _time(c.get("verified_at")))
        for c in snap.get("contacts", [])
        if isinstance(c, dict)
    )
    emergency = tuple(
        EmergencyContact(
            str(e.get("name")),
            str(e.get("relation")),
            str(e.get("mobile")),
            e.get("address") if isinstance(e.get("address"), str) else None,
            e.get("service_agent") is True,
        )
        for e in snap.get("emergency_contacts", [])
        if isinstance(e, dict)
    )
    service_address = snap.get("service_address")
    e_service = tuple(
        EService(str(e.get("channel")), str(e.get("value"))) for e in snap.get("e_service", []) if isinstance(e, dict)
    )
    return ContactFile(
        subject,
        str(snap.get("name", "")),
        snap,
        contacts,
        emergency,
        service_address if isinstance(service_address, str) else None,
        e_service,
    )


def _minus_months(day: date, months: int) -> date:
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(y, m + 1, min(day.day, monthrange(y, m + 1)[1]))


def _verifications(facts: Iterable[Fact]) -> dict[tuple[str, str], Fact]:
    latest: dict[tuple[str, str], Fact] = {}
    for f in facts:
        if f.type == "contact.verified" and f.data is not None:
            kind = KIND_OF.get(str(f.get("channel")), str(f.get("channel")))
            latest[(kind, normalise(kind, f.get("value")))] = f
    return latest


def contact_health(cf: ContactFile, facts: Sequence[Fact], as_of: datetime, policy: Policy) -> dict[str, Any]:
    """Contacts not verified within ``contact_stale_months`` and emergency contacts never verified."""
    tz = policy.tz
    cutoff = _minus_months(as_of.astimezone(tz).date(), policy.contact_stale_months)
    verified = _verifications(facts)
    stale = []
    for c in cf.contacts:
        fact = verified.get((c.kind, normalise(c.kind, c.value)))
        times = [t for t in (c.verified_at, fact.occurred_at if fact else None) if t is not None]
        last = max(times, default=None)
        if last is None or last.astimezone(tz).date() < cutoff:
            stale.append(
                {
                    "channel": c.kind,
                    "value": c.value,
                    "last_verified": last.isoformat() if last else None,
                    "seq": fact.seq if fact else cf.fact.seq,
                }
            )
    unverified = []
    for e in cf.emergency:
        keys = [("mobile", normalise("mobile", e.mobile))]
        if e.address:
            keys.append(("address", normalise("address", e.address)))
        if not any(k in verified for k in keys):
            unverified.append({"name": e.name, "relation": e.relation, "mobile": e.mobile})
    return {
        "subject": cf.subject,
        "name": cf.name,
        "stale_contacts": stale,
        "unverified_emergency_contacts": unverified,
        "stale_before": cutoff.isoformat(),
    }


class ContactHistory:
    """The contact file in force at any instant: what an address or number "on file" meant when a letter
    went out, not what the file says today."""

    def __init__(self, subject: str, facts: Sequence[Fact]) -> None:
        self.subject = subject
        self._snaps = [f for f in facts if f.type in SNAPSHOT_TYPES and f.data is not None]

    def at(self, instant: datetime) -> ContactFile | None:
        snaps = [f for f in self._snaps if f.occurred_at <= instant]
        return contact_file(self.subject, snaps[-1:]) if snaps else None

"""The attention list (SPEC section 4): who is at risk of becoming unreachable, and why.

It informs HR and decides nothing (PIPL art. 24: no decision by automated means alone). Reasons:

- ``no_contact_file``: no ``employee.enrolled`` on record;
- ``contact_unverified`` / ``contact_stale``: a contact never verified, or not within ``contact_stale_months``;
- ``contact_failed``: the last attempt on a contact found it dead (a number that does not exist, a bounced
  e-mail, a letter returned) and nothing has reached it since;
- ``no_emergency_contact`` / ``emergency_contact_unverified``;
- ``contacts_changed_often``: the contacts changed :data:`CHANGES_OFTEN` or more times within
  :data:`CHANGE_WINDOW_DAYS` days.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from ledger.domain.contacts import ATTEMPTS_FOR, SNAPSHOT_TYPES, contact_file, contact_health, normalise
from ledger.domain.facts import Fact
from ledger.domain.policy import Policy
from ledger.domain.schemas import ATTEMPT_RESULTS

REASON_CODES = (
    "no_contact_file",
    "contact_unverified",
    "contact_stale",
    "contact_failed",
    "no_emergency_contact",
    "emergency_contact_unverified",
    "contacts_changed_often",
)
CHANGES_OFTEN = 3
CHANGE_WINDOW_DAYS = 365
DEAD_RESULTS = ("number_invalid", "bounced", "returned")  # the contact itself is dead
LIVE_RESULTS = ("answered", "delivered", "read", "replied")
_KIND = {
    "mobile": ("手机", "mobile"),
    "email": ("邮箱", "e-mail"),
    "wechat": ("微信", "WeChat"),
    "address": ("地址", "address"),
}


def _reason(code: str, seqs: Sequence[int], zh: str, en: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "seqs": sorted(set(seqs)), "zh": zh, "en": en, **extra}


def _contact_values(snapshot: Fact) -> frozenset[tuple[str, str]]:
    return frozenset(
        (str(c.get("channel")), normalise(str(c.get("channel")), c.get("value")))
        for c in snapshot.get("contacts", [])
        if isinstance(c, dict)
    )


def _failed(facts: Sequence[Fact], kind: str, value: str, alone: bool) -> Fact | None:
    """The attempt that found this contact dead, if nothing has reached or verified it since."""
    want = normalise(kind, value)
    last: Fact | None = None
    for f in facts:
        if f.type == "contact.verified" and normalise(kind, f.get("value")) == want:
            last = None
        elif f.type == "contact.attempted" and f.get("target") == "employee" and f.get("channel") in ATTEMPTS_FOR[kind]:
            given = f.get("value")
            if (normalise(kind, given) == want) if given is not None else alone:
                last = f if f.get("result") in DEAD_RESULTS else None if f.get("result") in LIVE_RESULTS else last
    return last


def attention_reasons(subject: str, facts: Sequence[Fact], as_of: datetime, policy: Policy) -> dict[str, Any]:
    """One employee's reasons (``facts`` cut at ``as_of``); an empty list means nothing to flag."""
    cf = contact_file(subject, facts)
    if cf is None:
        reason = _reason(
            "no_contact_file", [], "没有入职联系档案（employee.enrolled）", "no contact file (employee.enrolled)"
        )
        return {"subject": subject, "name": None, "reasons": [reason]}
    reasons = []
    health = contact_health(cf, facts, as_of, policy)
    for c in health["stale_contacts"]:
        zh, en = _KIND.get(c["channel"], (c["channel"], c["channel"]))
        if c["last_verified"] is None:
            reasons.append(
                _reason(
                    "contact_unverified",
                    [c["seq"]],
                    f"{zh} {c['value']} 从未核实",
                    f"{en} {c['value']} never verified",
                    channel=c["channel"],
                    value=c["value"],
                )
            )
        else:
            reasons.append(
                _reason(
                    "contact_stale",
                    [c["seq"]],
                    f"{zh} {c['value']} 最近核实于 {c['last_verified'][:10]}，"
                    f"已超过 {policy.contact_stale_months} 个月",
                    f"{en} {c['value']} last verified {c['last_verified'][:10]}, over "
                    f"{policy.contact_stale_months} months ago",
                    channel=c["channel"],
                    value=c["value"],
                )
            )
    for contact in cf.contacts:
        alone = sum(1 for o in cf.contacts if o.kind == contact.kind) == 1
        dead = _failed(facts, contact.kind, contact.value, alone)
        if dead is not None:
            zh, en = _KIND[contact.kind]
            day = dead.occurred_text[:10]
            said_zh, said_en = ATTEMPT_RESULTS[str(dead.get("result"))]
            reasons.append(
                _reason(
                    "contact_failed",
                    [dead.seq],
                    f"{zh} {contact.value} 已于 {day} 联系失败（{said_zh}）",
                    f"{en} {contact.value} already failed on {day} ({said_en})",
                    channel=contact.kind,
                    value=contact.value,
                )
            )
    if not cf.emergency:
        reasons.append(
            _reason("no_emergency_contact", [cf.fact.seq], "档案中没有紧急联系人", "no emergency contact on file")
        )
    for e in health["unverified_emergency_contacts"]:
        reasons.append(
            _reason(
                "emergency_contact_unverified",
                [cf.fact.seq],
                f"紧急联系人 {e['name']}（{e['relation']}）从未核实",
                f"emergency contact {e['name']} ({e['relation']}) never verified",
            )
        )
    since = as_of - timedelta(days=CHANGE_WINDOW_DAYS)
    snaps = [f for f in facts if f.type in SNAPSHOT_TYPES and f.data is not None]
    changes = [b for a, b in pairwise(snaps) if b.occurred_at >= since and _contact_values(a) != _contact_values(b)]
    if len(changes) >= CHANGES_OFTEN:
        reasons.append(
            _reason(
                "contacts_changed_often",
                [f.seq for f in changes],
                f"联系方式一年内变更 {len(changes)} 次",
                f"contacts changed {len(changes)} times within a year",
            )
        )
    return {"subject": subject, "name": cf.name, "reasons": reasons}

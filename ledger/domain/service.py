"""Service of a notice (送达): which recorded facts count as service, and the service date (SPEC section 4).

劳办发〔1995〕179号 (the Ministry of Labour's reply on recalling absent employees) rests on the 企业职工奖惩
条例, repealed in 2008; courts apply it by analogy together with the Civil Procedure Law's rules on
service. :data:`SERVICE_METHODS` is the table, one row per method, each citing its basis. Service is
judged per notice: the notice that must be served is the return demand (催告函) itself, and later the
termination notice; serving another notice serves nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ledger.domain.calendar import WorkCalendar
from ledger.domain.contacts import ContactFile, ContactHistory, normalise
from ledger.domain.facts import Fact
from ledger.domain.periods import period
from ledger.domain.policy import Policy
from ledger.errors import CalendarError


@dataclass(frozen=True, slots=True)
class Method:
    name: str
    zh: str
    en: str
    counts_when: str
    service_date: str
    basis: str


SERVICE_METHODS = (
    Method(
        "personal",
        "直接送达",
        "personal service",
        "notice.delivered by visit, received_by the employee, a co-resident adult (同住成年家属) or the "
        "service agent the contract names (代收人)",
        "that event's day",
        "劳办发〔1995〕179号 (by analogy); 民事诉讼法 art. 88",
    ),
    Method(
        "refusal",
        "留置送达",
        "service by leaving it after a refusal",
        "notice.refused with left_at and witnesses or recorded evidence",
        "that event's day",
        "民事诉讼法 art. 89",
    ),
    Method(
        "registered_post",
        "邮寄送达",
        "registered post",
        "notice.delivered by post to the address on file or the agreed service address",
        "that event's day (the signed receipt)",
        "劳办发〔1995〕179号 (by analogy); 民事诉讼法 art. 91",
    ),
    Method(
        "agreed_address",
        "约定地址送达",
        "agreed service address",
        "post to the labour contract's agreed service address that comes back (notice.delivery_failed)",
        "the day it came back",
        "最高人民法院《关于进一步加强民事送达工作的若干意见》(法发〔2017〕19号) art. 3; "
        "法释〔2004〕13号 art. 11 (by analogy)",
    ),
    Method(
        "electronic",
        "电子送达",
        "electronic service",
        "notice.delivered on a channel the employee agreed in writing to receive notices on (e_service)",
        "that event's day",
        "民事诉讼法 art. 90",
    ),
    Method(
        "publication",
        "公告送达",
        "publication",
        "notice.issued kind publication that serves the notice, only after personal service and post both failed",
        "the end of the 30th day after the day of publication (policy publication_days)",
        "劳办发〔1995〕179号; 民事诉讼法 art. 95, art. 85",
    ),
)
METHOD = {m.name: m for m in SERVICE_METHODS}
ELECTRONIC = ("sms", "email", "wechat")
PERSONAL_RECIPIENTS = ("employee", "co_resident_adult", "service_agent")


@dataclass(slots=True)
class Service:
    """How far service of one notice has come at ``as_of``."""

    notice: Fact
    method: str | None = None  # the method that served it
    day: date | None = None  # the service date
    effective_at: datetime | None = None  # when service took (or takes) effect
    served: bool = False
    seqs: list[int] = field(default_factory=list)
    missing: tuple[str, str] | None = None
    publication: Fact | None = None  # the publication that serves it, if that is the method
    readings: list[dict[str, Any]] = field(default_factory=list)  # each outcome and what it counts as

    def doc(self) -> dict[str, Any]:
        return {
            "notice_id": self.notice.get("notice_id"),
            "kind": self.notice.get("kind"),
            "seq": self.notice.seq,
            "served": self.served,
            "method": self.method,
            "service_date": self.day.isoformat() if self.day else None,
            "effective_at": self.effective_at.isoformat() if self.effective_at else None,
            "seqs": sorted(set(self.seqs)),
            "outcomes": self.readings,
            "missing": None if self.missing is None else {"zh": self.missing[0], "en": self.missing[1]},
        }


def _address(f: Fact, lawful: list[str]) -> tuple[bool, bool]:
    """(known, matches): where a letter went, against the addresses it may lawfully go to. With no
    ``address`` given it is known only when the file allows one address."""
    given = f.get("address")
    wanted = {normalise("address", a) for a in lawful}
    if isinstance(given, str):
        return True, normalise("address", given) in wanted
    return len(wanted) == 1, len(wanted) == 1


def _read(f: Fact, cf: ContactFile | None) -> tuple[str | None, str]:
    """What one outcome counts as: (method or a failure mark, the reason in words)."""
    channel, received_by = f.get("channel"), f.get("received_by") or "employee"
    if f.type == "notice.refused":
        return "refusal", "left at the residence after a refusal, with witnesses or evidence (民事诉讼法 art. 89)"
    if f.type == "notice.delivery_failed":
        if channel == "post" and cf is not None and cf.service_address:
            given = f.get("address")
            went = {_norm(given)} if isinstance(given, str) else {_norm(a) for a in cf.addresses()}
            if went == {_norm(cf.service_address)}:
                return "agreed_address", "came back from the agreed service address: served the day it came back"
        mark = {"visit": "personal_failed", "post": "post_failed"}.get(str(channel))
        return mark, "delivery failed"
    if received_by == "other":
        return None, "received by someone other than the employee or a co-resident adult: not service"
    if received_by == "service_agent" and (cf is None or not cf.agents()):
        return None, "received by a 'service agent', but the file names none (emergency_contacts[].service_agent)"
    if channel == "visit":
        return "personal", f"handed over in person ({received_by})"
    if channel == "post":
        lawful = cf.addresses() if cf else []
        if received_by == "service_agent" and cf is not None:
            lawful += [a.address for a in cf.agents() if a.address]
        known, ok = _address(f, lawful)
        if ok:
            return "registered_post", "registered post to an address on file, signed for"
        if not known:
            return None, "registered post: record the address it went to (address); the file holds several or none"
        return None, "registered post to an address that is neither on file nor agreed for service"
    if channel in ELECTRONIC:
        agreed = [e for e in (cf.e_service if cf else ()) if e.channel == channel]
        given = f.get("address")
        kind = "email" if channel == "email" else "mobile" if channel == "sms" else "wechat"
        if agreed and (given is None or any(normalise(kind, e.value) == normalise(kind, given) for e in agreed)):
            return "electronic", f"delivered by {channel}, a channel agreed for service"
        return None, f"{channel} is not a channel the employee agreed to receive notices on (e_service)"
    return None, f"{channel} is not a way of serving a notice"


def _norm(address: str) -> str:
    return normalise("address", address)


def serve(
    notice: Fact,
    facts: Sequence[Fact],
    files: ContactHistory,
    as_of: datetime,
    calendar: WorkCalendar,
    policy: Policy,
) -> Service:
    """Service of ``notice`` from the employee's facts cut at ``as_of``."""
    tz = policy.tz
    nid = notice.get("notice_id")
    svc = Service(notice, seqs=[notice.seq])
    outcomes = [
        f
        for f in facts
        if f.type in ("notice.delivered", "notice.delivery_failed", "notice.refused")
        and f.get("notice_id") == nid
        and f.occurred_at >= notice.occurred_at
    ]
    counted: list[tuple[datetime, str, date, list[int], Fact | None]] = []
    failed: dict[str, Fact] = {}
    for f in outcomes:
        method, why = _read(f, files.at(f.occurred_at))
        svc.readings.append(
            {"seq": f.seq, "type": f.type, "channel": f.get("channel"), "counts_as": method, "why": why}
        )
        if method in METHOD:
            counted.append((f.occurred_at, method, f.local_date(tz), [f.seq], None))
        elif method in ("personal_failed", "post_failed"):
            failed.setdefault(method, f)
        if method == "agreed_address":
            failed.setdefault("post_failed", f)
    pubs = [f for f in facts if f.type == "notice.issued" and f.get("kind") == "publication" and f.get("serves") == nid]
    early = False
    for pub in pubs:
        tried = [failed.get("personal_failed"), failed.get("post_failed")]
        if not all(t is not None and t.occurred_at <= pub.occurred_at for t in tried):
            early = True
            continue
        try:
            p = period(pub.local_date(tz), policy.publication_days, calendar, tz)
        except CalendarError as exc:
            svc.missing = (f"工作日历无法计算公告期：{exc}", f"the publication period cannot be counted: {exc}")
            return svc
        counted.append((p.ends_at, "publication", p.last_day, [*(t.seq for t in tried if t), pub.seq], pub))
    if counted:
        at, method, day, seqs, chosen = min(counted, key=lambda c: c[0])
        svc.method, svc.day, svc.effective_at, svc.publication = method, day, at, chosen
        svc.seqs += seqs
        svc.served = at <= as_of
        if not svc.served:
            svc.missing = (
                f"公告送达期未满 {policy.publication_days} 日：{day.isoformat()} 二十四时视为送达",
                f"the publication period of {policy.publication_days} days is not over: service takes effect at the "
                f"end of {day.isoformat()}",
            )
        return svc
    svc.seqs += [f.seq for f in failed.values()]
    svc.missing = _progress(failed, early)
    return svc


def _progress(failed: dict[str, Fact], early: bool) -> tuple[str, str]:
    both = "personal_failed" in failed and "post_failed" in failed
    if both:
        order = (
            "（已有的公告早于两次送达失败，不符合顺序）",
            " (the publication on record predates the failed deliveries)",
        )
        return (
            "直接送达和邮寄送达均未成功，尚未公告送达" + (order[0] if early else ""),
            "personal service and registered post both failed; publication (serves this notice) not yet issued"
            + (order[1] if early else ""),
        )
    tried_zh = "直接送达未成功；" if "personal_failed" in failed else "邮寄送达未成功；" if failed else ""
    tried_en = (
        "personal service failed; " if "personal_failed" in failed else "registered post failed; " if failed else ""
    )
    return (
        f"{tried_zh}尚未送达：可直接送达（本人、同住成年家属或代收人签收）、留置送达、邮寄至档案或约定地址、"
        "或按约定电子送达；均不能送达时方可公告送达",
        f"{tried_en}not served yet: hand it over (to the employee, a co-resident adult or the named agent), leave it "
        "after a refusal before witnesses, send it by registered post to the address on file or the agreed "
        "address, or deliver it on an agreed electronic channel; publication only once visit and post both failed",
    )

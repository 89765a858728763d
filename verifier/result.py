"""What a verification found: numbered steps (docs/verifying.md), their failures, the timeline, the limits."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

OK, FAILED, NOT_CHECKED = "ok", "failed", "not checked"

STEP_TITLES: dict[int, tuple[str, str]] = {
    1: ("The archive: members, names and sizes", "压缩包：成员、名称与大小"),
    2: ("The declaration: manifest.sig over the exact manifest", "声明：manifest.sig 对清单原文的签名"),
    3: ("Files: every SHA-256 listed, nothing beyond the list", "文件：每个文件的 SHA-256，且无清单外文件"),
    4: ("The checkpoint: the log's signature and the witnesses'", "检查点：日志签名及见证人联署"),
    5: ("Entries: canonical leaves and their inclusion proofs", "条目：规范叶子及其包含证明"),
    6: ("Chains: unbroken from head to first, first far enough back", "链：从 head 到 first 不间断，且 first 足够早"),
    7: ("Data: present and matching where required; erasures", "数据：应有之处存在且与摘要一致；删除记录"),
    8: ("Consistency with earlier checkpoints", "与较早检查点的一致性"),
    9: ("RFC 3161 timestamps over checkpoints", "RFC 3161 可信时间戳"),
    10: ("Receipts held by the other side", "对方持有的回执"),
    11: ("Timeline, and what the bundle alone cannot prove", "时间线，以及本包单独无法证明的事项"),
}


@dataclass
class Step:
    number: int
    status: str = OK
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return STEP_TITLES[self.number][0]

    @property
    def title_zh(self) -> str:
        return STEP_TITLES[self.number][1]


@dataclass
class Fact:
    """One bundled entry as a line of the timeline."""

    seq: int
    chain: str | None = None  # "subject" or "company": which declared chain holds it (None: neither)
    subject: str | None = None
    type: str | None = None
    occurred_at: str | None = None
    recorded_at: str | None = None
    source: str | None = None
    data: str = "present"  # present, withheld, erased, erasure pending
    erased_by: int | None = None  # the ledger.erased entry naming it
    in_period: bool | None = None
    late: bool = False
    tsa_time: str | None = None
    stage: str | None = None
    summary: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "FAILED" if self.problems else "proven"


@dataclass
class Receipt:
    """A ``--receipt`` tlog-proof and what it shows about this bundle (SPEC section 5)."""

    name: str
    outcome: str  # in the bundle, proven fork, proven omission, after this bundle, not current, not relevant, invalid
    seq: int | None = None
    subject: str | None = None
    tree_size: int | None = None
    detail: str = ""


@dataclass
class Result:
    bundle: str
    vkey: str
    origin: str | None = None
    subject: str | None = None
    period_from: str | None = None
    period_to: str | None = None
    time_zone: str | None = None
    tree_size: int | None = None
    root: str | None = None
    built_at: str | None = None
    latest: bool | None = None
    tsa_checked: bool = False
    late_recorded_hours: float | None = None  # the case's policy threshold, as the manifest states it
    complete: bool = False  # both chains followed from head to first, first far enough back
    #: failures that say only that completeness cannot be shown (v1 leaves, made before v2), not that anything
    #: was altered: the bundle of a v1 log carries them, and is still built
    unprovable: list[str] = field(default_factory=list)
    witnessed: list[dict[str, Any]] = field(default_factory=list)  # valid cosignatures by named witnesses
    timestamped: list[str] = field(default_factory=list)  # "size N existed by T (TSA)"
    steps: dict[int, Step] = field(default_factory=lambda: {n: Step(n) for n in STEP_TITLES})
    timeline: list[Fact] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)
    presentation: list[str] = field(default_factory=list)  # the producer's files, named as such
    limits: list[str] = field(default_factory=list)  # what this bundle alone cannot prove, and what it had

    def fail(self, step: int, message: str) -> None:
        s = self.steps[step]
        s.status = FAILED
        s.failures.append(message)

    def note(self, step: int, message: str) -> None:
        self.steps[step].notes.append(message)

    def skip(self, step: int, message: str) -> None:
        """The step could not be done (its input is unusable, or nothing asked for it)."""
        if self.steps[step].status == OK:
            self.steps[step].status = NOT_CHECKED
        self.note(step, message)

    @property
    def failures(self) -> list[str]:
        return [f"step {s.number}: {m}" for s in self.steps.values() for m in s.failures]

    @property
    def ok(self) -> bool:
        """Every check holds and completeness is shown (the only case of exit status 0)."""
        return not self.failures and self.complete

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "complete": self.complete,
            "bundle": self.bundle,
            "vkey": self.vkey,
            "origin": self.origin,
            "subject": self.subject,
            "period": {"from": self.period_from, "to": self.period_to, "time_zone": self.time_zone},
            "tree_size": self.tree_size,
            "root": self.root,
            "built_at": self.built_at,
            "latest": self.latest,
            "late_recorded_hours": self.late_recorded_hours,
            "witnessed": self.witnessed,
            "timestamped": self.timestamped,
            "failures": self.failures,
            "steps": [
                {"step": s.number, "title": s.title, "status": s.status, "failures": s.failures, "notes": s.notes}
                for s in self.steps.values()
            ],
            "timeline": [asdict(f) | {"status": f.status} for f in self.timeline],
            "receipts": [asdict(x) for x in self.receipts],
            "presentation": self.presentation,
            "limits": self.limits,
        }

"""What a verification found: numbered steps (docs/verifying.md), their failures, and the timeline."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

OK, FAILED, NOT_CHECKED = "ok", "failed", "not checked"

STEP_TITLES: dict[int, tuple[str, str]] = {
    1: ("Manifest: every file listed with its SHA-256", "清单：每个文件及其 SHA-256"),
    2: ("Checkpoint: signature, origin and size", "检查点：签名、来源与树大小"),
    3: ("Entries: canonical leaf, seq and data digest", "条目：规范叶子、序号与数据摘要"),
    4: ("Inclusion proofs against the checkpoint", "包含证明（对检查点）"),
    5: ("Consistency with earlier checkpoints", "与较早检查点的一致性"),
    6: ("Coverage of the subject's entries", "当事人条目的完整覆盖"),
    7: ("RFC 3161 timestamps over checkpoints", "RFC 3161 可信时间戳"),
    8: ("Timeline", "时间线"),
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
    """One entry of the bundle as a line of the timeline."""

    seq: int
    role: str  # "subject" or "context" (company-wide or earlier entries the case rests on)
    occurred_at: str | None = None
    recorded_at: str | None = None
    type: str | None = None
    subject: str | None = None
    source: str | None = None
    erased: bool = False
    late: bool = False
    tsa_time: str | None = None
    stage: str | None = None
    summary: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.problems:
            return "FAILED"
        return "proven (erased)" if self.erased else "proven"


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
    tsa_checked: bool = False
    witnessed: list[dict[str, Any]] = field(default_factory=list)  # valid cosignatures by named witnesses
    steps: dict[int, Step] = field(default_factory=lambda: {n: Step(n) for n in STEP_TITLES})
    timeline: list[Fact] = field(default_factory=list)
    case: Any = None  # case.json as computed by the server: shown, not verified

    def fail(self, step: int, message: str) -> None:
        s = self.steps[step]
        s.status = FAILED
        s.failures.append(message)

    def note(self, step: int, message: str) -> None:
        self.steps[step].notes.append(message)

    @property
    def failures(self) -> list[str]:
        return [f"step {s.number}: {m}" for s in self.steps.values() for m in s.failures]

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "bundle": self.bundle,
            "vkey": self.vkey,
            "origin": self.origin,
            "subject": self.subject,
            "period": {"from": self.period_from, "to": self.period_to, "time_zone": self.time_zone},
            "tree_size": self.tree_size,
            "root": self.root,
            "witnessed": self.witnessed,
            "failures": self.failures,
            "steps": [
                {"step": s.number, "title": s.title, "status": s.status, "failures": s.failures, "notes": s.notes}
                for s in self.steps.values()
            ],
            "timeline": [asdict(f) | {"status": f.status} for f in self.timeline],
            "case": self.case,
        }

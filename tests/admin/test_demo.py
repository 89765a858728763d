"""hrledger demo: the seed case played into a fresh ledger, read back as a timeline, checklists and bundle."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

from ledger.admin.demo import run_demo


async def test_demo_plays_the_seed_case_to_a_complete_verified_file(tmp_path: Path) -> None:
    """Issue 14: the seed's own story (the family's late report of the accident) was not handled, and the
    demo printed READY with 31 days while its bundle said NOT READY with 9 (issue 11). The demo now plays the
    report (the case suspends), the assessment (it resumes), the termination and the checklist after it; its
    last verdict is read from the bundle's own case.json."""
    lines: list[str] = []
    assert await run_demo(tmp_path, out=lines.append) == 0
    text = "\n".join(lines)
    for stage in ("reminder", "HR alert", "lost contact", "absenteeism", "termination review"):
        assert f"hrledger escalation: {stage}" in text
    for words in (
        "张三",
        "催告函",
        "EMS 催告函被退回",
        "直接送达催告函失败",
        "公告送达",
        "通知工会",
        "交通事故",
        "同住的妻子李四签收",
    ):
        assert words in text
    day8 = text[text.index("Readiness checklist on 30 June") : text.index("Readiness checklist on 22 July")]
    assert "尚未就绪 / NOT READY" in day8
    suspended = text[text.index("Readiness checklist on 22 July") : text.index("Readiness checklist on 7 August")]
    assert "暂停 suspended" in suspended and "NOT READY" in suspended and "absence.assessed" in suspended
    resumed = text[text.index("Readiness checklist on 7 August") : text.index("The case as the bundle holds it")]
    assert "READY for a lawful termination" in resumed and "✘" not in resumed
    held = text[text.index("The case as the bundle holds it") : text.index("Offline verification")]
    assert "recorded while ready" in held and "the termination is complete" in held and "✘" not in held
    assert "every check holds" in text
    # the stage events are real log entries, each stage exactly once
    db = sqlite3.connect(tmp_path / "ledger" / "ledger.sqlite3")
    rows = db.execute("SELECT data FROM entries WHERE type = 'escalation.stage_entered' ORDER BY seq").fetchall()
    db.close()
    assert [json.loads(r[0])["stage"] for r in rows] == [
        "reminder",
        "hr_alert",
        "lost_contact",
        "absenteeism",
        "termination_review",
    ]
    # what the demo printed last is what the bundle holds
    claim = json.loads(zipfile.ZipFile(tmp_path / "E-ZS-bundle.zip").read("case.json"))
    (case,) = claim["cases"]
    assert case["status"] == "terminated" and case["termination"]["ready_when_recorded"] is True
    assert case["after_termination"]["complete"] is True
    assert f"(as of {claim['as_of']})" in held

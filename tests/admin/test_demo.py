"""hrledger demo: the seed case played into a fresh ledger, read back as a timeline, checklist and bundle."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from ledger.admin.demo import run_demo


async def test_demo_plays_the_seed_case_to_a_ready_verified_file(tmp_path: Path) -> None:
    lines: list[str] = []
    assert await run_demo(tmp_path, out=lines.append) == 0
    text = "\n".join(lines)
    for stage in ("reminder", "HR alert", "lost contact", "absenteeism", "termination review"):
        assert f"hrledger escalation: {stage}" in text
    for words in ("张三", "催告函", "EMS 催告函被退回", "直接送达催告函失败", "公告送达", "通知工会"):
        assert words in text
    assert "尚未就绪 / NOT READY" in text  # on day 8: publication and union still missing
    assert text.rstrip().count("READY for a lawful termination") == 1
    final = text[text.index("Readiness checklist on 31 July") :]
    assert "✘" not in final.split("证据包")[0] and final.count("✔") >= 8
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
    assert (tmp_path / "E-ZS-bundle.zip").is_file()

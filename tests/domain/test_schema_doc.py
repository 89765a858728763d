"""docs/events.md is generated from the schemas: it lists every type and every field intake accepts."""

from __future__ import annotations

from pathlib import Path

from ledger.domain.schema_doc import TYPE_NOTES, events_markdown
from ledger.domain.schemas import SCHEMAS

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"
REGENERATE = (
    "python -c \"from ledger.domain.schema_doc import events_markdown as m; print(m(), end='')\" > docs/events.md"
)


def test_docs_events_md_is_the_generated_text() -> None:
    assert DOC.read_text(encoding="utf-8") == events_markdown(), f"docs/events.md is stale: run {REGENERATE}"


def test_every_type_and_field_is_listed() -> None:
    text = events_markdown()
    assert set(TYPE_NOTES) == set(SCHEMAS)
    for type_, obj in SCHEMAS.items():
        section = text.split(f"## `{type_}`", 1)[1].split("\n## ", 1)[0]
        for key in obj.fields:
            assert f"| `{key.rstrip('?')}` | {'no' if key.endswith('?') else 'yes'} |" in section, (type_, key)
    assert "| `contacts[].channel` | yes | one of `mobile` \\| `email` \\| `wechat` \\| `address` |" in text

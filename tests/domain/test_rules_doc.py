"""docs/rules.md names every rule the domain applies: each readiness item, each service method, each
attention reason and each policy key, with its basis in Chinese and English."""

from __future__ import annotations

from pathlib import Path

from ledger.domain.attention import REASON_CODES
from ledger.domain.readiness import ITEMS
from ledger.domain.service import SERVICE_METHODS
from ledger.domain.termination import AFTER_ITEMS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "rules.md").read_text(encoding="utf-8")


def test_every_item_with_its_names_in_both_languages() -> None:
    for item in (*ITEMS, *AFTER_ITEMS):
        row = next((line for line in DOC.splitlines() if line.startswith(f"| `{item.name}` |")), None)
        assert row is not None, item.name
        assert item.zh[:6] in row, item.name


def test_every_service_method_reason_and_policy_key() -> None:
    for method in SERVICE_METHODS:
        assert f"`{method.name}`" in DOC and method.zh in DOC
    for code in REASON_CODES:
        assert f"`{code}`" in DOC
    for key in ("has_union", "return_demand_min_days", "count_absence_without_request", "leave_rules"):
        assert key in DOC
    for basis in ("民法典第二百零一条", "民事诉讼法第八十五条", "劳动合同法第五十条", "个人信息保护法第二十四条"):
        assert basis in DOC

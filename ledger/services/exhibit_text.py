"""The fixed words and the print styles of the court exhibit (``ledger.services.exhibit``)."""

from __future__ import annotations

from collections.abc import Mapping

#: what each kind of entry proves, as a 证明目的 column states it
PROVES: Mapping[str, tuple[str, str]] = {
    "policy.adopted": (
        "规章制度经民主程序制定并公示",
        "the rule book was adopted by democratic procedure and published",
    ),
    "policy.acknowledged": ("员工已知悉并签收规章制度", "the employee knew and acknowledged the rule book"),
    "calendar.adopted": ("计算工作日所依据的日历", "the calendar the working days were counted with"),
    "employee.enrolled": ("档案中的联系方式与紧急联系人", "the contacts and emergency contacts on file"),
    "employee.contacts_updated": ("档案中的联系方式与紧急联系人", "the contacts and emergency contacts on file"),
    "contact.verified": ("联系方式经核实有效", "the contact was verified"),
    "leave.requested": ("员工请假及假期起止", "the leave and its dates"),
    "leave.approved": ("假期经批准，届满应返岗", "the leave was approved: the employee was due back after it"),
    "leave.rejected": ("请假未获批准", "the leave was not approved"),
    "leave.cancelled": ("请假已撤销", "the leave was cancelled"),
    "leave.extended": ("假期延长至新的日期", "the leave was extended"),
    "attendance.clock_in": ("员工到岗", "the employee came to work"),
    "contact.attempted": (
        "公司尝试联系员工或其紧急联系人",
        "the employer tried to reach the employee or an emergency contact",
    ),
    "notice.drafted": (
        "文书依案件事实起草，其摘要值在案",
        "the notice was drafted from the case facts; its digest is on record",
    ),
    "notice.issued": ("公司向员工发出书面通知", "the employer issued the written notice"),
    "notice.delivered": ("文书已送达", "the notice was served"),
    "notice.delivery_failed": ("送达未成功（及其原因）", "a delivery failed, and why"),
    "notice.refused": ("员工或同住成年家属拒收，文书留置", "the notice was refused and left at the residence"),
    "union.notified": ("解除前已通知工会", "the union was notified before the termination"),
    "absence.reported": ("有人报告了缺勤原因", "a reason for the absence was reported"),
    "absence.assessed": ("公司对所报告原因作出认定", "the employer assessed the reported reason"),
    "escalation.stage_entered": (
        "逾期工作日达到该阶段（系统依规则与日历计算）",
        "the overdue working days reached this stage (computed by the rules and calendar)",
    ),
    "escalation.stage_withdrawn": ("后续事实使该阶段不再成立", "later facts undid this stage"),
    "employment.terminated": ("劳动合同解除及确认人", "the termination and who confirmed it"),
    "employment.certificate_issued": ("已出具解除劳动合同证明", "the termination certificate was issued"),
    "employment.records_transferred": (
        "档案与社会保险关系已转移",
        "the personnel file and social insurance were transferred",
    ),
    "case.closed": ("案件已结案", "the case was closed"),
    "ledger.erased": ("个人数据依法删除的记录", "the record of a lawful erasure of personal data"),
}

STATUS: Mapping[str, tuple[str, str]] = {
    "proven": ("已证明", "proven"),
    "erased": ("已证明（个人数据已删除）", "proven (personal data erased)"),
    "withheld": ("已证明（数据未附：期间外且未被引用）", "proven (data withheld: outside the period, not cited)"),
    "pending": ("已证明（删除待完成）", "proven (erasure pending)"),
    "failed": ("证明失败", "FAILED"),
    "unchecked": ("未核验", "not checked"),
    "late": ("补录", "late-recorded"),
}

CSS = """
@page { size: A4; margin: 16mm 13mm 16mm 13mm; }
html { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "PingFang SC", "Microsoft YaHei",
       "DejaVu Sans", sans-serif; font-size: 9pt; color: #000; line-height: 1.4; }
body { margin: 0; }
h1 { font-size: 16pt; margin: 0 0 6pt; text-align: center; letter-spacing: 1pt; }
h2 { font-size: 11.5pt; margin: 14pt 0 5pt; border-bottom: 1px solid #555; break-after: avoid; }
h3 { font-size: 10pt; margin: 10pt 0 3pt; break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin-bottom: 4pt; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th, td { border: 0.6pt solid #888; padding: 2pt 3pt; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #eee; font-weight: bold; }
table.kv th { width: 26%; }
table.catalogue { table-layout: fixed; }
table.catalogue th:nth-child(1) { width: 6%; } table.catalogue th:nth-child(2) { width: 29%; }
table.catalogue th:nth-child(3) { width: 12%; } table.catalogue th:nth-child(4) { width: 10%; }
table.catalogue th:nth-child(5) { width: 25%; } table.catalogue th:nth-child(6) { width: 6%; }
table.catalogue th:nth-child(7) { width: 12%; }
table.catalogue td:nth-child(1), table.catalogue td:nth-child(6) { text-align: right; }
th { overflow-wrap: normal; word-break: keep-all; }
.t { white-space: nowrap; }
.mono { font-family: "DejaVu Sans Mono", monospace; font-size: 7.5pt; word-break: break-all; }
.en { color: #333; font-size: 8pt; }
.small { font-size: 7.5pt; color: #333; }
.ok { color: #075e07; font-weight: bold; } .failed { color: #a00; font-weight: bold; } .nc { color: #775500; }
.late-flag { color: #8a5a00; font-size: 7.5pt; }
.verdict { border: 1.5pt solid; padding: 4pt 6pt; margin: 5pt 0; font-size: 10.5pt; break-inside: avoid; }
.verdict .en { font-size: 9pt; }
ol.story { padding-left: 2.2em; margin: 0; } ol.story li { margin-bottom: 2pt; break-inside: avoid; }
ul { margin: 2pt 0 4pt; }
"""

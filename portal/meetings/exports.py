"""Word (.docx) exports in the customary Chinese government layout, built with python-docx.

* minutes (会议纪要): title, meeting number, office and date line, rule, time, place,
  chair, attendees by department, the minutes text, decisions numbered 一、二、三…
  with their responsible departments and deadlines.
* prep pack (会议材料): agenda, duty status matrix, every invited department's report.

Fonts follow the usual official-document choice (方正小标宋简体 title, 黑体 headings,
仿宋_GB2312 body); Word substitutes installed fonts when those are missing.
PDF export is not provided (no well-kept pure-Python library renders CJK .docx cleanly).
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from portal.meetings import services
from portal.meetings.models import Attendance, Meeting

TITLE_FONT = "方正小标宋简体"
HEADING_FONT = "黑体"
BODY_FONT = "仿宋_GB2312"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _font(run: Any, name: str, size: float, bold: bool = False, color: RGBColor | None = None):
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), name)
    return run


def _para(
    doc: Any,
    text: str = "",
    *,
    font: str = BODY_FONT,
    size: float = 16,
    bold=False,
    align: Any = None,
    indent: bool = False,
    color: RGBColor | None = None,
) -> Any:
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    fmt = p.paragraph_format
    fmt.space_after = Pt(0)
    fmt.line_spacing = Pt(28)
    if indent:
        fmt.first_line_indent = Pt(size * 2)
    if text:
        _font(p.add_run(text), font, size, bold, color)
    return p


def _rule(doc: Any) -> None:
    """The red rule under the document head."""
    p = doc.add_paragraph()
    ppr = p._p.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "12"), ("w:space", "1"), ("w:color", "C00000")):
        bottom.set(qn(k), v)
    border.append(bottom)
    ppr.append(border)


def _markdown_paragraphs(doc: Any, text: str) -> None:
    """Plain rendering of the Markdown minutes/report text as official-style paragraphs."""
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        heading = re.match(r"^#{1,6}\s*(.*)$", line)
        if heading:
            _para(doc, heading.group(1), font=HEADING_FONT, size=16)
            continue
        bullet = re.match(r"^[-*+]\s+(.*)$", line)
        if bullet:
            line = "· " + bullet.group(1)
        line = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: m.group(1) or m.group(2), line)
        line = re.sub(r"(?<!\*)\*(?!\*)(.+?)\*", r"\1", line)
        _para(doc, line, indent=not bullet)


def _new_document() -> Any:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = BODY_FONT
    style.font.size = Pt(16)
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
    for section in doc.sections:
        section.top_margin = Pt(37 * 2.835)
        section.bottom_margin = Pt(35 * 2.835)
        section.left_margin = Pt(28 * 2.835)
        section.right_margin = Pt(26 * 2.835)
    return doc


def _to_bytes(doc: Any) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _date_zh(day: Any) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _arrangement_name() -> str:
    arr = services.arrangement()
    return (arr.name if arr and arr.name else "") or "联席会议"


def _office_name() -> str:
    arr = services.arrangement()
    if arr and arr.office_department is not None:
        return f"{_arrangement_name()}办公室"
    return _arrangement_name()


def minutes_docx(meeting: Meeting) -> bytes:
    """会议纪要 of one meeting."""
    doc = _new_document()
    red = RGBColor(0xC0, 0x00, 0x00)
    _para(
        doc,
        f"{_arrangement_name()}",
        font=TITLE_FONT,
        size=22,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        color=red,
    )
    _para(doc, "会 议 纪 要", font=TITLE_FONT, size=26, align=WD_ALIGN_PARAGRAPH.CENTER, color=red)
    _para(doc, f"（{meeting.number}）", size=16, align=WD_ALIGN_PARAGRAPH.CENTER)
    head = _para(doc, "")
    _font(head.add_run(_office_name()), BODY_FONT, 16)
    _font(head.add_run("\u3000\u3000" + _date_zh(meeting.meeting_date)), BODY_FONT, 16)
    _rule(doc)

    when = _date_zh(meeting.meeting_date) + (f" {meeting.start_time}" if meeting.start_time else "")
    _para(doc, f"会议名称：{meeting.title}")
    _para(doc, f"时\u3000\u3000间：{when}")
    _para(doc, f"地\u3000\u3000点：{meeting.place or '—'}")
    _para(doc, f"主\u00a0持\u00a0人：{meeting.chair or '—'}")
    invs = services.invitations(meeting)
    present = [i.department.name for i in invs if i.attendance == Attendance.present]
    delegates = [
        f"{i.department.name}（{i.delegate_name}代）"
        for i in invs
        if i.attendance == Attendance.delegate
    ]
    absent = [i.department.name for i in invs if i.attendance == Attendance.absent]
    unknown = [i.department.name for i in invs if i.attendance == Attendance.unknown]
    _para(doc, "参会单位：" + ("、".join(present + delegates) or "—"))
    if absent:
        _para(doc, "请假单位：" + "、".join(absent))
    if unknown:
        _para(doc, "未登记出席情况：" + "、".join(unknown))
    _para(doc, "")
    _markdown_paragraphs(doc, services.minutes_of(meeting).body)
    states = services.decision_states(meeting)
    if states:
        _para(doc, "会议议定事项如下：", indent=True)
        for s in states:
            d = s.decision
            p = _para(doc, "", indent=True)
            _font(p.add_run(f"{services.chinese_number(d.number)}、"), HEADING_FONT, 16)
            _font(p.add_run(d.text), BODY_FONT, 16)
            by_text: dict[tuple[str, Any], list[str]] = defaultdict(list)
            for item in s.items:
                by_text[(item.text, item.due_date)].append(item.department.name)
            for (text, due), names in by_text.items():
                _para(
                    doc,
                    f"督办事项：{text}。责任单位：{'、'.join(names)}；完成时限：{_date_zh(due)}前。",
                    indent=True,
                )
    _para(doc, "")
    recipients = "、".join(i.department.name for i in invs)
    _para(doc, f"送：{recipients or '各成员单位'}", size=14)
    _para(doc, f"{_office_name()}\u3000\u3000{_date_zh(meeting.meeting_date)}印发", size=14)
    return _to_bytes(doc)


def prep_pack_docx(meeting: Meeting) -> bytes:
    """会议材料: agenda, the period's duty status matrix, every department's report."""
    doc = _new_document()
    _para(doc, meeting.title, font=TITLE_FONT, size=22, align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(
        doc,
        f"会议材料（{meeting.number}）",
        font=TITLE_FONT,
        size=18,
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    when = _date_zh(meeting.meeting_date) + (f" {meeting.start_time}" if meeting.start_time else "")
    _para(
        doc,
        f"时间：{when}\u3000地点：{meeting.place or '—'}\u3000主持：{meeting.chair or '—'}",
        size=14,
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    _rule(doc)

    _para(doc, "一、会议议程", font=HEADING_FONT)
    for i, item in enumerate(services.agenda(meeting), 1):
        _para(doc, f"{i}. {item.title}", indent=True)
        for line in item.detail.splitlines():
            if line.strip():
                _para(doc, line.strip().lstrip("-").strip(), size=14, indent=True)

    period = services.meeting_period(meeting)
    _para(doc, f"二、{period}职责落实情况汇总", font=HEADING_FONT)
    matrix = services.status_matrix(period, services.reference_date(meeting))
    if matrix:
        headers = ["责任单位", "职责数", "已审核", "已签报", "进行中", "未开始", "被退回", "逾期"]
        table = doc.add_table(rows=1, cols=len(headers))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for cell, text in zip(table.rows[0].cells, headers, strict=True):
            _font(cell.paragraphs[0].add_run(text), HEADING_FONT, 12)
        totals = [0] * 7
        for row in matrix:
            c = row.counts
            values = [
                row.total,
                c["accepted"],
                c["submitted"],
                c["in_progress"],
                c["not_started"],
                c["returned"],
                row.overdue,
            ]
            totals = [a + b for a, b in zip(totals, values, strict=True)]
            cells = table.add_row().cells
            _font(cells[0].paragraphs[0].add_run(row.department), BODY_FONT, 12)
            for cell, v in zip(cells[1:], values, strict=True):
                _font(cell.paragraphs[0].add_run(str(v)), BODY_FONT, 12)
        cells = table.add_row().cells
        _font(cells[0].paragraphs[0].add_run("合计"), HEADING_FONT, 12)
        for cell, v in zip(cells[1:], totals, strict=True):
            _font(cell.paragraphs[0].add_run(str(v)), HEADING_FONT, 12)
    else:
        _para(doc, f"{period}尚未生成职责。", indent=True)

    _para(doc, "三、各成员单位工作汇报", font=HEADING_FONT)
    for n, t in enumerate(services.report_tracking(meeting), 1):
        name = t.invitation.department.name
        _para(doc, f"（{services.chinese_number(n)}）{name}", font=HEADING_FONT, size=16)
        if not t.submitted or t.report is None:
            _para(doc, "（未报送）", indent=True)
            continue
        r = t.report
        _para(
            doc,
            f"服务特殊家庭{r.families_reached}户次，发放资金{r.amount_paid:.2f}元。",
            indent=True,
        )
        _markdown_paragraphs(doc, r.body)
        if r.not_delivered.strip():
            _para(doc, "未落实事项及原因：", indent=True)
            _markdown_paragraphs(doc, r.not_delivered)
    return _to_bytes(doc)

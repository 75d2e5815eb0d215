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
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, NamedTuple
from xml.sax.saxutils import escape as xml_escape

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from portal.benefits import summary as benefits_summary
from portal.care import summary as care_summary
from portal.duties import queries as duty_queries
from portal.kernel import clock, timefmt
from portal.meetings import queries
from portal.meetings.models import Attendance, Meeting
from portal.meetings.rules import chinese_number

TITLE_FONT = "方正小标宋简体"
HEADING_FONT = "黑体"
BODY_FONT = "仿宋_GB2312"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class Style(NamedTuple):
    """A paragraph style of the exported documents (GB/T 9704's fonts and sizes)."""

    font: str
    size: int
    indent: bool = False  # first line indented two characters
    centred: bool = False
    red: bool = False  # the red header of a 红头 document
    bold: bool = False


STYLES = {
    "body": Style(BODY_FONT, 16, indent=True),
    "plain": Style(BODY_FONT, 16),
    "centre": Style(BODY_FONT, 16, centred=True),
    "small": Style(BODY_FONT, 14),
    "small_indent": Style(BODY_FONT, 14, indent=True),
    "small_centre": Style(BODY_FONT, 14, centred=True),
    "heading": Style(HEADING_FONT, 16),
    "title": Style(TITLE_FONT, 22, centred=True, red=True),
    "title_big": Style(TITLE_FONT, 26, centred=True, red=True),
    "subtitle": Style(TITLE_FONT, 18, centred=True),
    "cell": Style(BODY_FONT, 12),
    "cell_head": Style(HEADING_FONT, 12),
}


def _add_styles(doc: Any) -> dict[str, Any]:
    """Paragraph styles, so each paragraph is one cheap call (a 25-report pack has
    thousands of paragraphs; per-run formatting made it several times slower)."""
    styles = {}
    for name, (font, size, indent, centred, red, bold) in STYLES.items():
        st = doc.styles.add_style(f"Meeting {name}", WD_STYLE_TYPE.PARAGRAPH)
        st.base_style = doc.styles["Normal"]
        st.font.name = font
        st.font.size = Pt(size)
        st.font.bold = bold
        if red:
            st.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
        st.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
        fmt = st.paragraph_format
        fmt.space_after = Pt(0)
        fmt.space_before = Pt(0)
        fmt.line_spacing = Pt(28 if size >= 14 else 20)
        if indent:
            fmt.first_line_indent = Pt(size * 2)
        if centred:
            fmt.alignment = WD_ALIGN_PARAGRAPH.CENTER
        styles[name] = st
    return styles


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _t(text: str) -> str:
    """Text for a w:t element: XML-escaped, characters XML cannot hold removed."""
    return xml_escape(_CONTROL.sub("", text))


DOCUMENT_PART = "word/document.xml"


@dataclass(frozen=True)
class _Template:
    parts: list[tuple[str, bytes]]  # the package's parts in order, uncompressed
    document_xml: str
    style_ids: dict[str, str]


_TEMPLATE: _Template | None = None


def _template() -> _Template:
    """An empty document with margins and the meeting styles, built once per process:
    python-docx's style API is slow, and so were reopening and re-saving the package
    for every export (half the time of a prep pack)."""
    global _TEMPLATE
    if _TEMPLATE is None:
        doc = Document()
        normal = doc.styles["Normal"]
        normal.font.name = BODY_FONT
        normal.font.size = Pt(16)
        normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
        for section in doc.sections:  # A4 (python-docx defaults to US Letter), GB/T 9704 margins
            section.page_width = Mm(210)
            section.page_height = Mm(297)
            section.top_margin = Mm(37)
            section.bottom_margin = Mm(35)
            section.left_margin = Mm(28)
            section.right_margin = Mm(26)
        style_ids = {k: st.style_id for k, st in _add_styles(doc).items()}
        buf = io.BytesIO()
        doc.save(buf)
        with zipfile.ZipFile(buf) as package:
            parts = [(name, package.read(name)) for name in package.namelist()]
        document_xml = dict(parts)[DOCUMENT_PART].decode("utf-8")
        _TEMPLATE = _Template(parts, document_xml, style_ids)
    return _TEMPLATE


class _Doc:
    """A document with the meeting styles. The body is written as WordprocessingML text
    and put into the template's package as it is (python-docx's per-paragraph API took
    seconds for a 25-report pack; parsing and re-saving the package took milliseconds)."""

    def __init__(self) -> None:
        self.template = _template()
        self.style_ids = self.template.style_ids
        self.parts: list[str] = []

    def para(
        self, text: str = "", style: str = "body", lead: tuple[str, str] | None = None
    ) -> None:
        """One paragraph; `lead` = (text, font) is a first run in another font (一、 in 黑体)."""
        runs = ""
        if lead:
            runs += (
                f'<w:r><w:rPr><w:rFonts w:ascii="{lead[1]}" w:hAnsi="{lead[1]}" '
                f'w:eastAsia="{lead[1]}"/></w:rPr><w:t xml:space="preserve">{_t(lead[0])}</w:t></w:r>'
            )
        if text:
            runs += f'<w:r><w:t xml:space="preserve">{_t(text)}</w:t></w:r>'
        self.parts.append(
            f'<w:p><w:pPr><w:pStyle w:val="{self.style_ids[style]}"/></w:pPr>{runs}</w:p>'
        )

    def rule(self) -> None:
        """The red rule under the document head."""
        self.parts.append(
            f'<w:p><w:pPr><w:pStyle w:val="{self.style_ids["plain"]}"/><w:pBdr>'
            '<w:bottom w:val="single" w:sz="12" w:space="1" w:color="C00000"/>'
            "</w:pBdr></w:pPr></w:p>"
        )

    def markdown(self, text: str) -> None:
        """Plain rendering of Markdown text as official-style paragraphs."""
        for raw in (text or "").splitlines():
            line = raw.strip()
            if not line:
                continue
            heading = re.match(r"^#{1,6}\s*(.*)$", line)
            if heading:
                self.para(heading.group(1), "heading")
                continue
            bullet = re.match(r"^[-*+]\s+(.*)$", line)
            if bullet:
                line = "· " + bullet.group(1)
            line = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: m.group(1) or m.group(2), line)
            line = re.sub(r"(?<!\*)\*(?!\*)(.+?)\*", r"\1", line)
            self.para(line, "small_indent" if bullet else "body")

    def table(self, header: list[str], rows: list[list[str]], bold_last: bool = False) -> None:
        cols = len(header)
        out = [
            '<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/>'
            '<w:jc w:val="center"/></w:tblPr><w:tblGrid>' + "<w:gridCol/>" * cols + "</w:tblGrid>"
        ]
        for r_index, values in enumerate([header, *rows]):
            head = r_index == 0 or (bold_last and r_index == len(rows))
            style = self.style_ids["cell_head" if head else "cell"]
            out.append("<w:tr>")
            for text in values:
                out.append(
                    f'<w:tc><w:tcPr><w:tcW w:w="0" w:type="auto"/></w:tcPr><w:p><w:pPr>'
                    f'<w:pStyle w:val="{style}"/></w:pPr><w:r><w:t xml:space="preserve">'
                    f"{_t(text)}</w:t></w:r></w:p></w:tc>"
                )
            out.append("</w:tr>")
        out.append("</w:tbl>")
        self.parts.append("".join(out))

    def bytes(self) -> bytes:
        xml = self.template.document_xml
        at = xml.rindex("<w:sectPr")  # the body's own section properties close the body
        document = (xml[:at] + "".join(self.parts) + xml[at:]).encode("utf-8")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as package:
            for name, data in self.template.parts:
                package.writestr(name, document if name == DOCUMENT_PART else data)
        return buf.getvalue()


def _date_zh(day: Any) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _arrangement_name() -> str:
    arr = queries.arrangement()
    return (arr.name if arr and arr.name else "") or "联席会议"


def _office_name() -> str:
    arr = queries.arrangement()
    if arr and arr.office_department is not None:
        return f"{_arrangement_name()}办公室"
    return _arrangement_name()


def minutes_docx(meeting: Meeting) -> bytes:
    """会议纪要 of one meeting."""
    d = _Doc()
    d.para(_arrangement_name(), "title")
    d.para("会 议 纪 要", "title_big")
    d.para(f"（{meeting.number}）", "centre")
    d.para(f"{_office_name()}\u3000\u3000{_date_zh(meeting.meeting_date)}", "plain")
    d.rule()
    when = _date_zh(meeting.meeting_date) + (f" {meeting.start_time}" if meeting.start_time else "")
    d.para(f"会议名称：{meeting.title}", "plain")
    d.para(f"时\u3000\u3000间：{when}", "plain")
    d.para(f"地\u3000\u3000点：{meeting.place or '—'}", "plain")
    d.para(f"主\u00a0持\u00a0人：{meeting.chair or '—'}", "plain")
    invs = queries.invitations(meeting)
    present = [i.department.name for i in invs if i.attendance == Attendance.present]
    delegates = [
        f"{i.department.name}（{i.delegate_name}代）"
        for i in invs
        if i.attendance == Attendance.delegate
    ]
    absent = [i.department.name for i in invs if i.attendance == Attendance.absent]
    unknown = [i.department.name for i in invs if i.attendance == Attendance.unknown]
    d.para("参会单位：" + ("、".join(present + delegates) or "—"), "plain")
    if absent:
        d.para("请假单位：" + "、".join(absent), "plain")
    if unknown:
        d.para("未登记出席情况：" + "、".join(unknown), "plain")
    d.para("", "plain")
    d.markdown(queries.minutes_of(meeting).body)
    states = queries.decision_states(meeting)
    if states:
        d.para("会议议定事项如下：")
        for s in states:
            d.para(
                s.decision.text,
                lead=(f"{chinese_number(s.decision.number)}、", HEADING_FONT),
            )
            by_text: dict[tuple[str, Any], list[str]] = defaultdict(list)
            for item in s.items:
                by_text[(item.text, item.due_date)].append(item.department.name)
            for (text, due), names in by_text.items():
                d.para(
                    f"督办事项：{text}。责任单位：{'、'.join(names)}；完成时限：{_date_zh(due)}前。"
                )
    d.para("", "plain")
    recipients = "、".join(i.department.name for i in invs)
    d.para(f"送：{recipients or '各成员单位'}", "small")
    d.para(f"{_office_name()}\u3000\u3000{_date_zh(meeting.meeting_date)}印发", "small")
    return d.bytes()


def prep_pack_docx(meeting: Meeting) -> bytes:
    """会议材料: agenda, the period's duty status matrix, every department's report."""
    d = _Doc()
    d.para(meeting.title, "title")
    d.para(f"会议材料（{meeting.number}）", "subtitle")
    when = _date_zh(meeting.meeting_date) + (f" {meeting.start_time}" if meeting.start_time else "")
    d.para(
        f"时间：{when}\u3000地点：{meeting.place or '—'}\u3000主持：{meeting.chair or '—'}",
        "small_centre",
    )
    d.rule()

    d.para("一、会议议程", "heading")
    for i, item in enumerate(queries.agenda(meeting), 1):
        d.para(f"{i}. {item.title}")
        for line in item.detail.splitlines():
            if line.strip():
                d.para(line.strip().lstrip("-").strip(), "small_indent")

    period = queries.meeting_period(meeting)
    d.para(f"二、{period.label_in('zh')}职责落实情况汇总", "heading")
    matrix = duty_queries.status_matrix(period, queries.reference_date(meeting))
    if matrix:
        header = ["责任单位", "职责数", "已审核", "已签报", "进行中", "未开始", "被退回", "逾期"]
        rows = []
        totals = [0] * 7
        others = [0] * 7
        invited = {inv.department_id for inv in queries.invitations(meeting)}
        outside = 0
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
            if row.department_id in invited:
                rows.append([row.department, *map(str, values)])
            else:  # departments not invited appear only as counts (shared material)
                others = [a + b for a, b in zip(others, values, strict=True)]
                outside += 1
        if outside:
            rows.append([f"其他单位（{outside}个）", *map(str, others)])
        rows.append(["合计", *map(str, totals)])
        d.table(header, rows, bold_last=True)
    else:
        d.para(f"{period.label_in('zh')}尚未生成职责。")

    care_as_of = min(queries.reference_date(meeting), clock.today())
    cov = care_summary.coverage(care_as_of)
    d.para("三、特殊家庭关怀覆盖情况", "heading")
    if cov.district.households:
        d.para(
            f"截至{timefmt.format_date(care_as_of, english=False)}，按本地区政策实时计算。", "small"
        )
        d.table(care_summary.TABLE_HEADER, care_summary.table(cov), bold_last=True)
    else:
        d.para("档案中尚无在册家庭。")
    money = benefits_summary.table(period.start, min(period.end, care_as_of))
    if money:
        d.para(f"扶助资金发放（{period.label_in('zh')}，按发放批次月份）", "small")
        d.table(benefits_summary.TABLE_HEADER, money, bold_last=True)

    d.para("四、各成员单位工作汇报", "heading")
    for n, t in enumerate(queries.report_tracking(meeting), 1):
        d.para(f"（{chinese_number(n)}）{t.invitation.department.name}", "heading")
        if not t.submitted or t.report is None:
            d.para("（未报送）")
            continue
        r = t.report
        d.para(f"服务特殊家庭{r.families_reached}户，发放资金{r.amount_paid:.2f}元。")
        d.markdown(r.body)
        if r.not_delivered.strip():
            d.para("未落实事项及原因：")
            d.markdown(r.not_delivered)
    return d.bytes()

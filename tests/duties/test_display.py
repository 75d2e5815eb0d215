"""What people read on the duty pages: local time, half-year labels, natural measure order,
required marks, messages that do not repeat their label, no raw codes."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import uuid

import sqlalchemy as sa
from openpyxl import load_workbook

from portal.duties.models import Duty, DutyReviewRecord, DutyStatus
from portal.extensions import db
from portal.kernel.periods import Period
from tests.duties.helpers import district, duty_in

BASE = "/t/kaifeng/duties"
INSTANT = dt.datetime(2026, 12, 5, 23, 37)  # UTC, as stored: 2026-12-06 07:37 in Beijing


def _text(page: str) -> str:
    """What a reader sees: tags (and their attributes: URLs, values) removed."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _natural(number: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", number))


def test_times_are_in_the_district_zone(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    with district(fresh_app, "kaifeng"):
        duty = duty_in(DutyStatus.accepted)
        duty.submitted_at = duty.reviewed_at = INSTANT
        for record in db.session.execute(
            sa.select(DutyReviewRecord).filter_by(duty_id=duty.id)
        ).scalars():
            record.at = INSTANT
        db.session.commit()
        duty_id, period = duty.id, duty.period
    lead = login_as("kaifeng-lead", fresh_app)
    page = _text(lead.get(f"{BASE}/{duty_id}").get_data(as_text=True))
    assert "UTC" not in page and "23:37" not in page
    assert "2026年12月6日 07:37" in page
    r = lead.get(f"{BASE}/export.xlsx?period={period}")
    cells = [
        str(c.value)
        for ws in load_workbook(io.BytesIO(r.data)).worksheets
        for row in ws.iter_rows()
        for c in row
        if c.value is not None
    ]
    assert "2026年12月6日 07:37" in cells and not any("23:37" in c for c in cells)


def test_periods_are_shown_as_labels(login_as) -> None:  # type: ignore[no-untyped-def]
    current = Period.current()
    pages = {
        "officer": ["/t/kaifeng/", f"{BASE}/", f"{BASE}/?status=open"],
        "lead": ["/t/kaifeng/", f"{BASE}/", f"{BASE}/review", f"{BASE}/?status=overdue"],
    }
    for who, paths in pages.items():
        b = login_as("kaifeng-civil-affairs" if who == "officer" else "kaifeng-lead")
        for path in paths:
            body = b.get(path).get_data(as_text=True)
            shown = _text(body)
            assert not re.search(r"\d{4}H[12]", shown), (
                who,
                path,
                re.findall(r".{30}\d{4}H[12].{10}", shown),
            )
        ids = re.findall(r'data-duty="([^"]+)"', b.get(f"{BASE}/").get_data(as_text=True))
        detail = _text(b.get(f"{BASE}/{ids[0]}").get_data(as_text=True))
        assert not re.search(r"\d{4}H[12]", detail) and current.label_in("zh") in detail
    # the period is chosen from a list of labels
    body = login_as("kaifeng-lead").get(f"{BASE}/").get_data(as_text=True)
    select = re.search(r'<select id="period".*?</select>', body, re.S).group(0)
    assert f'value="{current.code}" selected>{current.label_in("zh")}<' in select
    assert f">{current.previous.label_in('zh')}<" in select


def test_export_labels_the_period(login_as) -> None:  # type: ignore[no-untyped-def]
    r = login_as("kaifeng-lead").get(f"{BASE}/export.xlsx")
    book = load_workbook(io.BytesIO(r.data))
    values = [
        str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value
    ]
    assert Period.current().label_in("zh") in " ".join(values)
    assert not any(re.search(r"\d{4}H[12]", v) for v in values)


def test_measures_in_natural_order(app, login_as) -> None:  # type: ignore[no-untyped-def]
    body = login_as("kaifeng-civil-affairs").get(f"{BASE}/").get_data(as_text=True)
    ids = re.findall(r'data-duty="([^"]+)"', body)
    with district(app, "kaifeng"):
        numbers = {
            str(d.id): (d.due_date, d.measure_number)
            for d in db.session.execute(
                sa.select(Duty).where(Duty.id.in_([uuid.UUID(i) for i in ids]))
            )
            .unique()
            .scalars()
        }
    shown = [numbers[i] for i in ids]
    assert len(shown) > 2
    assert shown == sorted(shown, key=lambda x: (x[0], _natural(x[1])))


def test_required_marks_and_messages_without_the_label(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    with district(fresh_app, "kaifeng"):
        duty = duty_in(DutyStatus.in_progress)
        duty_id, day = duty.id, min(dt.date.fromisoformat("2026-12-01"), duty.due_date)
    officer = login_as("kaifeng-civil-affairs", fresh_app)
    url = f"{BASE}/{duty_id}"
    page = officer.get(url).get_data(as_text=True)
    for field in ("work_date", "narrative", "assessment", "statement"):
        label = re.search(rf'<label for="{field}">(.*?)</label>', page, re.S)
        assert label and "required-mark" in label.group(1), field
    version = re.findall(r'name="row_version" value="(\d+)"', page)[0]
    r = officer.post(
        f"{url}/entries",
        {
            "work_date": day.isoformat(),
            "narrative": "",
            "families_reached": "12",
            "amount_paid": "300",
            "evidence_date": "2026-11-30",
            "row_version": version,
        },
        csrf_from=url,
    )
    body = r.get_data(as_text=True)
    assert r.status_code == 400
    errors = re.findall(r'<p class="error-text"[^>]*>(.*?)</p>', body)
    assert errors == ["请填写所做的工作。"]
    # a chosen file cannot be kept by the browser: the page says so beside the files
    r = officer.post(
        f"{url}/entries",
        {
            "work_date": day.isoformat(),
            "narrative": "",
            "row_version": version,
            "files": (io.BytesIO(b"%PDF-1.4 x"), "a.pdf"),
        },
        csrf_from=url,
        content_type="multipart/form-data",
    )
    assert r.status_code == 400 and "请重新选择文件" in r.get_data(as_text=True)
    # every typed value is kept
    for value in ('value="12"', 'value="300"', 'value="2026-11-30"', f'value="{day.isoformat()}"'):
        assert value in body, value


def test_an_older_half_year_can_be_generated_from_its_page(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    old = Period.current().shift(-6)
    lead = login_as("kaifeng-lead", fresh_app)
    page = f"{BASE}/?period={old.code}"
    assert old.label_in("zh") in _text(lead.get(page).get_data(as_text=True))
    r = lead.post(f"{BASE}/generate", {"period": old.code}, csrf_from=page)
    assert r.status_code == 302 and r.headers["Location"].endswith(f"period={old.code}")
    listing = lead.get(f"{BASE}/?period={old.code}").get_data(as_text=True)
    assert re.findall(r'data-duty="', listing)

"""Excel import: a 50-row sheet with 3 bad rows — errors by row and column, rejected rows
downloadable with a reason, the rest imported as one batch the 卫健 officer confirms."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa
from openpyxl import Workbook, load_workbook
from stdnum.cn import ric

from bench.register_import import HEADINGS, sheet_row
from tests.register.helpers import demo_plaintexts, tenant_id


def _id(born: str, order: int) -> str:
    body = f"410205{born}{order:03d}"
    return body + ric.calc_check_digit(body + "0")


def sheet(existing_id: str | None = None) -> tuple[bytes, list[str]]:
    wb = Workbook()
    ws = wb.active
    ws.append(HEADINGS)
    ids = []
    for i in range(50):
        woman = _id(f"1960{1 + i % 12:02d}{1 + i % 27:02d}", 500 + 2 * i)
        man = _id(f"1958{1 + i % 12:02d}{1 + i % 27:02d}", 701 + 2 * i)
        ids += [woman, man]
        village = ["示例社区一", "示例社区二", "示例社区三"][i % 3]
        ws.append(sheet_row(i, village, "失独" if i % 2 else "伤残", woman, man))
    ws.cell(
        row=5,
        column=4,
        value=ws.cell(row=5, column=4).value[:-1] + "0"
        if not ws.cell(row=5, column=4).value.endswith("0")
        else ws.cell(row=5, column=4).value[:-1] + "1",
    )  # bad check digit
    ws.cell(row=12, column=1, value="不存在的村")
    ws.cell(
        row=30, column=7, value=ws.cell(row=20, column=4).value
    )  # the same ID twice in the file
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), ids


def _upload(town, data: bytes, name: str = "名册.xlsx") -> str:  # type: ignore[no-untyped-def]
    """The upload step as the town officer; the page it answers (200)."""
    start = "/t/kaifeng/register/import"
    r = town.post(
        start,
        {"stage": "upload", "file": (io.BytesIO(data), name)},
        csrf_from=start,
        content_type="multipart/form-data",
    )
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_import_preview_reject_download_and_confirm(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    data, ids = sheet()
    town = login_as("kaifeng-town1", fresh_app)
    start = "/t/kaifeng/register/import"
    page = _upload(town, data)
    assert 'data-stage="map"' in page
    token = re.search(r'name="token" value="([0-9a-f]{32})"', page).group(1)
    mapping = dict(
        re.findall(
            r'<select id="map_(\w+)" name="map_\w+">(?:(?!</select>).)*?<option value="([^"]+)" selected',
            page,
            re.S,
        )
    )
    assert mapping == {
        "village": "村居",
        "category": "类别",
        "name": "姓名",
        "id_number": "身份证号",
        "phone": "联系电话",
        "spouse_name": "配偶姓名",
        "spouse_id_number": "配偶身份证号",
        "address": "家庭住址",
    }
    form = {"token": token, **{f"map_{k}": v for k, v in mapping.items()}}
    # nothing is written before the import
    preview = town.post(start, {**form, "stage": "preview"}, csrf_from=start)
    body = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "共 50 行：47 行有效，3 行有错误" in body
    errors = re.findall(r'<tr data-row="(\d+)"><td>\d+</td><td>([^<]+)</td><td>([^<]+)</td>', body)
    assert [(int(n), c) for n, c, _m in errors] == [
        (5, "身份证号"),
        (12, "村居"),
        (30, "配偶身份证号"),
    ]
    assert (
        "校验位错误" in errors[0][2]
        and "本街镇没有这个村居" in errors[1][2]
        and "第 20 行" in errors[2][2]
    )
    # the progress the page polls: the uploader's own, counts only; anyone else 404
    progress = town.get(f"{start}/{token}/progress")
    assert progress.get_json() == {"stage": "validating", "done": 50, "total": 50}
    assert progress.headers["Cache-Control"] == "no-store"
    other_officer = login_as("kaifeng-village1", fresh_app)
    assert other_officer.get(f"{start}/{token}/progress").status_code == 404
    assert town.get(f"{start}/{'0' * 32}/progress").status_code == 404
    assert 'id="import-progress"' in body and "register_import.js" in body
    rejected = town.post(start, {**form, "stage": "rejected"}, csrf_from=start)
    rows = list(load_workbook(io.BytesIO(rejected.data)).active.iter_rows(values_only=True))
    assert rows[0][-1] == "原因" and len(rows) == 4 and all(r[-1] for r in rows[1:])
    r = town.post(start, {**form, "stage": "import"}, csrf_from=start)
    assert r.status_code == 302
    assert town.get(f"{start}/{token}/progress").status_code == 404  # done: cleaned up
    # the mapping is remembered for the district
    again = _upload(town, data, "b.xlsx")
    assert "selected>身份证号" in again.replace('<option value="身份证号" ', "")
    # the import is one audited event with its counts, and its rows are change requests
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.register.models import ChangeRequest
    from portal.tenancy import scope

    with fresh_app.app_context(), scope.tenant_scope(tenant_id(fresh_app, "kaifeng")):
        event = db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.action == "register_import")
        ).scalar_one()
        assert '"imported": 47' in event.changes and '"rejected": 3' in event.changes
        batch = event.entity_id
        assert (
            db.session.execute(
                sa.select(sa.func.count()).where(ChangeRequest.batch == batch)
            ).scalar()
            == 47
        )
        db.session.remove()
    health = login_as("kaifeng-health", fresh_app)
    queue = health.get("/t/kaifeng/register/requests").get_data(as_text=True)
    assert f"整批确认导入 {batch}（47 条申请）" in queue
    r = health.post(
        f"/t/kaifeng/register/batches/{batch}/confirm", {}, csrf_from="/t/kaifeng/register/requests"
    )
    assert r.status_code == 302
    lead = login_as("kaifeng-lead", fresh_app)
    found = lead.get("/t/kaifeng/register/?q=导入1").get_data(as_text=True)
    assert "导入1" in found and "示例街道一" in found
    household = re.search(r'href="(/t/kaifeng/register/households/[0-9a-f-]+)"', found).group(1)
    detail = lead.get(household).get_data(as_text=True)
    assert "**********" in detail and not [i for i in ids if i in detail]
    # search by the exact ID number: posted, then only its blind index is in the URL
    r = lead.post("/t/kaifeng/register/search", {"q": ids[2]}, csrf_from="/t/kaifeng/register/")
    assert r.status_code == 302 and ids[2] not in r.location and "idx=" in r.location
    by_id = lead.get(r.location).get_data(as_text=True)
    assert by_id.count('data-household="') == 1 and ids[2] not in by_id
    stored, _phones = demo_plaintexts(fresh_app)
    assert ids[2] in stored and ids[7] not in stored  # sheet row 5 (its spouse too) was rejected


def test_a_file_that_is_not_xlsx_is_refused_in_chinese(fresh_app, login_as) -> None:  # type: ignore[no-untyped-def]
    town = login_as("kaifeng-town1", fresh_app)
    start = "/t/kaifeng/register/import"
    r = town.post(
        start,
        {"stage": "upload", "file": (io.BytesIO(b"not excel"), "x.xlsx")},
        csrf_from=start,
        content_type="multipart/form-data",
    )
    assert r.status_code == 400 and "文件不是 Excel 工作簿" in r.get_data(as_text=True)
    r = town.post(start, {"stage": "preview", "token": "../../etc/passwd"}, csrf_from=start)
    assert r.status_code == 400


def test_import_reuses_the_preview_and_rechecks_only_the_register(
    fresh_app, login_as, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The import step takes the preview's checked rows (no second check of every row)
    but asks the register again: an ID that entered it meanwhile is rejected then."""
    from portal.register import importing, pii, proposals

    data, ids = sheet()
    town = login_as("kaifeng-town1", fresh_app)
    start = "/t/kaifeng/register/import"
    page = _upload(town, data)
    token = re.search(r'name="token" value="([0-9a-f]{32})"', page).group(1)
    form = {
        "token": token,
        "map_village": "村居",
        "map_category": "类别",
        "map_name": "姓名",
        "map_id_number": "身份证号",
        "map_phone": "联系电话",
        "map_spouse_name": "配偶姓名",
        "map_spouse_id_number": "配偶身份证号",
        "map_address": "家庭住址",
    }
    preview = town.post(start, {**form, "stage": "preview"}, csrf_from=start)
    assert "47 行有效" in preview.get_data(as_text=True)

    def no_second_check(*_a, **_k):  # type: ignore[no-untyped-def]
        raise AssertionError("the import step checked every row again")

    with fresh_app.app_context():
        meanwhile = {pii.blind_index(ids[0], "id_number")}  # row 2's woman, now registered
    monkeypatch.setattr(importing, "validate", no_second_check)
    monkeypatch.setattr(proposals, "id_indexes_taken", lambda idx: meanwhile & set(idx))
    r = town.post(start, {**form, "stage": "import"}, csrf_from=start)
    assert r.status_code == 302
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.tenancy import scope

    with fresh_app.app_context(), scope.tenant_scope(tenant_id(fresh_app, "kaifeng")):
        event = db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.action == "register_import")
        ).scalar_one()
        assert '"imported": 46' in event.changes and '"rejected": 4' in event.changes
        db.session.remove()

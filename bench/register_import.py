"""Time a 10,000-row register import, validated and written, through the import page
(upload → check every row → import the valid rows), with its floor in the same run.

    PYTHONPATH=$PWD .venv/bin/python -m bench.register_import --db bench_register_300 [--rows 10000]

The town officer of the measured district (`bench.seed_register`) uploads a synthetic
名册 of ROWS households (two members each, valid-checksum IDs that belong to no one,
0.5 % of rows broken: bad check digit or unknown village). Timed with the Flask test
client in-process; the progress file the page polls is read during the run to show it
moves. The floor, same process, same sheet: openpyxl reading the sheet (what any import
must do) plus one set-based INSERT of as many bare change-request rows, rolled back (no
ORM, no encryption, no audit). The machine is shared: the load average is recorded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import re
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
HEADINGS = ["村居", "类别", "姓名", "身份证号", "联系电话", "配偶姓名", "配偶身份证号", "家庭住址"]


def sheet_row(i: int, village: str, category: str, woman: str, man: str) -> list[str]:
    """Household `i` of a synthetic 名册 in HEADINGS' order (the tests' sheets use it too)."""
    return [village, category, f"导入{i}", woman, "13700000000", f"配偶{i}", man, f"{village}{i}号"]


def build_sheet(villages: list[str], rows: int, seed: str = "import-bench") -> bytes:
    from openpyxl import Workbook

    from portal.register.demo import IdMaker

    rng = random.Random(seed)
    ids = IdMaker(f"{460000 + rng.randrange(100, 999):06d}", rng)  # no seeded district uses 46xxxx
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(HEADINGS)
    for i in range(rows):
        born = dt.date(1950 + i % 27, 1 + i % 12, 1 + i % 28)
        woman, man = ids.make(born, True), ids.make(born - dt.timedelta(days=700), False)
        village = villages[i % len(villages)]
        if i % 200 == 3:
            woman = woman[:-1] + ("0" if woman[-1] != "0" else "1")  # bad check digit
        if i % 200 == 5:
            village = "不存在的村"
        ws.append(sheet_row(i, village, "失独" if i % 3 else "伤残", woman, man))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="bench_register_300")
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--slug", default=None)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "register_import.json"))
    args = ap.parse_args()

    from openpyxl import load_workbook

    from bench.register_bench import bench_app
    from bench.run import sign_in
    from portal.extensions import db

    owner_url, ctx, app = bench_app(args.db, args.slug)
    owner = sa.create_engine(owner_url)
    with owner.connect() as c:
        villages = list(
            c.execute(
                sa.text(
                    "SELECT name FROM areas WHERE tenant_id = :t AND parent_id = :p ORDER BY name"
                ),
                {"t": ctx["tenant_id"], "p": ctx["register_town_id"]},
            ).scalars()
        )
    data = build_sheet(villages, args.rows)
    client = sign_in(app, ctx["town"])
    base = f"/t/{ctx['slug']}/register/import"
    page = client.get(base).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    out: dict[str, Any] = {
        "db": args.db,
        "slug": ctx["slug"],
        "rows": args.rows,
        "bytes": len(data),
        "load_average_start": os.getloadavg(),
        "stages": {},
    }
    seen_progress: list[dict] = []

    def watch(token: str, stop: threading.Event) -> None:
        poller = sign_in(app, ctx["town"])
        while not stop.is_set():
            r = poller.get(f"{base}/{token}/progress")
            if r.status_code == 200:
                seen_progress.append(r.get_json())
            stop.wait(2.0)  # a poll every 2 s (the poller shares this process)

    def post(stage: str, form: dict) -> tuple[Any, float]:
        t0 = time.perf_counter()
        r = client.post(base, data={"csrf_token": csrf, "stage": stage, **form})
        return r, time.perf_counter() - t0

    r, t_upload = post("upload", {"file": (io.BytesIO(data), "名册.xlsx")})
    body = r.get_data(as_text=True)
    token = re.search(r'name="token" value="([0-9a-f]{32})"', body).group(1)
    mapping = {
        f"map_{f}": h
        for f, h in zip(
            [
                "village",
                "category",
                "name",
                "id_number",
                "phone",
                "spouse_name",
                "spouse_id_number",
                "address",
            ],
            HEADINGS,
            strict=True,
        )
    }
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(token, stop), daemon=True)
    watcher.start()
    r, t_check = post("preview", {"token": token, **mapping})
    body = r.get_data(as_text=True)
    counts = re.search(r'id="import-counts">([^<]+)<', body).group(1)
    r, t_write = post("import", {"token": token, **mapping})
    stop.set()
    watcher.join()
    assert r.status_code == 302, r.status_code
    out["stages"] = {
        "upload_s": round(t_upload, 2),
        "check_every_row_s": round(t_check, 2),
        "import_valid_rows_s": round(t_write, 2),
        "validated_and_written_s": round(t_check + t_write, 2),
        "total_s": round(t_upload + t_check + t_write, 2),
    }
    out["preview_counts"] = counts
    out["progress_polls"] = len(seen_progress)
    out["progress_samples"] = seen_progress[:: max(1, len(seen_progress) // 8)]
    # the floor: read the sheet, insert as many bare rows set-based, roll back
    t0 = time.perf_counter()
    wb = load_workbook(io.BytesIO(data), read_only=True)
    rows = list(wb.active.iter_rows(values_only=True))[1:]
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    with owner.connect() as c, c.begin() as tx:
        c.execute(
            sa.text(
                "INSERT INTO change_requests (tenant_id, id, kind, status, town_id, summary, payload, "
                "evidence_note, batch, proposed_by_name, proposed_at, decided_by_name, reason, changes, "
                "row_version) VALUES (:t, :id, 'enrol', 'pending', :w, :s, :p, '', 'floor', '', now(), '', '', '{}', 1)"
            ),
            [
                {
                    "t": ctx["tenant_id"],
                    "id": uuid.uuid4(),
                    "w": ctx["register_town_id"],
                    "s": str(r[2]),
                    "p": json.dumps({"members": [r[2], r[5]]}, ensure_ascii=False),
                }
                for r in rows
            ],
        )
        tx.rollback()
    t_insert = time.perf_counter() - t0
    out["floor"] = {
        "read_sheet_s": round(t_read, 2),
        "bare_insert_s": round(t_insert, 2),
        "total_s": round(t_read + t_insert, 2),
    }
    out["ratio_vs_floor"] = round(
        out["stages"]["validated_and_written_s"] / out["floor"]["total_s"], 2
    )
    out["load_average_end"] = os.getloadavg()
    print(json.dumps(out, ensure_ascii=False, indent=1, default=str))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    with app.app_context():
        db.engine.dispose()
    owner.dispose()


if __name__ == "__main__":
    main()

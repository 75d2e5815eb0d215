"""The audit viewer's variants timed like bench/run.py's pages: each sort, the Chinese
search and the person filter, as the district lead, in-process, with statements per view.

    BENCH_DB_PREFIX=audit_ PYTHONPATH=$PWD .venv/bin/python bench/audit_pages.py --scales 10,300

bench/run.py measures one audit page ("audit viewer, filtered") against its Flask-Admin
floor; this adds the sorts and searches the viewer offers (issue 13/15) on the same data.
Writes bench/results/audit-pages-latest.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VARIANTS = [
    ("newest first", ""),
    ("filtered (run.py's page)", "action=update&department={department_id}"),
    ("by person", "sort=actor"),
    ("by action, Z→A", "sort=action&dir=desc"),
    ("by record type", "sort=record_type"),
    ("oldest first, 100 rows", "sort=time&per_page=100"),
    ("search 签报", "q=签报"),
    ("search 签报, by person", "q=签报&sort=actor"),
    ("person's name", "actor={officer_name}"),
]


def main() -> None:
    import sqlalchemy as sa

    from bench.run import BenchDB, Setup, summarize, timed_gets
    from portal.extensions import db

    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", default="10,300")
    ap.add_argument("--requests", type=int, default=100)
    args = ap.parse_args()
    results: dict[str, dict[int, dict]] = {}
    for scale in (int(s) for s in args.scales.split(",")):
        st = Setup(BenchDB("postgres", scale), print)
        with st.app.app_context():
            name = db.session.execute(
                sa.text("SELECT display_name FROM users WHERE username = :u"),
                {"u": st.ctx["officer"]},
            ).scalar()
        values = {**st.ctx, "officer_name": name}
        client = st.clients["lead"]
        for label, query in VARIANTS:
            path = f"/t/{st.ctx['slug']}/audit/?" + query.format(**values)
            status, samples, _size = timed_gets(client, path, args.requests, 10)
            before = st.counter.n
            client.get(path)
            statements = st.counter.n - before
            cpu0 = time.process_time()
            for _ in range(20):
                client.get(path)
            cpu = (time.process_time() - cpu0) / 20 * 1000
            row = {**summarize(samples), "status": status, "queries": statements, "cpu_ms": cpu}
            results.setdefault(label, {})[scale] = row
            print(f"  @{scale} {label}: {row}", flush=True)
        st.close()
    out = ROOT / "bench" / "results" / "audit-pages-latest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    scales = sorted({s for r in results.values() for s in r})
    print(
        "| variant | " + " | ".join(f"p50 / p95 ms @{s}" for s in scales) + " | CPU ms | queries |"
    )
    print("|---|" + "---|" * (len(scales) + 2))
    for label, by_scale in results.items():
        cells = [f"{by_scale[s]['p50']} / {by_scale[s]['p95']}" for s in scales]
        last = by_scale[scales[-1]]
        print(
            f"| {label} | " + " | ".join(cells) + f" | {last['cpu_ms']:.1f} | {last['queries']} |"
        )


if __name__ == "__main__":
    main()

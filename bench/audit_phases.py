"""Thread CPU per request of one audit page against its floor, split by the view's steps.

    PYTHONPATH=$PWD .venv/bin/python bench/audit_phases.py "audit viewer, search 签报" 300 150

Uses the database `bench/run.py` made (`bench_<scale>`, no seeding). Times N portal and
floor requests alternately, twice, after a warm-up, and the thread CPU spent inside the
view's steps (names look-up, page statement, presenting, rendering): where the portal's
extra cost over the floor goes, without a profiler's own overhead.
"""

from __future__ import annotations

import collections
import gc
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from bench.pages import PAGES
    from bench.run import BenchDB, Setup
    from portal.audit import display, paging, services, views

    name, scale, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    page = next(p for p in PAGES if p.name == name)
    st = Setup(BenchDB("postgres", scale), print)
    client = st.clients[page.role]
    path = page.path.format(**st.ctx)
    floor = f"/floor/{page.floor}/"
    spent: collections.Counter[str] = collections.Counter()

    def timed(module: Any, attr: str, label: str) -> None:
        inner = getattr(module, attr)

        def wrapper(*a: Any, **k: Any) -> Any:
            t = time.thread_time()
            try:
                return inner(*a, **k)
            finally:
                spent[label] += time.thread_time() - t

        setattr(module, attr, wrapper)

    for module, attr in (
        (services, "filtered"),
        (services, "resolve"),
        (paging, "page"),
        (display, "present"),
        (display.Names, "__init__"),
        (views, "render_template"),
        (views, "_list"),
    ):
        timed(module, attr, f"{getattr(module, '__name__', '')}.{attr}")
    for _ in range(30):
        client.get(path)
        st.floor.get(floor)
    gc.collect()
    gc.freeze()
    for round_ in (1, 2):
        spent.clear()
        mine = theirs = 0.0
        for _ in range(n):
            t = time.thread_time()
            client.get(path)
            mine += time.thread_time() - t
            t = time.thread_time()
            st.floor.get(floor)
            theirs += time.thread_time() - t
        print(
            f"round {round_}: portal {1000 * mine / n:.2f} ms, floor {1000 * theirs / n:.2f} ms "
            f"CPU per request, ratio {mine / theirs:.2f}"
        )
        for label, seconds in spent.items():
            print(f"    {label:40s} {1000 * seconds / n:.2f} ms")
    rows = client.get(path).get_data(as_text=True).count("<tr data-seq")
    print(f"portal rows shown: {rows}")
    st.close()


if __name__ == "__main__":
    main()

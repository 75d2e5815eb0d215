"""Officers and leads of many districts signing in and working (run by bench/loadtest.py).

One mix for both targets, so the portal and its floor get the same offered load:
BENCH_TARGET=portal (default) drives the portal's pages; BENCH_TARGET=floor drives the
bare equivalents in bench/floor.py (the same sign-in with the same argon2 hash, the same
share of list and detail reads, a bare insert for each progress entry written).
BENCH_READ_ONLY=1 replaces every write by a read of the same page (the read-only mix).

Environment: BENCH_TENANTS (districts seeded by `python -m bench.seed_scale`), BENCH_ROUTES
(comma list of route groups on this build: home, duties, audit, meetings), BENCH_PASSWORD.
"""

from __future__ import annotations

import functools
import json
import os
import random
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser

ROOT = Path(__file__).resolve().parent.parent
TENANTS = int(os.environ.get("BENCH_TENANTS", "2800"))
ROUTES = set(os.environ.get("BENCH_ROUTES", "home").split(","))
PASSWORD = os.environ.get("BENCH_PASSWORD", "Bench-2026-pass")
TEMPLATE = os.environ.get("BENCH_TEMPLATE", "jiangyan")
DEPARTMENTS = [
    d["key"]
    for d in yaml.safe_load((ROOT / "tenants" / f"{TEMPLATE}.yaml").read_text(encoding="utf-8"))[
        "departments"
    ]
]
FLOOR = os.environ.get("BENCH_TARGET", "portal") == "floor"
READ_ONLY = os.environ.get("BENCH_READ_ONLY", "") == "1"
# The floor's stand-in for each portal page (bench/floor.py); the floor lists the middle
# district's rows whichever district the simulated user belongs to.
FLOOR_PAGES = {
    "home": "/floor/period_duties/",
    "duties": "/floor/officer_duties/",
    "duty": "/floor/duty_entries/",
    "audit": "/floor/audit_filtered/",
    "review": "/floor/review_queue/",
    "meetings": "/floor/period_duties/",
}
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ROW_VERSION = re.compile(r'name="row_version" value="(\d+)"')
DUTY_LINK = re.compile(r'/t/[a-z0-9-]+/duties/([0-9a-f-]{36})"')
MEETING_LINK = re.compile(r'/t/[a-z0-9-]+/meetings/([0-9a-f-]{36})"')


# Sign-ins are counted here too: the locust table is reset when the last of the run's
# users has signed in (`_signed_in`), so it covers the steady state, and this keeps the
# sign-in storm's record. (Locust's own --reset-stats resets when the last user is
# spawned, which is before the spawned users' sign-ins have got through the hashing
# gate: its table held the storm's first seconds or more.) BENCH_STORM=1 keeps the
# storm in the table (no reset here).
# A sign-in answered 503 + Retry-After (the password-hashing gate is full) is sent again
# after Retry-After, as the sign-in page's script does (portal/static/signin.js, whose
# header it sends: the refusal is the script's short answer), up to this many times; the
# retries are counted.
SIGN_IN_ATTEMPTS = 40  # as many as the sign-in page's script (portal/static/signin.js)
SIGN_INS: dict = {"ok": 0, "failed": 0, "retries_after_503": 0, "ms": [], "all_in_s": None}
STARTED = time.perf_counter()
# Every answer as (wall-clock end, ms, failed) when BENCH_TIMELINE names a file: run side by
# side (`loadtest.py --against-floor`), the portal's and the floor's answers are counted over
# the same seconds of the same machine, whichever one's sign-ins ended first.
TIMELINE: list[tuple[float, float, bool]] = []


@events.request.add_listener
def _on_answer(response_time, exception, **kw) -> None:  # type: ignore[no-untyped-def]
    TIMELINE.append((time.time(), response_time, exception is not None))


@events.test_stop.add_listener
def _write_sign_ins(environment, **kw) -> None:  # type: ignore[no-untyped-def]
    path = os.environ.get("BENCH_SIGN_IN_STATS")
    if path:
        ms = sorted(SIGN_INS["ms"])
        Path(path).write_text(
            json.dumps(
                {
                    "ok": SIGN_INS["ok"],
                    "failed": SIGN_INS["failed"],
                    "retries_after_503": SIGN_INS["retries_after_503"],
                    "p50_ms": ms[len(ms) // 2] if ms else None,
                    "p95_ms": ms[int(len(ms) * 0.95)] if ms else None,
                    "all_signed_in_after_s": SIGN_INS["all_in_s"],
                    "all_signed_in_at": SIGN_INS.get("all_in_at"),
                }
            )
        )
    timeline = os.environ.get("BENCH_TIMELINE")
    if timeline:
        Path(timeline).write_text(json.dumps(TIMELINE))


class Worker(FastHttpUser):
    abstract = True
    wait_time = between(0.2, 1.0)
    role = ""

    def username(self) -> str:
        raise NotImplementedError

    def on_start(self) -> None:
        self.slug = f"scale-{random.randint(1, TENANTS):05d}"
        started = time.perf_counter()
        page = self.client.get("/login", name="/login").text
        token = CSRF.search(page or "")
        form = {
            "username": self.username(),
            "password": PASSWORD,
            "csrf_token": token.group(1) if token else "",
        }
        for attempt in range(1, SIGN_IN_ATTEMPTS + 1):
            with self.client.post(
                "/login",
                data=form,
                headers={"X-Portal-Sign-In": "script"},
                name="/login [POST]",
                allow_redirects=False,
                catch_response=True,
            ) as r:
                if r.status_code == 503 and attempt < SIGN_IN_ATTEMPTS:
                    # "Many people are signing in": the page waits Retry-After, sends again.
                    r.success()
                    SIGN_INS["retries_after_503"] += 1
                    pause = float(r.headers.get("Retry-After") or 1)
                else:
                    if r.status_code != 302:
                        r.failure(f"sign-in {self.username()} -> {r.status_code}")
                        SIGN_INS["failed"] += 1
                    else:
                        r.success()
                        SIGN_INS["ok"] += 1
                    SIGN_INS["ms"].append(round((time.perf_counter() - started) * 1000))
                    break
            time.sleep(pause)
        self._signed_in()
        self.duties: list[str] = []
        self.meetings: list[str] = []

    def _signed_in(self) -> None:
        """The last of the run's users through its sign-in resets the table: what follows
        is the steady state the p95 is read from."""
        runner = self.environment.runner
        wanted = getattr(runner, "target_user_count", None) or 0
        if SIGN_INS["ok"] + SIGN_INS["failed"] == wanted and SIGN_INS["all_in_s"] is None:
            SIGN_INS["all_in_s"] = round(time.perf_counter() - STARTED, 1)
            SIGN_INS["all_in_at"] = time.time()
            if os.environ.get("BENCH_STORM", "") != "1":
                runner.stats.reset_all()

    def get(self, path: str, name: str) -> str:
        r = self.client.get(path, name=name)
        return r.text or ""

    def page(self, kind: str, path: str, name: str) -> str:
        """A portal page, or its floor stand-in under BENCH_TARGET=floor."""
        if FLOOR:
            return self.get(FLOOR_PAGES[kind], FLOOR_PAGES[kind])
        return self.get(path, name)

    def district_page(self, kind: str, tail: str) -> str:
        """A page of the worker's district (`/t/<slug>/<tail>`), named `/t/[slug]/<tail>`."""
        return self.page(kind, f"/t/{self.slug}/{tail}", f"/t/[slug]/{tail}")

    def home(self) -> None:
        self.district_page("home", "")


def in_mix(group: str) -> Callable[[Callable[[Any], None]], Callable[[Any], None]]:
    """A task of a route group this run leaves out (BENCH_ROUTES) visits the home page."""

    def wrap(fn: Callable[[Any], None]) -> Callable[[Any], None]:
        @functools.wraps(fn)
        def run(self: Any) -> None:
            return self.home() if group not in ROUTES else fn(self)

        return run

    return wrap


class Officer(Worker):
    weight = 3

    def username(self) -> str:
        key = random.choice(DEPARTMENTS).replace("_", "-")
        return f"{self.slug}-{key}-{random.randint(1, 3)}"

    @task(3)
    @in_mix("duties")
    def duty_list(self) -> None:
        text = self.district_page("duties", "duties/")
        self.duties = (["floor"] if FLOOR else DUTY_LINK.findall(text)) or self.duties

    @task(4)
    def duty_detail(self) -> None:
        if "duties" not in ROUTES or not self.duties:
            return self.duty_list()
        duty = random.choice(self.duties)
        self.page("duty", f"/t/{self.slug}/duties/{duty}", "/t/[slug]/duties/[id]")
        return None

    @task(1)
    def log_progress(self) -> None:
        if "duties" not in ROUTES or not self.duties:
            return self.home()
        if READ_ONLY:
            return self.duty_detail()
        duty = random.choice(self.duties)
        page = self.page("duty", f"/t/{self.slug}/duties/{duty}", "/t/[slug]/duties/[id]")
        token = CSRF.search(page)
        if not FLOOR and (not token or "/entries" not in page):
            return None
        with self.client.post(
            "/floor/entries" if FLOOR else f"/t/{self.slug}/duties/{duty}/entries",
            data={
                "csrf_token": token.group(1) if token else "",
                "row_version": version.group(1) if (version := ROW_VERSION.search(page)) else "",
                "work_date": "2026-11-20",
                "narrative": "负载测试：电话回访特殊家庭一户。",
                "families_reached": "1",
                "amount_paid": "0",
            },
            name="/t/[slug]/duties/[id]/entries [POST]",
            allow_redirects=False,
            catch_response=True,
        ) as r:
            if r.status_code in (302, 303):
                r.success()
            else:
                r.failure(f"entry -> {r.status_code}")
        return None

    @task(1)
    def home(self) -> None:
        super().home()


class Lead(Worker):
    weight = 1

    def username(self) -> str:
        return f"{self.slug}-lead"

    @task(3)
    def home(self) -> None:
        super().home()

    @task(2)
    @in_mix("audit")
    def audit(self) -> None:
        self.district_page("audit", "audit/?action=update")

    @task(2)
    @in_mix("duties")
    def review(self) -> None:
        self.district_page("review", "duties/review")

    @task(1)
    @in_mix("meetings")
    def meeting(self) -> None:
        if FLOOR:
            self.page("meetings", "", "")
            return None
        if not self.meetings:
            self.meetings = MEETING_LINK.findall(
                self.get(f"/t/{self.slug}/meetings/", "/t/[slug]/meetings/")
            )
            return None
        self.get(
            f"/t/{self.slug}/meetings/{random.choice(self.meetings)}", "/t/[slug]/meetings/[id]"
        )
        return None

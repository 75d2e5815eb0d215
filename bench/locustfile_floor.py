"""The load test's floor run: the same load generator and think times as
bench/locustfile.py, against the bare Flask-Admin lists of bench/floor_wsgi.py."""

from __future__ import annotations

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser


class FloorReader(FastHttpUser):
    wait_time = between(0.2, 1.0)

    @task(3)
    def officer_duties(self) -> None:
        self.client.get("/floor/officer_duties/", name="/floor/officer_duties/")

    @task(4)
    def duty_entries(self) -> None:
        self.client.get("/floor/duty_entries/", name="/floor/duty_entries/")

    @task(3)
    def period_duties(self) -> None:
        self.client.get("/floor/period_duties/", name="/floor/period_duties/")

    @task(2)
    def audit(self) -> None:
        self.client.get("/floor/audit_filtered/", name="/floor/audit_filtered/")

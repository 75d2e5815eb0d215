"""The duty list and the duty page run a fixed number of SQL statements, whatever the
number of duties, entries, evidence files and history records."""

from __future__ import annotations

import re

from portal.duties import operations, storage
from portal.duties.models import Duty, DutyStatus
from portal.extensions import db
from portal.kernel import memo
from portal.kernel.clock import today
from tests.conftest import statements
from tests.duties.helpers import district, duty_in, user

BASE = "/t/kaifeng/duties"


def _statements(app, b, path: str) -> int:  # type: ignore[no-untyped-def]
    """The page's statements with nothing kept (`kernel.memo`): the worst case."""
    memo.forget()
    with statements(app) as seen:
        r = b.get(path)
    assert r.status_code == 200, path
    return len(seen)


def test_duty_page_statements_do_not_grow(fresh_app, login_as, tmp_path) -> None:  # type: ignore[no-untyped-def]
    fresh_app.config["UPLOAD_DIR"] = str(tmp_path)
    with district(fresh_app, "kaifeng"):
        duty = duty_in(DutyStatus.in_progress)
        duty_id = duty.id
    people = {
        who: login_as(name, fresh_app)
        for who, name in (
            ("officer", "kaifeng-civil-affairs"),
            ("lead", "kaifeng-lead"),
            ("auditor", "kaifeng-auditor"),
        )
    }
    url = f"{BASE}/{duty_id}"
    before = {who: _statements(fresh_app, b, url) for who, b in people.items()}
    lists = {who: _statements(fresh_app, b, f"{BASE}/") for who, b in people.items()}
    with district(fresh_app, "kaifeng"):
        officer = user("kaifeng-civil-affairs")
        duty = db.session.get(Duty, (officer.tenant_id, duty_id))
        for k in range(8):
            operations.add_entry(
                duty,
                officer,
                operations.EntryInput(min(today(), duty.due_date), f"第{k}次走访", k, "0"),
                [storage.Upload(f"台账{k}.pdf", b"%PDF-1.4 x"), storage.Upload(f"{k}.txt", b"ok")],
                expected_version=duty.row_version,
            )
        db.session.commit()
    after = {who: _statements(fresh_app, b, url) for who, b in people.items()}
    page = people["officer"].get(url).get_data(as_text=True)
    assert len(re.findall(r"/duties/evidence/", page)) >= 16
    assert after == before, (before, after)
    # the page's statements (the duty; its entries, files and history in one), the RLS
    # settings, the signed-in user, and the shell's badge counts (待审核, 被退回, 督办,
    # unread messages: one small count each, cached per request)
    assert max(after.values()) <= 9, after
    assert max(lists.values()) <= 12, lists
    print(f"\nduty page statements: {after}; duty list statements: {lists}")

"""The accounts service: one set of rules whichever door is used (issue 12), and the
password rules of issue 19 (common and re-used passwords refused)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import DEMO_PASSWORD, Browser


def _user(username: str):  # type: ignore[no-untyped-def]
    from portal.auth.models import User
    from portal.extensions import db

    return db.session.execute(sa.select(User).filter_by(username=username)).scalar_one()


def _tenant(slug: str):  # type: ignore[no-untyped-def]
    from portal.tenancy.services import get_tenant

    return get_tenant(slug)


def test_create_user_rules_hold_for_every_caller(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.auth import operations
    from portal.kernel.grants import SYSTEM
    from portal.kernel.rules import RuleError

    with fresh_app.app_context():
        kaifeng = _tenant("kaifeng")
        lead = _user("kaifeng-lead")
        officer = _user("kaifeng-civil-affairs")
        cases = [
            (lead, {"username": "a b", "role": "auditor"}, "username"),
            (lead, {"username": "kaifeng-auditor", "role": "auditor"}, "username"),
            (lead, {"username": "kf-op", "role": "platform_operator"}, "role"),
            (lead, {"username": "kf-off", "role": "dept_officer"}, "department"),
            (
                lead,
                {"username": "kf-off", "role": "dept_officer", "department_key": "x"},
                "department",
            ),
        ]
        for actor, kw, field in cases:
            with pytest.raises(RuleError) as refused:
                operations.create_user(actor, tenant=kaifeng, **kw)
            assert refused.value.field == field, kw
        with pytest.raises(RuleError):  # an officer manages no accounts
            operations.create_user(officer, tenant=kaifeng, username="kf-x", role="auditor")
        with pytest.raises(RuleError) as weak:  # the CLI's chosen password meets the policy
            operations.create_user(
                SYSTEM, tenant=kaifeng, username="kf-weak", role="auditor", password="password123"
            )
        assert weak.value.field == "password"
        made = operations.create_user(
            lead,
            tenant=kaifeng,
            username="kf-new",
            role="dept_officer",
            department_key="civil_affairs",
        )
        assert made.temporary_password and made.user.must_change_password
        assert made.user.department_id == officer.department_id


def test_users_create_command_checks_username_and_duplicates(fresh_app) -> None:  # type: ignore[no-untyped-def]
    runner = fresh_app.test_cli_runner()
    base = ["users", "create", "--role", "auditor", "--tenant", "kaifeng"]
    pw = ["--password", "Cli-pass-2026!x"]
    r = runner.invoke(args=[*base, "bad name", *pw])
    assert r.exit_code != 0 and "用户名" in r.output
    r = runner.invoke(args=[*base, "kaifeng-lead", *pw])
    assert r.exit_code != 0 and "已存在" in r.output
    r = runner.invoke(args=[*base, "kf-cli-auditor", *pw])
    assert r.exit_code == 0, r.output
    assert Browser(fresh_app).login("kf-cli-auditor", "Cli-pass-2026!x").status_code == 302


def test_session_version_moves_in_one_place() -> None:
    """`session_version += 1` lives only in operations.revoke_sessions."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "portal"
    bumps = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if re.search(r"session_version\s*(\+=|=\s*\(?\s*\w+\.session_version)", p.read_text())
    ]
    assert bumps == ["auth/operations.py"], bumps


def test_back_office_role_change_uses_the_same_rules(fresh_app) -> None:  # type: ignore[no-untyped-def]
    import re

    lead = Browser(fresh_app)
    assert lead.login("kaifeng-lead").status_code == 302
    with fresh_app.app_context():
        auditor = _user("kaifeng-auditor")
        own = _user("kaifeng-lead")
        version = auditor.session_version
    edit = f"/t/kaifeng/admin/users/edit/?id={auditor.id}"
    page = lead.get(edit).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    def save(path: str, display_name: str, role: str, **active: str) -> Any:
        data = {"csrf_token": token, "display_name": display_name, "role": role, **active}
        return lead.client.post(path, data={**data, "department_id": ""}, follow_redirects=True)

    # an officer without a department is refused, with the service's message
    r = save(edit, "审计", "dept_officer", active="y")
    assert "请为部门经办人选择一个启用的部门" in r.get_data(as_text=True)
    with fresh_app.app_context():
        assert _user("kaifeng-auditor").role.value == "auditor"
    # a lead cannot change their own role
    own_edit = f"/t/kaifeng/admin/users/edit/?id={own.id}"
    r = save(own_edit, "x", "auditor", active="y")
    with fresh_app.app_context():
        assert _user("kaifeng-lead").role.value == "district_lead"
    # deactivation through the back office ends the account's sessions
    r = lead.client.post(
        edit,
        data={"csrf_token": token, "display_name": "审计", "role": "auditor", "department_id": ""},
    )
    assert r.status_code == 302
    with fresh_app.app_context():
        changed = _user("kaifeng-auditor")
        assert changed.active is False and changed.session_version == version + 1


def test_reset_and_deactivate_need_a_recent_password(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """Issue 19: POST /t/S/users/<id>/reset and /active asked for no re-authentication."""
    lead = Browser(fresh_app)
    assert lead.login("kaifeng-lead").status_code == 302
    with lead.client.session_transaction() as s:
        s["reauth_at"] = 0
    with fresh_app.app_context():
        uid = _user("kaifeng-auditor").id
    users = "/t/kaifeng/users"
    for path, data in ((f"{users}/{uid}/reset", {}), (f"{users}/{uid}/active", {"active": "0"})):
        r = lead.post(path, data, csrf_from=users)
        assert r.status_code == 302 and "/account/reauth" in r.headers["Location"]
    with fresh_app.app_context():
        assert _user("kaifeng-auditor").active
    assert Browser(fresh_app).login("kaifeng-auditor").status_code == 302
    r = lead.post("/account/reauth", {"password": DEMO_PASSWORD})
    assert r.status_code == 302
    r = lead.post(f"{users}/{uid}/active", {"active": "0"}, csrf_from=users)
    assert r.status_code == 302 and r.headers["Location"].endswith(users)
    with fresh_app.app_context():
        assert not _user("kaifeng-auditor").active


def test_common_and_previously_used_passwords_are_refused(fresh_app) -> None:  # type: ignore[no-untyped-def]
    b = Browser(fresh_app)
    assert b.login("kaifeng-auditor").status_code == 302

    def change(current: str, new: str):  # type: ignore[no-untyped-def]
        return b.post(
            "/account/password", {"current_password": current, "new_password": new, "confirm": new}
        )

    r = change(DEMO_PASSWORD, "password123")
    assert r.status_code == 400 and "太常见" in r.get_data(as_text=True)
    r = change(DEMO_PASSWORD, DEMO_PASSWORD)  # the same again
    assert r.status_code == 400 and "用过" in r.get_data(as_text=True)
    assert change(DEMO_PASSWORD, "Second-pass-2026!").status_code == 302
    r = change("Second-pass-2026!", DEMO_PASSWORD)  # an earlier one
    assert r.status_code == 400 and "用过" in r.get_data(as_text=True)
    assert change("Second-pass-2026!", "Third-pass-2026!").status_code == 302
    assert Browser(fresh_app).login("kaifeng-auditor", "Third-pass-2026!").status_code == 302


def test_accounts_platform_and_tenancy_never_commit() -> None:
    """Services never commit (issue 12): the request, the CLI's cli_transaction or Flask-Admin
    do. The one exception is the record of a refused sign-in (its request is rolled back)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "portal"
    found = []
    for package in ("auth", "platform", "tenancy"):
        for path in (root / package).rglob("*.py"):
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if re.search(r"\.commit\(\)", line):
                    found.append(f"{path.relative_to(root)}:{n}")
    assert found == [f"auth/services.py:{_refusal_commit_line(root)}"], found


def _refusal_commit_line(root) -> int:  # type: ignore[no-untyped-def]
    lines = (root / "auth" / "services.py").read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if "record.commit()" in line)

"""Audit coverage cases of the platform domain (collected by tests/audit/test_coverage.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.audit.coverage import (
    SECRETS,
    Exercise,
    Expect,
    Listed,
    bearer,
    department_id_of,
    download,
    mark,
    marked_post,
    posted,
    signed_in,
    user_id_of,
)


def _set_department_active(app: Any) -> list[Expect]:
    b = signed_in(app, "jiangyan-lead")
    signed_in(app, "jiangyan-lead").post(
        "/t/jiangyan/departments",
        {"key": "coverage_dept2", "kind": "statistics", "name": "覆盖二科"},
    )
    dept = department_id_of(app, "jiangyan", "coverage_dept2")
    marked_post(
        app,
        b,
        f"/t/jiangyan/departments/{dept}/active",
        {"active": "0"},
        csrf_from="/t/jiangyan/departments",
    )
    return [Expect("update", "Department", "jiangyan", entity_id=str(dept), changed={"active"})]


def _create_user(app: Any) -> list[Expect]:
    b = signed_in(app, "jiangyan-lead")
    r = marked_post(
        app,
        b,
        "/t/jiangyan/users",
        {"username": "cov-officer", "display_name": "覆盖", "role": "auditor"},
        csrf_from="/t/jiangyan/users",
        ok=(200,),
    )
    SECRETS.extend(re.findall(r'class="secret"[^>]*>\s*([^<\s]+)', r.get_data(as_text=True)))
    return [
        Expect("create", "User", "jiangyan"),
        Expect("account_created", "User", "jiangyan"),
    ]


def _set_user_active(app: Any) -> list[Expect]:
    b = signed_in(app, "jiangyan-lead")
    uid = user_id_of(app, "jiangyan-auditor")
    mark(app)
    b.post(f"/t/jiangyan/users/{uid}/active", {"active": "0"}, csrf_from="/t/jiangyan/users")
    return [
        Expect(
            "update", "User", "jiangyan", entity_id=str(uid), changed={"active", "session_version"}
        ),
        Expect("account_deactivated", "User", "jiangyan", entity_id=str(uid)),
    ]


def _reset_user_password(app: Any) -> list[Expect]:
    b = signed_in(app, "jiangyan-lead")
    uid = user_id_of(app, "jiangyan-civil-affairs")
    r = marked_post(
        app, b, f"/t/jiangyan/users/{uid}/reset", {}, csrf_from="/t/jiangyan/users", ok=(200,)
    )
    SECRETS.extend(re.findall(r'class="secret"[^>]*>\s*([^<\s]+)', r.get_data(as_text=True)))
    return [
        Expect(
            "update",
            "User",
            "jiangyan",
            entity_id=str(uid),
            changed={
                "password_hash",
                "password_history",
                "must_change_password",
                "session_version",
            },
        ),
        Expect("password_reset", "User", "jiangyan", entity_id=str(uid)),
    ]


def _api_tenant_status(app: Any) -> list[Expect]:
    headers = bearer(app, "operator")
    mark(app)
    r = app.test_client().post(
        "/api/v1/platform/tenants/kaifeng/status",
        json={"action": "suspend", "reason": "coverage"},
        headers=headers,
    )
    assert r.status_code == 200, r.get_json()
    return [
        Expect("update", "Tenant", "platform", changed={"status", "status_changed_at"}),
        Expect("tenant_suspended", "Tenant", "platform"),
    ]


def _platform_create_lead(app: Any) -> list[Expect]:
    b = signed_in(app, "operator")
    r = marked_post(
        app,
        b,
        "/platform/tenants/zhangdian/leads",
        {"username": "zhangdian-lead2", "display_name": "覆盖测试负责人"},
        csrf_from="/platform/tenants/zhangdian",
        ok=(200, 302),
    )
    secret = re.search(r'id="temporary-password">([^<]+)<', r.get_data(as_text=True))
    if secret:
        SECRETS.append(secret.group(1))
    return [
        Expect("create", "User", "zhangdian"),
        Expect("account_created", "User", "zhangdian"),
        Expect("account_created", "User", "platform"),
    ]


def _platform_lead_action(what: str) -> Callable[[Any], list[Expect]]:
    """Deactivate or reset a lead account made for the case (the demo leads stay usable)."""

    def run(app: Any) -> list[Expect]:
        b = signed_in(app, "operator")
        username = f"zhangdian-lead-{what}"
        r = b.post(
            "/platform/tenants/zhangdian/leads",
            {"username": username, "display_name": "覆盖测试负责人"},
            csrf_from="/platform/tenants/zhangdian",
        )
        assert r.status_code in (200, 302), r.get_data(as_text=True)[:800]
        uid = user_id_of(app, username)
        path = f"/platform/tenants/zhangdian/leads/{uid}"
        mark(app)
        if what == "active":
            r = b.post(f"{path}/active", {"active": "0"}, csrf_from="/platform/tenants/zhangdian")
            event, changed = "account_deactivated", {"active", "session_version"}
        else:
            r = b.post(f"{path}/reset", {}, csrf_from="/platform/tenants/zhangdian")
            # (a new lead must change the password already: that flag stays as it was)
            event = "password_reset"
            changed = {"password_hash", "password_history", "session_version"}
            secret = re.search(r'id="temporary-password">([^<]+)<', r.get_data(as_text=True))
            if secret:
                SECRETS.append(secret.group(1))
        assert r.status_code in (200, 302), r.get_data(as_text=True)[:800]
        return [
            Expect("update", "User", "zhangdian", entity_id=str(uid), changed=changed),
            Expect(event, "User", "zhangdian", entity_id=str(uid)),
            Expect(event, "User", "platform"),
        ]

    return run


def _platform_archive(app: Any) -> list[Expect]:
    b = signed_in(app, "operator")
    mark(app)
    r = b.post("/platform/tenants/zhangdian/archive", {}, csrf_from="/platform/tenants/zhangdian")
    assert r.status_code == 200 and r.data[:2] == b"PK", r.status_code
    return [Expect("tenant_archive_exported", "Tenant", "platform")]


#: State-changing routes and API endpoints of this domain.
ROUTES: dict[str, Exercise | Listed] = {
    "api.platform_tenant_status": Exercise(_api_tenant_status),
    "api.platform_onboard": Listed(
        "as platform.onboard_confirm: the new district's rows in its own chain + "
        "tenant_onboarding + tenant_active Tenant (platform chain), actor the operator's token user",
        test="tests/platform/test_api.py::test_operator_api_lists_onboards_and_suspends",
    ),
    "district_admin.create_department": posted(
        "jiangyan-lead",
        "/t/jiangyan/departments",
        {"key": "coverage_dept", "kind": "statistics", "name": "覆盖测试科"},
        Expect("create", "Department", "jiangyan"),
    ),
    "district_admin.set_department_active": Exercise(_set_department_active),
    "district_admin.create_user": Exercise(_create_user),
    "district_admin.set_user_active": Exercise(_set_user_active),
    "district_admin.reset_user_password": Exercise(_reset_user_password),
    "platform.change_status": posted(
        "operator",
        "/platform/tenants/jiading/status",
        {"action": "suspend", "reason": "coverage"},
        Expect("update", "Tenant", "platform", changed={"status", "status_changed_at"}),
        Expect("tenant_suspended", "Tenant", "platform"),
        csrf_from="/platform/tenants/jiading",
    ),
    "platform.onboard_preview": Listed(
        "no event: the preview validates the policy file and writes nothing",
        test="tests/platform/test_console.py",
    ),
    "platform.onboard_confirm": Listed(
        "create Tenant/Department/User/policy rows (new district's chain) + tenant_onboarded "
        "Tenant (platform chain), actor the operator",
        test="tests/platform/test_console.py",
    ),
    "platform.purge": Listed(
        "tenant_purged Tenant (platform chain) with row counts; business rows deleted by "
        "Core statements on purpose (their chain is kept)",
        test="tests/platform/test_lifecycle.py",
    ),
    "platform.download_archive": Exercise(_platform_archive),
    "platform.create_lead": Exercise(_platform_create_lead),
    "platform.set_lead_active": Exercise(_platform_lead_action("active")),
    "platform.reset_lead_password": Exercise(_platform_lead_action("reset")),
}

#: Exports and downloads of this domain.
DOWNLOADS: dict[str, Exercise | Listed] = {
    "platform.export_policy": download(
        "operator",
        "/platform/tenants/zhangdian/policy.yaml",
        Expect("tenant_config_exported", "Tenant", "platform"),
    ),
}

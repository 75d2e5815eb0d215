"""The audit vocabulary: every recorded action is registered, and each filter finds its events
(issue 12: `sign_off`, `review`, `download`, `onboarding`, `suspension` found nothing)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import sqlalchemy as sa

from tests.audit.test_viewer import _events, _ids, _seqs
from tests.conftest import ROOT, Browser, new_api_token


def _literal_actions() -> set[str]:
    """Every action code written as a literal in a `trail.record(…)` or `trail.record_on(…)`
    call of the package (f-strings like f"tenant_{status}" and f"duty.{action}" are covered
    by the trail test)."""
    codes = set()
    for path in (ROOT / "portal").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("record", "record_on")
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
            ):
                codes.add(node.args[1].value)
            # helpers that record on the caller's behalf: (function, index of the code)
            helper = {"record_platform": 0, "_platform_echo": 0, "fail": 1, "_recorded": 1}.get(
                getattr(node.func, "id", "") if isinstance(node, ast.Call) else ""
            )
            if helper is not None and len(node.args) > helper:  # type: ignore[attr-defined]
                arg = node.args[helper]  # type: ignore[attr-defined]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    codes.add(arg.value)
    return codes


def test_every_recorded_action_and_record_type_is_in_the_vocabulary(app) -> None:  # type: ignore[no-untyped-def]
    from portal.audit import trail, vocabulary
    from portal.audit.models import AuditEvent
    from portal.db import Base
    from portal.extensions import db
    from portal.kernel.grants import Role  # noqa: F401 - the role labels are the User's
    from portal.tenancy import scope
    from portal.tenancy.models import TenantStatus

    with app.app_context():
        actions = vocabulary.actions()
        literal = _literal_actions()
        assert {"login", "duty.sign_off", "evidence.download", "tenant_onboarding"} <= literal
        assert literal <= set(actions), sorted(literal - set(actions))
        # the computed codes: tenant lifecycle and duty review
        assert {f"tenant_{s.value}" for s in TenantStatus} <= set(actions)
        assert {"duty.accepted", "duty.returned"} <= set(actions)
        with scope.cross_tenant("vocabulary test"):
            recorded = set(db.session.execute(sa.select(AuditEvent.action).distinct()).scalars())
            types = set(
                db.session.execute(sa.select(AuditEvent.entity_type).distinct()).scalars()
            ) - {""}
        assert recorded <= set(actions), sorted(recorded - set(actions))
        audited = {m.class_.__name__ for m in Base.registry.mappers if trail.is_audited(m.class_)}
        registered = set(vocabulary.record_types())
        assert audited <= registered, sorted(audited - registered)
        assert types <= registered, sorted(types - registered)
        # every action belongs to a registered module and has a Chinese label
        modules = {m.code for m in vocabulary.modules()}
        with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
            for code, action in actions.items():
                assert action.module in modules, code
                assert re.search(r"[\u4e00-\u9fff]", str(action.label)), code


def test_the_action_filter_offers_only_registered_codes_grouped_by_module(app, login_as) -> None:  # type: ignore[no-untyped-def]
    from portal.audit import vocabulary

    page = login_as("kaifeng-auditor").get("/t/kaifeng/audit/").get_data(as_text=True)
    select = page.split('<select id="action"')[1].split("</select>")[0]
    offered = set(re.findall(r'<option value="([^"]+)"', select))
    with app.app_context():
        assert offered == set(vocabulary.actions())
    assert '<optgroup label="职责">' in select and '<optgroup label="登录日志">' in select
    for gone in ("sign_off", "review", "download", "onboarding", "suspension"):
        assert gone not in offered


def test_the_five_filters_that_found_nothing_find_their_events(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """签报 (sign-off), 审核 (review), 下载 (download), 开通 (onboarding), 暂停 (suspension)."""
    from portal.duties.models import EvidenceFile
    from portal.extensions import db
    from portal.tenancy import scope

    tid = _ids(fresh_app, "kaifeng")
    lead = Browser(fresh_app)
    lead.login("kaifeng-lead")
    with fresh_app.app_context(), scope.tenant_scope(tid):
        evidence = db.session.execute(sa.select(EvidenceFile.id).limit(1)).scalar_one()
    assert lead.get(f"/t/kaifeng/duties/evidence/{evidence}").status_code == 200
    for code in ("duty.sign_off", "duty.accepted", "duty.returned", "evidence.download"):
        page = lead.get(f"/t/kaifeng/audit/?action={code}").get_data(as_text=True)
        expected = {e.seq for e in _events(fresh_app, tid, action=code)}
        assert expected and _seqs(page) and set(_seqs(page)) <= expected, code

    operator = Browser(fresh_app)
    operator.login("operator")
    headers = {"Authorization": f"Bearer {new_api_token(operator)}"}
    api = fresh_app.test_client()
    text = (ROOT / "tests" / "fixtures" / "dayi.yaml").read_text(encoding="utf-8")
    assert (
        api.post("/api/v1/platform/tenants", json={"policy": text}, headers=headers).status_code
        == 201
    )
    r = api.post(
        "/api/v1/platform/tenants/dayi/status", json={"action": "suspend"}, headers=headers
    )
    assert r.status_code == 200
    from portal.audit.models import PLATFORM_CHAIN

    for code in ("tenant_onboarding", "tenant_suspended"):
        page = operator.get(f"/platform/audit/?action={code}").get_data(as_text=True)
        expected = {e.seq for e in _events(fresh_app, PLATFORM_CHAIN, action=code)}
        assert expected and set(_seqs(page)) == expected, code
    # a whole module at once: the 登录日志's codes
    page = lead.get("/t/kaifeng/audit/?module=sign_in").get_data(as_text=True)
    logins = {
        e.seq
        for e in _events(fresh_app, tid)
        if e.action in ("login", "login_failed", "login_refused_locked", "lockout", "logout")
    }
    assert _seqs(page) and set(_seqs(page)) <= logins


def test_no_test_imports_a_private_name_of_the_audit_package() -> None:
    pattern = re.compile(r"from portal\.audit\.\w+ import [^\n]*\b_[a-z]|\b(trail|verify)\._[a-z]")
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "tests").rglob("*.py")
        if p != Path(__file__) and pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders


def test_every_audited_column_has_a_field_label(app) -> None:  # type: ignore[no-untyped-def]
    """A change reads "字段：旧值 → 新值": no column may show by its code."""
    from flask_babel import force_locale

    from portal.audit import display, trail, vocabulary
    from portal.db import Base

    missing = []
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        for mapper in Base.registry.mappers:
            name = mapper.class_.__name__
            if not trail.is_audited(mapper.class_):
                continue
            for attr in mapper.column_attrs:
                if attr.key in display.QUIET_FIELDS:
                    continue
                label = vocabulary.field_label(name, attr.key)
                if label == attr.key or not re.search(r"[\u4e00-\u9fff]", label):
                    missing.append(f"{name}.{attr.key}")
    assert not missing, missing

"""The audit trail's core promises: tamper evidence, no gaps, append-only, no secrets.

Tampering is done the way a database administrator would: as the schema owner, with
the append-only trigger switched off for that one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import BACKEND, DEMO_PASSWORD, Browser

PG = BACKEND != "sqlite"


# --- helpers -------------------------------------------------------------------------


def cli(app, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=list(args))


def tenant_id(app, slug: str) -> uuid.UUID:  # type: ignore[no-untyped-def]
    from portal.extensions import db
    from portal.tenancy.models import Tenant

    with app.app_context():
        return db.session.execute(sa.select(Tenant.id).filter_by(slug=slug)).scalar_one()


def key(tid: uuid.UUID) -> object:
    """How the driver expects a Uuid parameter in raw SQL."""
    return str(tid) if PG else tid.hex


@contextmanager
def as_dba(app) -> Iterator[sa.Connection]:  # type: ignore[no-untyped-def]
    """The schema owner, append-only triggers off for this transaction: a DBA rewriting history."""
    engine = sa.create_engine(app.config["DATABASE_OWNER_URL"])
    try:
        with engine.begin() as conn:
            if PG:
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
                yield conn
            else:
                conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_update")
                conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_delete")
                yield conn
    finally:
        engine.dispose()


def chain(conn: sa.Connection, tid: uuid.UUID) -> list[sa.Row]:
    """Raw rows, as the database holds them."""
    sql = "SELECT * FROM audit_events WHERE tenant_id = :t ORDER BY seq"
    return list(conn.execute(sa.text(sql), {"t": key(tid)}))


def as_dt(value: object) -> dt.datetime:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value  # type: ignore[return-value,arg-type]


def insert_event(conn: sa.Connection, row: dict) -> None:
    from portal.audit.models import AuditEvent

    conn.execute(sa.insert(AuditEvent.__table__), row)


def run(conn: sa.Connection, sql: str, **params: object) -> None:
    """`:name` parameters on both backends."""
    conn.execute(sa.text(sql), params)


def verify_output(app, *extra: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    result = cli(app, "audit", "verify", *extra)
    return result.exit_code, result.output


# --- an untouched database -----------------------------------------------------------


def test_untouched_database_verifies(app) -> None:  # type: ignore[no-untyped-def]
    code, out = verify_output(app)
    assert code == 0, out
    # every demo district and the platform chain are checked, through the app's own role
    for label in ("platform", "kaifeng", "jiading", "jiangyan", "zhangdian"):
        assert f"ok      {label}:" in out
    code, out = verify_output(app, "--tenant", "kaifeng")
    assert code == 0 and "kaifeng" in out and "jiading" not in out


TRICKY = (
    'a"b\\c/d \n\r\t\b\f '
    + "".join(map(chr, range(1, 32)))
    + "\x7f é 汴政办〔2023〕24号 ✓ 🙂 \u2028\u2029 \ud7ff"
)


def test_writer_and_verifier_agree_on_every_value_shape(fresh_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Whole-second and fractional times, control characters, non-ASCII, None ids, nested data:
    the database-side fast path and the Python reference both rebuild the writer's bytes."""
    from portal.audit import trail
    from portal.audit.verify import fast_chains, reference_chains, snapshot
    from portal.extensions import db
    from portal.tenancy import scope

    tid = tenant_id(fresh_app, "kaifeng")
    for moment in (dt.datetime(2026, 11, 25, 10, 0, 0), dt.datetime(2026, 11, 25, 10, 0, 0, 50)):
        monkeypatch.setattr(trail, "utcnow", lambda moment=moment: moment)
        with fresh_app.app_context(), scope.tenant_scope(tid):
            trail.record(
                db.session,
                "export",
                entity_type="Duty",
                entity_id=TRICKY[:80],
                department_id=uuid.uuid4(),
                summary=TRICKY,
                data={"rows": 3, "filter": {"周期": "2026H2", "q": TRICKY}, "none": None},
            )
            db.session.commit()
    with fresh_app.app_context(), snapshot(db.engine) as (dialect, dbapi):
        fast = fast_chains(dialect, dbapi, tid, 1000)
        reference = reference_chains(dialect, dbapi, tid)
    assert fast[tid].ok, fast[tid]
    assert reference[tid].ok, reference[tid]
    assert (fast[tid].head_seq, fast[tid].head_hash) == (
        reference[tid].head_seq,
        reference[tid].head_hash,
    )
    code, out = verify_output(fresh_app, "--tenant", "kaifeng")
    assert code == 0, out


# --- tampering -----------------------------------------------------------------------


def _edit(conn: sa.Connection, tid: uuid.UUID, rows: list) -> int:
    run(
        conn,
        "UPDATE audit_events SET summary = 'nothing happened' WHERE tenant_id = :t AND seq = 3",
        t=key(tid),
    )
    return 3


def _delete(conn: sa.Connection, tid: uuid.UUID, rows: list) -> int:
    run(conn, "DELETE FROM audit_events WHERE tenant_id = :t AND seq = 4", t=key(tid))
    return 4


def _swap(conn: sa.Connection, tid: uuid.UUID, rows: list) -> int:
    run(conn, "UPDATE audit_events SET seq = -1 WHERE tenant_id = :t AND seq = 5", t=key(tid))
    run(conn, "UPDATE audit_events SET seq = 5 WHERE tenant_id = :t AND seq = 6", t=key(tid))
    run(conn, "UPDATE audit_events SET seq = 6 WHERE tenant_id = :t AND seq = -1", t=key(tid))
    return 5


def _forged_event(tid: uuid.UUID, occurred_at: Any) -> dict:
    """A review the lead never made, as `trail.event_row` takes it."""
    from portal.audit import trail

    return {
        "tenant_id": tid,
        "action": "review",
        "entity_type": "Duty",
        "entity_id": "forged",
        "department_id": None,
        "summary": "accepted",
        "changes": {},
        "actor": trail.Actor(name="kaifeng-lead", role="district_lead"),
        "occurred_at": as_dt(occurred_at),
    }


def _forge_inside(conn: sa.Connection, tid: uuid.UUID, rows: list) -> int:
    """A forged event slipped in at 3 with a correctly computed hash, later events renumbered."""
    from portal.audit import trail

    run(
        conn,
        "UPDATE audit_events SET seq = seq + 1000000 WHERE tenant_id = :t AND seq >= 3",
        t=key(tid),
    )
    run(
        conn,
        "UPDATE audit_events SET seq = seq - 999999 WHERE tenant_id = :t AND seq > 1000000",
        t=key(tid),
    )
    ev = _forged_event(tid, rows[2].occurred_at)
    insert_event(conn, trail.event_row(ev, 3, rows[1].hash))
    run(conn, "UPDATE audit_chain_heads SET seq = seq + 1 WHERE tenant_id = :t", t=key(tid))
    return 4  # the forged event links well; the first event after it no longer does


def _forge_append(conn: sa.Connection, tid: uuid.UUID, rows: list) -> int:
    from portal.audit import trail

    ev = _forged_event(tid, rows[-1].occurred_at)
    n = len(rows)
    insert_event(conn, trail.event_row(ev, n + 1, "f" * 64))  # does not know the real head
    return n + 1


@pytest.mark.parametrize(
    "tamper", [_edit, _delete, _swap, _forge_inside, _forge_append], ids=lambda f: f.__name__[1:]
)
def test_verify_names_the_first_bad_sequence_number(fresh_app, tamper) -> None:  # type: ignore[no-untyped-def]
    tid = tenant_id(fresh_app, "kaifeng")
    with as_dba(fresh_app) as conn:
        rows = chain(conn, tid)
        assert len(rows) > 8
        first_bad = tamper(conn, tid, rows)
    code, out = verify_output(fresh_app)
    assert code == 1, out
    assert f"BROKEN  kaifeng: first bad sequence number {first_bad} " in out, out
    # the other chains are still fine, and --tenant narrows to the broken one
    assert "ok      jiading:" in out and "ok      platform:" in out
    code, out = verify_output(fresh_app, "--tenant", "jiading")
    assert code == 0, out


def test_truncated_tail_and_rewritten_chain_are_caught_by_a_checkpoint(fresh_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from portal.audit import trail

    tid = tenant_id(fresh_app, "kaifeng")
    checkpoint = tmp_path / "cp.json"
    result = cli(fresh_app, "audit", "checkpoint", "-o", str(checkpoint))
    assert result.exit_code == 0, result.output
    doc = json.loads(checkpoint.read_text())
    head = next(h for h in doc["heads"] if h["tenant_id"] == str(tid))
    assert head["chain"] == "kaifeng" and head["seq"] > 8
    assert verify_output(fresh_app, "--against", str(checkpoint))[0] == 0

    # 1. the newest two events deleted and the head moved back: the chain alone looks fine
    with as_dba(fresh_app) as conn:
        rows = chain(conn, tid)
        run(
            conn,
            "DELETE FROM audit_events WHERE tenant_id = :t AND seq > :s",
            t=key(tid),
            s=len(rows) - 2,
        )
        run(
            conn,
            "UPDATE audit_chain_heads SET seq = :s, hash = :h WHERE tenant_id = :t",
            s=len(rows) - 2,
            h=rows[-3].hash,
            t=key(tid),
        )
    assert verify_output(fresh_app)[0] == 0
    code, out = verify_output(fresh_app, "--against", str(checkpoint))
    assert code == 1
    assert f"kaifeng: checkpointed event {head['seq']} is gone" in out
    assert f"first bad sequence number {head['seq']}" in out

    # 2. the whole chain recomputed after editing event 2 (tail restored): only the checkpoint knows
    with as_dba(fresh_app) as conn:
        for r in rows[-2:]:
            conn.execute(
                sa.insert(sa.table("audit_events", *(sa.column(c) for c in r._fields))),
                dict(r._mapping),
            )
        prev = trail.GENESIS
        for r in chain(conn, tid):
            data = dict(r._mapping)
            data["tenant_id"] = tid
            data["occurred_at"] = as_dt(data["occurred_at"])
            for k in ("actor_id", "department_id"):
                if isinstance(data[k], str):
                    data[k] = uuid.UUID(data[k])
            if r.seq == 2:
                data["summary"] = "rewritten by the DBA"
            data["prev_hash"] = prev
            data["hash"] = trail.chain_hash(prev, data)
            run(
                conn,
                "UPDATE audit_events SET summary = :summary, prev_hash = :p, hash = :h "
                "WHERE tenant_id = :t AND seq = :s",
                summary=data["summary"],
                p=prev,
                h=data["hash"],
                t=key(tid),
                s=r.seq,
            )
            prev = data["hash"]
        run(
            conn,
            "UPDATE audit_chain_heads SET seq = :s, hash = :h WHERE tenant_id = :t",
            s=len(rows),
            h=prev,
            t=key(tid),
        )
    code, out = verify_output(fresh_app)
    assert code == 0, out  # a consistent forgery: the plain chain cannot tell
    code, out = verify_output(fresh_app, "--against", str(checkpoint))
    assert code == 1
    assert f"kaifeng: event {head['seq']} differs from the checkpoint" in out, out

    # 3. a checkpoint edited to match is refused by its signature
    doc["heads"] = [{**h, "hash": "0" * 64} for h in doc["heads"]]
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc))
    code, out = verify_output(fresh_app, "--against", str(forged))
    assert code == 1 and "signature invalid" in out


def test_checkpoint_refuses_a_broken_chain_and_needs_the_key(fresh_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    tid = tenant_id(fresh_app, "jiading")
    with as_dba(fresh_app) as conn:
        _edit(conn, tid, [])
    result = cli(fresh_app, "audit", "checkpoint", "-o", str(tmp_path / "x.json"))
    assert result.exit_code != 0 and "broken" in result.output
    fresh_app.config["AUDIT_KEY"] = None
    result = cli(fresh_app, "audit", "checkpoint", "-o", str(tmp_path / "y.json"))
    assert result.exit_code != 0 and "PORTAL_AUDIT_KEY" in result.output


# --- concurrency and transactions -------------------------------------------------------


def test_eight_concurrent_writers_leave_a_gap_free_chain(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.audit import trail
    from portal.audit.models import AuditChainHead
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Department

    tid = tenant_id(fresh_app, "kaifeng")
    with fresh_app.app_context(), scope.tenant_scope(tid):
        depts = (
            db.session.execute(sa.select(Department.id).order_by(Department.key)).scalars().all()
        )
        start = db.session.get(AuditChainHead, tid).seq
    assert len(depts) >= 8
    rounds, errors = 5, []
    barrier = threading.Barrier(8)

    def writer(i: int) -> None:
        try:
            with fresh_app.app_context(), scope.tenant_scope(tid):
                barrier.wait()
                for n in range(rounds):
                    with trail.acting_as(trail.system_actor(f"writer-{i}")):
                        dept = db.session.get(Department, (tid, depts[i]))
                        dept.sort_order = 1000 + i * 10 + n  # one row event
                        trail.record(db.session, "test_write", summary=f"{i}/{n}")  # one explicit
                        db.session.commit()
                db.session.remove()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    with as_dba(fresh_app) as conn:
        rows = chain(conn, tid)
    seqs = [r.seq for r in rows]
    assert seqs == list(range(1, len(rows) + 1))
    assert len(rows) == start + 8 * rounds * 2
    code, out = verify_output(fresh_app)
    assert code == 0, out


def test_rolled_back_transactions_leave_no_event_and_no_gap(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.audit import trail
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Department

    tid = tenant_id(fresh_app, "kaifeng")
    with fresh_app.app_context(), scope.tenant_scope(tid):
        dept = db.session.execute(sa.select(Department).order_by(Department.key)).scalars().first()
        mine = AuditEvent.tenant_id == tid
        head_before = db.session.execute(
            sa.select(sa.func.max(AuditEvent.seq)).where(mine)
        ).scalar()
        # 1. a whole transaction rolled back after its events were captured (flushed)
        dept.name = "ROLLED-BACK NAME"
        trail.record(db.session, "test_rolled_back", summary="ROLLED-BACK EVENT")
        db.session.flush()
        db.session.rollback()
        # 2. a savepoint rolled back inside a transaction that commits
        dept = db.session.get(Department, (tid, dept.id))
        dept.name = dept.name + " (renamed)"
        with db.session.begin_nested() as sp:
            dept.sort_order = 4242
            trail.record(db.session, "test_savepoint", summary="SAVEPOINT EVENT")
            db.session.flush()
            sp.rollback()
        db.session.commit()
        events = (
            db.session.execute(sa.select(AuditEvent).where(mine, AuditEvent.seq > head_before))
            .scalars()
            .all()
        )
    assert [e.seq for e in events] == [head_before + 1]
    assert events[0].action == "update" and events[0].entity_type == "Department"
    changes = json.loads(events[0].changes)
    assert set(changes) == {"name"}, changes
    assert "ROLLED-BACK" not in json.dumps(changes)
    assert verify_output(fresh_app)[0] == 0


def test_before_values_survive_expired_attributes(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """After a commit every attribute is expired; the old value must still be recorded."""
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Department

    tid = tenant_id(fresh_app, "jiading")
    with fresh_app.app_context(), scope.tenant_scope(tid):
        dept = db.session.execute(sa.select(Department).order_by(Department.key)).scalars().first()
        old = dept.name
        db.session.commit()  # expires dept
        dept.name = "新名称"
        db.session.commit()
        ev = db.session.execute(
            sa.select(AuditEvent)
            .where(AuditEvent.tenant_id == tid)
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        ).scalar_one()
    assert json.loads(ev.changes) == {"name": {"before": old, "after": "新名称"}}


# --- append-only and bulk writes -------------------------------------------------------


def test_the_app_cannot_update_or_delete_audit_events(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.extensions import db

    tid = tenant_id(fresh_app, "kaifeng")
    with fresh_app.app_context():
        for sql in (
            "UPDATE audit_events SET summary = 'x' WHERE tenant_id = :t",
            "DELETE FROM audit_events WHERE tenant_id = :t",
        ):
            with db.engine.connect() as conn:
                if PG:
                    conn.exec_driver_sql("SELECT set_config('app.cross_tenant', 'on', true)")
                with pytest.raises(sa.exc.DBAPIError) as info:
                    conn.execute(sa.text(sql), {"t": key(tid)})
                text = str(info.value).lower()
                assert "permission denied" in text or "append-only" in text
        if PG:
            with db.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError):
                conn.exec_driver_sql("TRUNCATE audit_events")
    if PG:  # even the owner is stopped by the trigger
        engine = sa.create_engine(fresh_app.config["DATABASE_OWNER_URL"])
        with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError) as info:
            conn.execute(sa.text("DELETE FROM audit_events WHERE seq = 1"))
        assert "append-only" in str(info.value)
        engine.dispose()
    assert verify_output(fresh_app)[0] == 0


def test_bulk_writes_on_audited_models_are_refused(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """ORM bulk update()/delete()/insert() would bypass the flush hook, so they are refused."""
    from portal.audit.models import AuditEvent
    from portal.audit.trail import BulkWriteRefused
    from portal.extensions import db
    from portal.tenancy import scope
    from portal.tenancy.models import Department

    tid = tenant_id(fresh_app, "kaifeng")
    statements = [
        sa.update(Department).values(sort_order=1),
        sa.delete(Department).where(Department.key == "nope"),
        sa.update(Department.__table__).values(sort_order=1),  # Core, through the Session
        sa.delete(Department.__table__),
    ]
    with fresh_app.app_context(), scope.tenant_scope(tid):
        count = db.session.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar()
        for statement in statements:
            with pytest.raises(BulkWriteRefused, match="bypasses the audit trail"):
                db.session.execute(statement)
            db.session.rollback()
        with pytest.raises(BulkWriteRefused):
            db.session.execute(
                sa.insert(Department), [{"key": "bulk", "kind_code": "other", "name": "x"}]
            )
        db.session.rollback()
        # row-by-row changes go through, and are recorded
        for dept in db.session.execute(sa.select(Department).limit(2)).scalars():
            dept.sort_order = 77
        db.session.commit()
        after = db.session.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar()
    assert after == count + 2


# --- what the trail must and must never contain --------------------------------------------


def _all_audit_text(app) -> str:  # type: ignore[no-untyped-def]
    engine = sa.create_engine(app.config["DATABASE_OWNER_URL"])
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM audit_events")).all()
    engine.dispose()
    return "\n".join("|".join("" if v is None else str(v) for v in r) for r in rows)


def test_no_password_hash_token_or_session_in_the_trail(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.auth import services
    from portal.auth.models import ApiToken, User
    from portal.extensions import db
    from portal.tenancy import scope

    b = Browser(fresh_app)
    assert b.login("kaifeng-lead").status_code == 302
    session_cookie = b.client.get_cookie("session").value
    new_password = "Another-pass-2026!"
    r = b.post(
        "/account/password",
        {"current_password": DEMO_PASSWORD, "new_password": new_password, "confirm": new_password},
    )
    assert r.status_code == 302
    r = b.post("/account/tokens", {"name": "ci"})
    page = r.get_data(as_text=True)
    import re

    secret = re.search(r"pat_[A-Za-z0-9_\-]{20,}", page).group(0)
    with fresh_app.app_context():
        user = db.session.execute(sa.select(User).filter_by(username="kaifeng-lead")).scalar_one()
        with scope.tenant_scope(user.tenant_id):
            token = db.session.execute(sa.select(ApiToken).filter_by(user_id=user.id)).scalar_one()
            services.revoke_token(user, token)
            db.session.commit()  # services never commit
        with scope.cross_tenant("test"):
            hashes = db.session.execute(sa.select(User.password_hash)).scalars().all()
            token_hashes = db.session.execute(sa.select(ApiToken.token_hash)).scalars().all()
    b.post("/logout", csrf_from="/t/kaifeng/")

    text = _all_audit_text(fresh_app)
    for needle in [DEMO_PASSWORD, new_password, secret, session_cookie, *hashes, *token_hashes]:
        assert needle not in text, needle[:12]
    for action in ("login", "password_changed", "token_created", "token_revoked", "logout"):
        assert f"|{action}|" in text, action
    assert '"password_hash": {"after": "***"' in text or '"password_hash": {"before": "***"' in text


def test_failed_logins_and_cross_tenant_probes_are_in_the_trail(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.audit.models import AuditEvent
    from portal.extensions import db
    from portal.tenancy import scope

    tid = tenant_id(fresh_app, "kaifeng")
    assert Browser(fresh_app).login("kaifeng-lead", "wrong-password-1").status_code == 401
    assert Browser(fresh_app).login("nobody-here", "wrong-password-1").status_code == 401
    b = Browser(fresh_app)
    assert b.login("kaifeng-lead").status_code == 302
    assert b.get("/t/jiading/").status_code == 404
    with fresh_app.app_context(), scope.tenant_scope(tid):
        events = (
            db.session.execute(
                sa.select(AuditEvent).where(
                    AuditEvent.tenant_id == tid,
                    AuditEvent.action.in_(["login_failed", "access_denied"]),
                )
            )
            .scalars()
            .all()
        )
    failed = [e for e in events if e.action == "login_failed"]
    assert failed and json.loads(failed[-1].changes)["username_tried"] == "kaifeng-lead"
    assert failed[-1].ip and failed[-1].request_id
    probe = [e for e in events if e.action == "access_denied"]
    assert probe and probe[-1].entity_id == "/t/jiading/" and probe[-1].actor_name == "kaifeng-lead"
    # an unknown username goes to the platform chain, with the name tried
    with fresh_app.app_context(), scope.cross_tenant("test"):
        unknown = db.session.execute(
            sa.select(AuditEvent).where(
                AuditEvent.action == "login_failed", AuditEvent.summary == "nobody-here"
            )
        ).scalar_one()
    assert unknown.tenant_id.int == 0


def test_personal_identifiers_are_masked() -> None:
    from portal.audit import trail

    class Contact:
        __audit_mask__ = frozenset({"name_on_card"})

    assert trail.field_value(Contact, "phone", "13812345678") == "13*******78"
    assert trail.field_value(Contact, "id_number", "410102199001011234") == "41" + "*" * 14 + "34"
    assert trail.field_value(Contact, "name_on_card", "张三丰") == "***"
    assert trail.field_value(Contact, "api_secret", "abc") == "***"
    assert trail.field_value(Contact, "title", "主任") == "主任"


def test_verify_reads_fast(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """A 20,000-event chain verifies well inside a second's budget per 20k (see bench)."""
    import time

    from bench.audit_verify import fill_chain
    from portal.audit.verify import verify_chains
    from portal.extensions import db

    with fresh_app.app_context():
        tid = fill_chain(fresh_app.config["DATABASE_OWNER_URL"], 20000)
        started = time.perf_counter()
        results = verify_chains(db.engine, tid)
        elapsed = time.perf_counter() - started
    assert results[0].ok and results[0].events == 20000
    assert elapsed < 5, f"{20000 / elapsed:,.0f} events/s"


def test_a_transaction_with_more_events_than_one_statement_holds(fresh_app) -> None:  # type: ignore[no-untyped-def]
    """Events go in by statements of at most `_EVENTS_PER_STATEMENT`; a larger batch
    (an import, a bulk clone) still lands gap-free and verifiable, head on its last event."""
    from portal.audit import trail
    from portal.audit.models import AuditChainHead, AuditEvent
    from portal.extensions import db
    from portal.tenancy import scope

    n = 2 * trail._EVENTS_PER_STATEMENT + 7
    tid = tenant_id(fresh_app, "jiading")
    with fresh_app.app_context(), scope.tenant_scope(tid):
        mine = AuditEvent.tenant_id == tid
        before = db.session.execute(sa.select(sa.func.max(AuditEvent.seq)).where(mine)).scalar()
        for i in range(n):
            trail.record(db.session, "test_batch", summary=f"batch event {i}")
        db.session.commit()
        seqs = (
            db.session.execute(sa.select(AuditEvent.seq).where(mine, AuditEvent.seq > before))
            .scalars()
            .all()
        )
        head = db.session.get(AuditChainHead, tid)
        last_hash = db.session.execute(
            sa.select(AuditEvent.hash).where(mine, AuditEvent.seq == before + n)
        ).scalar_one()
    assert sorted(seqs) == list(range(before + 1, before + n + 1))
    assert head is not None and (head.seq, head.hash) == (before + n, last_hash)
    assert verify_output(fresh_app, "--tenant", "jiading")[0] == 0

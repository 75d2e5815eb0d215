"""`python -m bench.seed_scale` (the benchmark's data): clones are complete and the audit chain holds."""

from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner

from bench import seed
from bench.seed_scale import seed_scale_command
from bench.seed_signoffs import add_sign_offs
from portal.audit.verify import verify_chains
from portal.extensions import db
from tests.conftest import BACKEND, make_app


def test_seed_scale_three_tenants_then_verify_passes(databases, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    url = databases.new(demo=False)
    if BACKEND != "sqlite":
        # The bulk path proper: COPY as the owner that ran the migrations.
        monkeypatch.setenv("PORTAL_MIGRATE_DATABASE_URL", databases.owner_url(url))
    app = make_app(url)
    runner = app.test_cli_runner()
    # First as a database seeded before the sign-off events existed (bench_10, bench_300).
    monkeypatch.setattr(seed, "_sign_offs", lambda *a, **k: 0)
    with app.app_context():
        result = CliRunner().invoke(seed_scale_command, ["--tenants", "3", "--periods", "2"])
    monkeypatch.undo()
    assert result.exit_code == 0, result.output
    assert "3 scale districts (3 new" in result.output

    with app.app_context(), db.engine.connect() as conn, conn.begin():
        seed._cross_tenant(conn)
        results = verify_chains(conn)
        assert results and all(r.ok for r in results), [r for r in results if not r.ok]
        tenants = dict(conn.execute(sa.text("SELECT slug, id FROM tenants")).all())
        assert sorted(tenants) == ["scale-00001", "scale-00002", "scale-00003"]
        per_tenant = {}
        for table in ("departments", "users", "measures", "duties", "progress_entries"):
            counts = dict(
                conn.execute(
                    sa.text(f"SELECT tenant_id, count(*) FROM {table} GROUP BY tenant_id")
                ).all()  # noqa: S608
            )
            per_tenant[table] = counts
            # every clone has exactly the template's rows
            assert len(set(counts.values())) == 1, (table, counts)
        departments = next(iter(per_tenant["departments"].values()))
        assert departments >= 12
        assert next(iter(per_tenant["users"].values())) == 3 * departments + 2
        assert next(iter(per_tenant["duties"].values())) > 0
        # every tenant has its own full chain, the same length as the template's
        lengths = sorted(r.events for r in results if r.tenant_id.int != 0)
        assert len(lengths) == 3 and len(set(lengths)) == 1 and lengths[0] > 100
        usernames = conn.execute(sa.text("SELECT username FROM users")).scalars().all()
        assert "scale-00003-lead" in usernames and len(usernames) == len(set(usernames))

    assert _sign_off_counts(app) == {}
    # Idempotent: asking for the same count adds no district, only the sign-off events
    # the older seed lacked, appended to each chain (bench/seed_signoffs.py).
    with app.app_context():
        again = CliRunner().invoke(seed_scale_command, ["--tenants", "3", "--periods", "2"])
    assert again.exit_code == 0 and "(0 new" in again.output
    assert "adding sign-off events to 3 districts" in again.output
    counts = _sign_off_counts(app)
    assert len(counts) == 3 and len(set(counts.values())) == 1, counts
    signed, reviews = next(iter(counts.values()))
    assert signed > 0 and reviews > 0
    with app.app_context():
        engine, use_copy = seed._bulk_engine(db.engine)
        assert add_sign_offs(engine, use_copy, say=lambda s: None) == 0  # nothing twice
    # The CLI verifier agrees (on SQLite it sees every chain; see docs/performance.md).
    verify = runner.invoke(args=["audit", "verify"])
    assert verify.exit_code == 0, verify.output
    with app.app_context():
        db.engine.dispose()


def _sign_off_counts(app) -> dict:  # type: ignore[no-untyped-def]
    """Per district: (its `duty.sign_off` events, its `duty.accepted` events), each equal to
    its duties' history rows of that kind."""
    with app.app_context(), db.engine.connect() as conn, conn.begin():
        seed._cross_tenant(conn)
        events = dict(
            conn.execute(
                sa.text(
                    "SELECT tenant_id || ':' || action, count(*) FROM audit_events "
                    "WHERE action IN ('duty.sign_off', 'duty.accepted') GROUP BY tenant_id, action"
                )
            ).all()
        )
        history = dict(
            conn.execute(
                sa.text(
                    "SELECT tenant_id || ':' || action, count(*) FROM duty_review_records "
                    "GROUP BY tenant_id, action"
                )
            ).all()
        )
    out = {}
    for key, n in events.items():
        tenant, action = key.split(":", 1)
        kind = "submitted" if action == "duty.sign_off" else "accepted"
        assert history[f"{tenant}:{kind}"] == n, (key, n)
        signed, reviewed = out.get(tenant, (0, 0))
        out[tenant] = (n, reviewed) if kind == "submitted" else (signed, n)
    return out

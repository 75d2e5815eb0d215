"""`portal pii new-key | rotate-key`: the personal-information key and its rotation.

Rotation without downtime: put the new key first in PORTAL_PII_KEY (``k2:<new>,k1:<old>``),
deploy, run ``portal pii rotate-key`` (every value and blind index re-written under k2, per
district, audited as the system), then drop k1 from the variable. With the development key
file (no PORTAL_PII_KEY), ``rotate-key --generate`` adds the new key to the file itself.
"""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.orm.attributes import flag_modified

from portal.extensions import db


@click.group("pii")
def pii_cli() -> None:
    """Personal-information key (resident ID and phone numbers)."""


@pii_cli.command("new-key")
def new_key_command() -> None:
    """Print a fresh key (base64 of 32 random bytes) for PORTAL_PII_KEY."""
    from portal.register import pii

    click.echo(pii.new_key_text())


def rekey_district() -> tuple[int, int]:
    """Re-encrypt this district's values not under the current key; (persons, requests)."""
    from portal.register import pii
    from portal.register.models import ChangeRequest, Person, RequestStatus

    current = pii.keyring().current_id
    raw = db.session.execute(
        sa.select(
            Person.id,
            sa.type_coerce(Person.id_number, sa.String),
            sa.type_coerce(Person.phone, sa.String),
        )
    ).all()
    stale = [pid for pid, idn, phone in raw if pii.stale([idn, phone])]
    for person in db.session.execute(sa.select(Person).where(Person.id.in_(stale))).scalars():
        flag_modified(person, "id_number")
        person.id_index = pii.blind_index(person.id_number, "id_number")
        if person.phone:
            flag_modified(person, "phone")
            person.phone_index = pii.blind_index(person.phone, "phone")
    requests = 0
    pending = sa.select(ChangeRequest).where(ChangeRequest.status == RequestStatus.pending)
    for request in db.session.execute(pending).scalars():
        payload = dict(request.payload)
        members = []
        changed = False
        for m in payload.get("members", []):
            m = dict(m)
            for key, purpose in (("id", "id_number"), ("phone", "phone")):
                if m.get(key) and pii.key_id_of(m[key]["enc"]) != current:
                    m[key] = pii.reseal(m[key], purpose)
                    changed = True
            members.append(m)
        if changed:
            payload["members"] = members
            request.payload = payload
            requests += 1
    db.session.flush()
    return len(stale), requests


@pii_cli.command("rotate-key")
@click.option("--generate", is_flag=True, help="Add a new key to instance/pii_key first (dev).")
@with_appcontext
def rotate_key_command(generate: bool) -> None:
    """Re-encrypt every stored ID and phone number under the current (first) key, and
    (through the `pii_rekey` signal) the other domains' values, e.g. bank accounts."""
    import os

    from portal.audit import trail
    from portal.kernel import signals
    from portal.kernel.uow import cli_transaction
    from portal.register import pii
    from portal.tenancy import scope
    from portal.tenancy.models import Tenant

    if generate:
        if os.environ.get(pii.KEY_ENV):
            raise click.ClickException(
                f"{pii.KEY_ENV} is set: put the new key first in it (portal pii new-key)"
            )
        ring = pii.keyring()
        n = max(int(k[1:]) for k in ring.keys) + 1
        text = f"k{n}:{pii.new_key_text()}," + ring.serialise()
        pii.key_file(current_app.instance_path).write_text(text + "\n")
        pii.set_keyring(pii.parse_keyring(text))
        click.echo(f"new key k{n} added to {pii.key_file(current_app.instance_path)}")
    with scope.cross_tenant("pii rotate-key: list districts"):
        tenants = db.session.execute(sa.select(Tenant).order_by(Tenant.slug)).scalars().all()
        db.session.rollback()
    with trail.as_system("pii rotate-key"):
        for tenant in tenants:
            with scope.tenant_scope(tenant.id), cli_transaction():
                persons, requests = rekey_district()
                others = signals.responses(signals.pii_rekey.send(None))
            done = [f"{persons} persons", f"{requests} pending requests", *map(str, others)]
            click.echo(f"{tenant.slug}: {', '.join(done)} re-keyed")
    click.echo(f"all values are under {pii.keyring().current_id}; older keys may be dropped")


def register_cli(app: Flask) -> None:
    app.cli.add_command(pii_cli)

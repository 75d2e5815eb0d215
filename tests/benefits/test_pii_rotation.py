"""`portal pii rotate-key` re-encrypts the bank accounts too: afterwards every account
decrypts with the new key alone and its blind index (under the new key) still finds it."""

from __future__ import annotations

import sqlalchemy as sa

from tests.register.helpers import tenant_id


def test_rotate_key_re_encrypts_bank_accounts(fresh_app) -> None:  # type: ignore[no-untyped-def]
    from portal.benefits.models import PayeeAccount
    from portal.extensions import db
    from portal.register import pii
    from portal.tenancy import scope

    previous = pii.keyring()
    tid = tenant_id(fresh_app, "kaifeng")

    def accounts() -> list[tuple[str, str]]:
        with fresh_app.app_context(), scope.tenant_scope(tid):
            rows = db.session.execute(
                sa.select(
                    sa.type_coerce(PayeeAccount.account, sa.String), PayeeAccount.account_index
                )
            ).all()
            db.session.remove()
        return [(raw, index) for raw, index in rows]

    before = accounts()
    assert before, "the 开封 demo has bank accounts"
    plain = [pii.decrypt(raw, "bank_account") for raw, _i in before]
    new_key = pii.new_key_text()
    rotated_ring = pii.parse_keyring(f"k99:{new_key}," + previous.serialise())
    only_new = pii.parse_keyring(f"k99:{new_key}")
    try:
        pii.set_keyring(rotated_ring)
        result = fresh_app.test_cli_runner().invoke(args=["pii", "rotate-key"])
        assert result.exit_code == 0, result.output
        assert "kaifeng: " in result.output and f"{len(before)} bank accounts" in result.output
        after = accounts()
        assert all(pii.key_id_of(raw) == "k99" for raw, _i in after)
        assert sorted(pii.decrypt(raw, "bank_account", only_new) for raw, _i in after) == sorted(
            plain
        )
        pii.set_keyring(only_new)  # the old key dropped: the index still finds each number
        with fresh_app.app_context(), scope.tenant_scope(tid):
            for number in plain:
                found = db.session.execute(
                    sa.select(PayeeAccount).where(
                        PayeeAccount.account_index == pii.blind_index(number, "bank_account")
                    )
                ).scalar_one()
                assert found.account == number
            db.session.remove()
        # nothing stale is left: a second rotation re-keys no account
        pii.set_keyring(rotated_ring)
        again = fresh_app.test_cli_runner().invoke(args=["pii", "rotate-key"])
        assert "kaifeng: 0 persons, 0 pending requests, 0 bank accounts re-keyed" in again.output
    finally:
        pii.set_keyring(previous)

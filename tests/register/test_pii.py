"""Personal-information protection: AES-GCM with key ids, blind index, masking, keys."""

from __future__ import annotations

import base64
import types

import pytest

from portal.register import pii

K1 = base64.b64encode(b"a" * 32).decode()
K2 = base64.b64encode(b"b" * 32).decode()


@pytest.fixture
def ring():  # type: ignore[no-untyped-def]
    previous = pii._keyring
    pii.set_keyring(pii.parse_keyring(f"k2:{K2},k1:{K1}"))
    yield pii.keyring()
    pii._keyring = previous


def test_values_carry_their_key_id_and_never_the_plaintext(ring) -> None:  # type: ignore[no-untyped-def]
    stored = pii.encrypt("41020519700101002X", "id_number")
    assert stored.startswith("k2:") and "41020519700101002X" not in stored
    assert stored != pii.encrypt("41020519700101002X", "id_number")  # a fresh nonce each time
    assert pii.decrypt(stored, "id_number") == "41020519700101002X"


def test_a_value_moved_to_another_column_does_not_decrypt(ring) -> None:  # type: ignore[no-untyped-def]
    from cryptography.exceptions import InvalidTag

    stored = pii.encrypt("13812345678", "phone")
    with pytest.raises(InvalidTag):
        pii.decrypt(stored, "id_number")


def test_older_keys_still_decrypt_and_unknown_keys_are_named(ring) -> None:  # type: ignore[no-untyped-def]
    old = pii.encrypt("13812345678", "phone", pii.parse_keyring(f"k1:{K1}"))
    assert pii.decrypt(old, "phone") == "13812345678"
    with pytest.raises(pii.PiiKeyError, match="k9"):
        pii.decrypt("k9:" + old.split(":", 1)[1], "phone")


def test_blind_index_is_keyed_normalised_and_found_under_every_key(ring) -> None:  # type: ignore[no-untyped-def]
    a = pii.blind_index("41020519700101002x", "id_number")
    assert a == pii.blind_index(" 4102 0519 7001 0100 2X ", "id_number")
    assert a != pii.blind_index("41020519700101002X", "phone")
    assert len(a) == 64 and "4102" not in a
    older = pii.blind_index("41020519700101002X", "id_number", "k1")
    assert older != a and set(pii.blind_indexes("41020519700101002X", "id_number")) == {a, older}


def test_masks() -> None:
    assert pii.mask_id("41020519700101002X") == "4102**********002X"
    assert pii.mask_phone("13812345678") == "138****5678"
    assert pii.mask_id(None) == "" and pii.mask_phone("") == ""


@pytest.mark.parametrize(
    "text",
    [
        "",
        "k1:notbase64!",
        f"k1:{base64.b64encode(b'short').decode()}",
        f"x1:{K1}",
        f"k1:{K1},k1:{K2}",
    ],
)
def test_bad_key_configuration_is_refused(text: str) -> None:
    with pytest.raises(pii.PiiKeyError):
        pii.parse_keyring(text)


def _fake_app(tmp_path, uri: str, testing: bool = False):  # type: ignore[no-untyped-def]
    return types.SimpleNamespace(
        config={"SQLALCHEMY_DATABASE_URI": uri},
        debug=False,
        testing=testing,
        instance_path=str(tmp_path),
    )


def test_development_key_is_generated_into_instance_once(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv(pii.KEY_ENV, raising=False)
    first = pii.load_keyring(_fake_app(tmp_path, "sqlite:///x"))
    again = pii.load_keyring(_fake_app(tmp_path, "sqlite:///x"))
    assert first == again and (tmp_path / "pii_key").exists()
    assert oct((tmp_path / "pii_key").stat().st_mode)[-3:] == "600"


def test_production_refuses_to_start_without_a_key(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv(pii.KEY_ENV, raising=False)
    with pytest.raises(pii.PiiKeyError, match="PORTAL_PII_KEY"):
        pii.load_keyring(_fake_app(tmp_path, "postgresql+psycopg://app@db/portal"))
    assert not (tmp_path / "pii_key").exists()
    # tests (and debug runs) on PostgreSQL may still use a generated key
    assert pii.load_keyring(_fake_app(tmp_path, "postgresql+psycopg://x/y", testing=True))


def test_production_app_factory_refuses_without_key(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from portal import create_app

    monkeypatch.delenv(pii.KEY_ENV, raising=False)
    previous = pii._keyring
    try:
        with pytest.raises(pii.PiiKeyError):
            create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    finally:
        pii._keyring = previous

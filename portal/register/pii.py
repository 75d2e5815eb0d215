"""Personal information protection (DESIGN.md §4): resident ID and phone numbers.

* Values are encrypted in the application with AES-GCM before they reach the database;
  each stored value names its key: ``k1:<base64(nonce ‖ ciphertext ‖ tag)>``.
* The keys come from ``PORTAL_PII_KEY``: one base64 key of 32 bytes (id ``k1``) or a
  ring ``k2:<b64>,k1:<b64>`` whose first key encrypts and all decrypt, so a key can be
  rotated (`portal pii rotate-key`) without downtime.
* A keyed blind index (HMAC-SHA256 of the normalised value) serves exact search and
  duplicate detection without decrypting; it is computed under the current key, and a
  look-up asks for the index under every key of the ring, so rows not yet re-keyed
  are still found.
* Masking helpers give the default display everywhere (UI, exports, API, audit).

Without ``PORTAL_PII_KEY`` a development key is generated into ``instance/pii_key`` (as
the secret key is); a production app (PostgreSQL, neither debug nor testing) refuses to
start without one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_ENV = "PORTAL_PII_KEY"
KEY_FILE = "pii_key"
_NONCE = 12
_KID = re.compile(r"^k[0-9]{1,6}$")


class PiiKeyError(RuntimeError):
    """The key configuration is missing or malformed, or a value names an unknown key."""


@dataclass(frozen=True)
class Keyring:
    current_id: str
    keys: dict[str, bytes]
    # derived once per key: an import seals and indexes tens of thousands of values
    _index_keys: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)
    _ciphers: dict[str, AESGCM] = field(default_factory=dict, compare=False, repr=False)

    @property
    def current(self) -> bytes:
        return self.keys[self.current_id]

    def index_key(self, kid: str) -> bytes:
        """The blind-index key of one encryption key (derived, never the same bytes)."""
        key = self._index_keys.get(kid)
        if key is None:
            key = hmac.new(self.keys[kid], b"portal-pii-blind-index-v1", hashlib.sha256).digest()
            self._index_keys[kid] = key
        return key

    def cipher(self, kid: str) -> AESGCM:
        """One AES-GCM object per key (its key schedule computed once)."""
        found = self._ciphers.get(kid)
        if found is None:
            found = self._ciphers[kid] = AESGCM(self.keys[kid])
        return found

    def serialise(self) -> str:
        return ",".join(f"{kid}:{base64.b64encode(k).decode()}" for kid, k in self.keys.items())


def parse_keyring(text: str) -> Keyring:
    """``<b64>`` or ``k2:<b64>,k1:<b64>`` (first key encrypts)."""
    keys: dict[str, bytes] = {}
    parts = [p.strip() for p in text.strip().split(",") if p.strip()]
    if not parts:
        raise PiiKeyError(f"{KEY_ENV} is empty")
    for part in parts:
        kid, sep, b64 = part.partition(":")
        if not sep:
            kid, b64 = "k1", part
        if not _KID.match(kid) or kid in keys:
            raise PiiKeyError(f"{KEY_ENV}: bad or repeated key id {kid!r}")
        try:
            raw = base64.b64decode(b64, validate=True)
        except ValueError as e:
            raise PiiKeyError(f"{KEY_ENV}: key {kid} is not base64") from e
        if len(raw) != 32:
            raise PiiKeyError(f"{KEY_ENV}: key {kid} must be 32 bytes, not {len(raw)}")
        keys[kid] = raw
    return Keyring(current_id=next(iter(keys)), keys=keys)


def new_key_text() -> str:
    return base64.b64encode(os.urandom(32)).decode()


_keyring: Keyring | None = None


def set_keyring(ring: Keyring) -> None:
    global _keyring
    _keyring = ring


def keyring() -> Keyring:
    if _keyring is None:
        raise PiiKeyError("the PII keyring is not loaded (create the app first)")
    return _keyring


def key_file(instance_path: str) -> Path:
    return Path(instance_path) / KEY_FILE


def load_keyring(app: Any) -> Keyring:
    """From the environment, the app config (tests) or the development key file.

    Production — PostgreSQL, not debug, not testing — never falls back to a generated key:
    encrypted data with a key lost on the next deploy would be unreadable."""
    text = os.environ.get(KEY_ENV) or app.config.get("PII_KEY")
    if text:
        return parse_keyring(text)
    uri = str(app.config.get("SQLALCHEMY_DATABASE_URI", ""))
    production = uri.startswith("postgresql") and not (app.debug or app.testing)
    if production:
        raise PiiKeyError(
            f"{KEY_ENV} is not set: production refuses to start without the personal-"
            "information key (base64 of 32 random bytes; see docs/register.md)"
        )
    path = key_file(app.instance_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(f"k1:{new_key_text()}\n")
        path.chmod(0o600)
    return parse_keyring(path.read_text())


def init_app(app: Any) -> None:
    set_keyring(load_keyring(app))


# -- normalising, encrypting, indexing -------------------------------------------------


def normalise(value: str) -> str:
    """The canonical form that is encrypted and indexed: no spaces or dashes, upper case."""
    return re.sub(r"[\s\-]", "", value or "").upper()


def encrypt(value: str, purpose: str, ring: Keyring | None = None) -> str:
    ring = ring or keyring()
    nonce = os.urandom(_NONCE)
    sealed = ring.cipher(ring.current_id).encrypt(nonce, value.encode(), purpose.encode())
    return f"{ring.current_id}:{base64.b64encode(nonce + sealed).decode()}"


def key_id_of(stored: str) -> str:
    return stored.partition(":")[0]


def decrypt(stored: str, purpose: str, ring: Keyring | None = None) -> str:
    ring = ring or keyring()
    kid, sep, b64 = stored.partition(":")
    if not sep or kid not in ring.keys:
        raise PiiKeyError(f"value encrypted under unknown key {kid!r}")
    raw = base64.b64decode(b64)
    return ring.cipher(kid).decrypt(raw[:_NONCE], raw[_NONCE:], purpose.encode()).decode()


def blind_index(value: str, purpose: str, kid: str | None = None) -> str:
    """HMAC-SHA256 of the normalised value under the (current) key: equal values, equal index."""
    ring = keyring()
    key = ring.index_key(kid or ring.current_id)
    return hmac.new(key, f"{purpose}:{normalise(value)}".encode(), hashlib.sha256).hexdigest()


def blind_indexes(value: str, purpose: str) -> list[str]:
    """The value's index under every key of the ring (look-ups during a rotation)."""
    return [blind_index(value, purpose, kid) for kid in keyring().keys]


class Encrypted(sa.types.TypeDecorator):
    """A string column stored encrypted: plaintext in Python, ``kid:ciphertext`` in SQL.

    ``purpose`` is bound into the ciphertext (AES-GCM associated data), so a value
    copied into another column does not decrypt."""

    impl = sa.String(120)
    cache_ok = True

    def __init__(self, purpose: str) -> None:
        super().__init__()
        self.purpose = purpose

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None or value == "":
            return value
        return encrypt(str(value), self.purpose)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None or value == "":
            return value
        return decrypt(value, self.purpose)


# -- masking -----------------------------------------------------------------------


def _masked(value: str | None, head: int, tail: int) -> str:
    """The first `head` and last `tail` characters, stars between; all stars when short."""
    if not value:
        return ""
    v = normalise(value)
    if len(v) <= head + tail:
        return "*" * len(v)
    return v[:head] + "*" * (len(v) - head - tail) + v[-tail:]


def mask_id(value: str | None) -> str:
    """4101**********1234: the region and the last four, never the birth date."""
    return _masked(value, 4, 4)


def mask_phone(value: str | None) -> str:
    """138****5678."""
    return _masked(value, 3, 4)


def sealed(value: str, purpose: str) -> dict[str, str]:
    """A protected value inside JSON (change-request payloads): never the plaintext."""
    v = normalise(value)
    mask = mask_id(v) if purpose == "id_number" else mask_phone(v)
    return {"enc": encrypt(v, purpose), "index": blind_index(v, purpose), "masked": mask}


def unseal(data: dict[str, str] | None, purpose: str) -> str:
    if not data:
        return ""
    return decrypt(data["enc"], purpose)


def reseal(data: dict[str, str] | None, purpose: str) -> dict[str, str] | None:
    """The same value under the current key (rotation)."""
    if not data:
        return data
    return sealed(unseal(data, purpose), purpose)


def stale(values: Iterable[str | None]) -> bool:
    current = keyring().current_id
    return any(v and key_id_of(v) != current for v in values)

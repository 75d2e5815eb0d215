"""Password hashing with argon2 and the password policy."""

from __future__ import annotations

import os

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l

# PORTAL_TEST_FAST_HASH=1 (tests only) trades hashing cost for speed.
_hasher = (
    PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    if os.environ.get("PORTAL_TEST_FAST_HASH") == "1"
    else PasswordHasher()
)
MIN_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verifying against this keeps the timing of unknown usernames like known ones.
DUMMY_HASH = _hasher.hash("not-a-real-password")


def password_problems(password: str, username: str = "") -> list[str]:
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(str(_l("The password must have at least %(n)d characters.", n=MIN_LENGTH)))
    if password.isdigit() or password.isalpha():
        problems.append(str(_l("The password must mix letters with digits or symbols.")))
    if username and username.lower() in password.lower():
        problems.append(str(_l("The password must not contain the username.")))
    return problems

"""The accounts service: every change to an account, with its rules, in one place.

The platform console (district leads), the district's Users page, the back office
(Flask-Admin, through `UserView.on_model_change`), onboarding and `portal users create`
all come here, so the username rule, the duplicate check, who may give which role,
the department rule and "a changed account's sessions end" hold whichever door is used.

Nothing here commits: the request (`portal.kernel.uow.commit_request`) or the CLI
(`cli_transaction`) does, once. A broken rule raises a `RuleError` naming the field.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import string
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm.attributes import set_committed_value

from portal.audit import trail
from portal.auth import passwords, roles
from portal.auth.models import User
from portal.extensions import db
from portal.kernel.grants import SYSTEM, Role, can, require
from portal.kernel.inputs import matching
from portal.kernel.rules import NotAllowed, NotFound, RuleError
from portal.tenancy import scope
from portal.tenancy.models import Department, Tenant

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,79}$")


@dataclass
class NewAccount:
    user: User
    temporary_password: str | None  # shown once; None when the caller chose the password


# ---------------------------------------------------------------- helpers


@contextlib.contextmanager
def account_scope(user: User | None) -> Iterator[Any]:
    """The scope an account's rows and events belong to: its district, or the platform."""
    if user is not None and user.tenant_id is not None:
        with scope.tenant_scope(user.tenant_id) as s:
            yield s
    else:
        with scope.cross_tenant("account on the platform chain") as s:
            yield s


def _chain(user: User) -> Any:
    return user.tenant_id or trail.PLATFORM_CHAIN


def temporary_password() -> str:
    """Random, meets the password policy, shown once; must be changed at first sign-in."""
    alphabet = string.ascii_letters + string.digits
    core = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"{core[:6]}-{core[6:]}-{secrets.randbelow(90) + 10}"


def check_username(username: str) -> str:
    """The username rule and the platform-wide duplicate check; returns it stripped."""
    username = (username or "").strip()
    if not USERNAME_RE.match(username):
        raise RuleError(
            _l("The username may only hold letters, digits and . _ -, 3–80 characters."),
            field="username",
        )
    with scope.cross_tenant("usernames are unique platform-wide"):
        taken = db.session.execute(sa.select(User.id).filter_by(username=username)).first()
    if taken:
        raise RuleError(_l("This username already exists."), field="username")
    return username


def _may_assign(actor: Any, role: Role) -> bool:
    """Operators are made only by the system (CLI); leads give district roles; the
    platform operator gives district leads."""
    if actor is SYSTEM:
        return True
    if roles.is_platform_role(role):
        return False
    if can(actor, "district.configure"):
        return role in roles.DISTRICT_ROLES
    if can(actor, "tenant.manage"):
        return role in roles.OPERATOR_ASSIGNS
    return False


def _role(actor: Any, value: Any) -> Role:
    try:
        role = Role(value)
    except ValueError:
        role = None
    if role is None or not _may_assign(actor, role):
        raise RuleError(_l("This role cannot be given here."), field="role")
    return role


def _department(role: Role, key: str | None = None, department_id: Any = None) -> uuid.UUID | None:
    """The active department of the district in scope, when the role needs one."""
    if not roles.needs_department(role):
        return None
    q = sa.select(Department.id).where(Department.active.is_(True))
    try:
        if department_id:
            q = q.where(Department.id == uuid.UUID(str(department_id)))
        else:
            q = q.where(Department.key == (key or ""))
    except ValueError:
        q = None
    found = db.session.execute(q).scalar_one_or_none() if q is not None else None
    if found is None:
        raise RuleError(
            _l("Choose an active department for a department officer."), field="department"
        )
    return found


def _echo(action: str, actor: Any, user: User, tenant: Tenant | None) -> None:
    """Operator actions on district accounts are also recorded in the platform chain."""
    if actor is SYSTEM or tenant is None or not can(actor, "tenant.manage"):
        return
    trail.record_on(
        user,
        action,
        tenant_id=trail.PLATFORM_CHAIN,
        summary=f"{tenant.slug}/{user.username}",
    )


def _record(action: str, user: User, summary: str | None = None, data: dict | None = None) -> None:
    trail.record_on(
        user,
        action,
        tenant_id=_chain(user),
        summary=summary or user.username,
        data=data or {},
    )


def _require_manager(actor: Any, tenant: Tenant | None) -> None:
    """Who may manage a district's accounts: its lead, an operator, or the system."""
    if actor is SYSTEM:
        return
    if tenant is not None and can(actor, "tenant.manage"):
        return
    require(actor, "district.configure")
    if tenant is None or getattr(actor, "tenant_id", None) != tenant.id:
        raise NotAllowed(_l("You do not have permission to do this."))


def _in_tenant(user: User, tenant: Tenant | None) -> None:
    if tenant is not None and user.tenant_id != tenant.id:
        raise NotFound(_l("The account was not found."))


def _managed(actor: Any, user: User, tenant: Tenant | None) -> Tenant:
    """The district whose account `actor` acts on (the account's own unless given),
    after checking that `actor` manages it and that the account belongs to it."""
    tenant = tenant or user.tenant
    _require_manager(actor, tenant)
    _in_tenant(user, tenant)
    return tenant


# ---------------------------------------------------------------- operations


def create_user(
    actor: Any,
    *,
    username: str,
    role: Any,
    tenant: Tenant | None = None,
    display_name: str = "",
    department_key: str | None = None,
    department_id: Any = None,
    password: str | None = None,
    action: str = "account_created",
) -> NewAccount:
    """A new account. Without `password` it gets a temporary one (returned, shown once)
    that must be changed at the first sign-in."""
    if tenant is not None:
        _require_manager(actor, tenant)
    role = _role(actor, role)
    if roles.is_platform_role(role) != (tenant is None):
        raise RuleError(
            _l("Platform operators belong to no district; every other role to one."),
            field="role",
        )
    username = check_username(username)
    temporary = None
    if password is None:
        temporary = password = temporary_password()
    else:
        problems = passwords.password_problems(password, username)
        if problems:
            raise RuleError(" ".join(problems), field="password")
    with scope.tenant_scope(tenant.id) if tenant else scope.cross_tenant("create operator"):
        user = User(
            username=username,
            display_name=(display_name or "").strip()[:80] or username,
            password_hash=passwords.hash_password(password),
            role=role,
            tenant_id=tenant.id if tenant else None,
            department_id=_department(role, department_key, department_id),
            must_change_password=temporary is not None,
        )
        db.session.add(user)
        db.session.flush()
        _record(action, user, data={"role": role.value})
        _echo(action, actor, user, tenant)
        db.session.flush()
    return NewAccount(user, temporary)


def revoke_sessions(user: User) -> None:
    """End every open session of the account: the one place that bumps its version."""
    user.session_version = (user.session_version or 0) + 1


def change_role(
    actor: Any,
    user: User,
    role: Any,
    *,
    department_id: Any = None,
    tenant: Tenant | None = None,
) -> bool:
    """Give the account another role (and department); its sessions end. True if changed."""
    tenant = _managed(actor, user, tenant)
    new_role = _role(actor, role)
    if roles.is_platform_role(new_role) != roles.is_platform_role(user.role):
        raise RuleError(_l("This role cannot be given here."), field="role")
    if getattr(actor, "id", None) == user.id and new_role != user.role:
        raise RuleError(_l("You cannot change your own role or deactivate yourself."), field="role")
    with account_scope(user):
        new_department = _department(new_role, department_id=department_id)
        if new_role == user.role and new_department == user.department_id:
            return False
        user.role = new_role
        user.department_id = new_department
        revoke_sessions(user)
        _record("role_changed", user, summary=f"{user.username}: {new_role.value}")
        db.session.flush()
    return True


def set_active(actor: Any, user: User, active: bool, *, tenant: Tenant | None = None) -> bool:
    """Deactivate (its sessions end) or reactivate an account. True if it changed."""
    tenant = _managed(actor, user, tenant)
    if not active and getattr(actor, "id", None) == user.id:
        raise RuleError(_l("You cannot deactivate your own account."), field="active")
    if user.active == active:
        return False
    with account_scope(user):
        user.active = active
        revoke_sessions(user)
        action = "account_reactivated" if active else "account_deactivated"
        _record(action, user)
        _echo(action, actor, user, tenant)
        db.session.flush()
    return True


def rename(actor: Any, user: User, display_name: str, *, tenant: Tenant | None = None) -> None:
    tenant = _managed(actor, user, tenant)
    with account_scope(user):
        user.display_name = (display_name or "").strip()[:80] or user.username
        db.session.flush()


def reset_password(actor: Any, user: User, *, tenant: Tenant | None = None) -> str:
    """A new temporary password (returned, shown once); the holder must change it at the
    next sign-in, and every open session ends."""
    tenant = _managed(actor, user, tenant)
    if getattr(actor, "id", None) == user.id:
        raise RuleError(_l("Use “Change password” for your own account."))
    password = temporary_password()
    with account_scope(user):
        _set_password(user, password, "password_reset", must_change=True)
        _echo("password_reset", actor, user, tenant)
        db.session.flush()
    return password


def previous_hashes(user: User) -> list[str]:
    """The current hash and the earlier ones kept (newest first)."""
    try:
        earlier = json.loads(user.password_history or "[]")
    except ValueError:
        earlier = []
    return [user.password_hash, *[h for h in earlier if isinstance(h, str)]]


def _remember(user: User) -> None:
    if user.password_hash:
        kept = previous_hashes(user)[: passwords.HISTORY_SIZE]
        user.password_history = json.dumps(kept)


def _set_password(user: User, password: str, action: str, must_change: bool) -> None:
    """The new password (the old hash joins the history); every open session ends."""
    _remember(user)
    user.password_hash = passwords.hash_password(password)
    user.must_change_password = must_change
    revoke_sessions(user)
    _record(action, user)


def change_password(user: User, new_password: str) -> None:
    """The holder's own change: the policy, not one of the last passwords; sessions end."""
    problems = passwords.password_problems(new_password, user.username, [user.display_name])
    if problems:
        raise RuleError(" ".join(problems), field="new_password")
    if passwords.used_before(new_password, previous_hashes(user)):
        raise RuleError(
            _l("Choose a password you have not used before."),
            field="new_password",
        )
    with account_scope(user):
        _set_password(user, new_password, "password_changed", must_change=False)
        db.session.flush()


def sign_out(user: User) -> None:
    """The old session cookie can never be replayed."""
    with account_scope(user):
        revoke_sessions(user)
        _record("logout", user)
        db.session.flush()


def set_locale(user: User, locale: str) -> None:
    with account_scope(user):
        user.locale = locale
        db.session.flush()


def apply_admin_edit(actor: Any, user: User) -> None:
    """The back office's edit form, through the same rules.

    Flask-Admin has already copied the form onto `user`; the copied values are taken
    back off the row and applied by the operations above (so a refused change leaves
    the account as it was)."""
    state = sa.inspect(user)
    wanted: dict[str, Any] = {}
    for name in ("display_name", "role", "department_id", "active"):
        history = state.attrs[name].history
        if history.added:
            wanted[name] = history.added[0]
            before = history.deleted[0] if history.deleted else None
            set_committed_value(user, name, before)
    if "display_name" in wanted:
        rename(actor, user, wanted["display_name"] or "")
    role = wanted.get("role", user.role)
    department = wanted.get("department_id", user.department_id)
    if "role" in wanted or "department_id" in wanted:
        change_role(actor, user, role, department_id=department or None)
    if "active" in wanted:
        set_active(actor, user, bool(wanted["active"]))


# ---------------------------------------------------------------- reads


def district_users(tenant: Tenant, role: Role | None = None) -> list[User]:
    """A district's accounts, by role then username."""
    with scope.tenant_scope(tenant.id):
        q = sa.select(User).where(User.tenant_id == tenant.id).order_by(User.role, User.username)
        if role is not None:
            q = q.where(User.role == role)
        return list(db.session.execute(q).scalars().all())


def district_users_query(tenant: Tenant, search: str = "", role: str = "") -> sa.Select:
    """The district's accounts for the users list: search by username, name or department;
    the department is joined once (sorting by it, showing it) rather than per row."""
    q = (
        sa.select(User)
        .outerjoin(
            Department,
            sa.and_(Department.tenant_id == User.tenant_id, Department.id == User.department_id),
        )
        .options(contains_eager(User.department))
        .where(User.tenant_id == tenant.id)
        .order_by(User.role, User.username)
    )
    if role:
        q = q.where(User.role == role)
    if search:
        q = q.where(matching(search, User.username, User.display_name, Department.name))
    return q


def district_user(tenant: Tenant, user_id: Any) -> User | None:
    """One account of the district, or None (out of scope and missing answer alike)."""
    try:
        ident = uuid.UUID(str(user_id))
    except ValueError:
        return None
    with scope.tenant_scope(tenant.id):
        return db.session.execute(
            sa.select(User).where(User.id == ident, User.tenant_id == tenant.id)
        ).scalar_one_or_none()

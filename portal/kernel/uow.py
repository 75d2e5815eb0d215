"""The unit of work: services never commit; each entry point commits once.

- Web and API requests: `commit_request` runs after every view (registered by the web
  shell). A response below 400 commits what the view's service calls did; anything
  else has already been rolled back or is rolled back when the request ends. A commit
  that the database refuses (a unique number taken by a concurrent request, a lost
  connection) becomes a clear answer, never a half-written change.
- Views that redisplay a form on a broken rule use `attempt`: it runs the service
  call, rolls back on a `RuleError` and puts the message beside the field, keeping
  what the user typed; the view then renders the form with `outcome.status`.
- The CLI and the demo use `cli_transaction`: commit at the end, or roll back and
  exit with the rule's message.

Modelled on Indico's `RH.process` and Superset's `@transaction`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy.exc as sa_exc

from portal.extensions import db
from portal.kernel.rules import RuleError

T = TypeVar("T")


@dataclass
class Outcome(Generic[T]):
    value: T | None = None
    error: RuleError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def status(self) -> int:
        return 200 if self.error is None else self.error.status


def attach_error(form: Any, error: RuleError) -> None:
    """The message beside the field it concerns, or at the top of the form."""
    message = str(error.message)
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        errors = list(field.errors or [])
        if message not in errors:
            errors.append(message)
        field.errors = errors
        return
    form_errors = getattr(form, "form_errors", None)
    if isinstance(form_errors, list) and message not in form_errors:
        form_errors.append(message)


def attempt(action: Callable[[], T], form: Any = None) -> Outcome[T]:
    """Run one service call; on a broken rule roll back and report it on `form`.

    Nothing is committed here: the request commits once when its response is sent.
    """
    try:
        value = action()
        db.session.flush()
    except RuleError as e:
        db.session.rollback()
        if form is not None:
            attach_error(form, e)
        return Outcome(error=e)
    return Outcome(value=value)


def commit_request(response: Any) -> Any:
    """After-request hook: commit a successful request's work once; roll back the rest.

    Read-only requests commit too: for the data it is the same as a rollback, but
    psycopg keeps its prepared statements across a COMMIT (it drops them on ROLLBACK),
    so PostgreSQL reuses their plans.
    """
    session = db.session()
    if response.status_code >= 400:
        if session.in_transaction():
            session.rollback()
        return response
    if not session.in_transaction() and not (session.new or session.dirty or session.deleted):
        return response
    try:
        session.commit()
    except RuleError as e:
        session.rollback()
        return _refused(e.status, e.code, str(e.message))
    except sa_exc.IntegrityError:
        session.rollback()
        from flask_babel import gettext as _

        return _refused(
            409,
            "conflict",
            _("Someone else saved the same record at the same moment; please try again."),
        )
    return response


def _refused(status: int, code: str, message: str) -> Any:
    from flask import render_template, request

    if request.path.startswith("/api/"):
        from flask import jsonify

        response = jsonify({"error": {"code": code, "message": message}})
        response.status_code = status
        return response
    from flask import make_response

    return make_response(render_template("error.html", status=status, message=message), status)


@contextlib.contextmanager
def cli_transaction() -> Iterator[None]:
    """The CLI's unit of work: commit at the end, or roll back and exit with the message."""
    import click

    try:
        yield
        db.session.commit()
    except RuleError as e:
        db.session.rollback()
        raise click.ClickException(str(e.message)) from e
    except BaseException:
        db.session.rollback()
        raise

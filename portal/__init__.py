"""Portal for district support programmes for family-planning special families."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def create_app(overrides: dict | None = None) -> Flask:
    # Imported here, not above: importing a light module of the package (a password
    # helper process imports `portal.kernel.lowered`) must not load Flask.
    from flask import Flask

    from portal.config import load_config

    app = Flask(__name__, instance_relative_config=True)
    app.config.update(load_config(app.instance_path, overrides))

    from portal import i18n
    from portal.extensions import babel, csrf, db, limiter, login_manager, migrate

    i18n.compile_catalogs()
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(str(p) for p in i18n.catalog_dirs())
    db.init_app(app)
    migrate.init_app(app, db, directory=str(i18n.ROOT / "migrations"))
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.install_template_gettext(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    from portal.audit import trail
    from portal.db import configure_postgresql, configure_sqlite
    from portal.tenancy import scope

    with app.app_context():
        configure_sqlite(db.engine)
        configure_postgresql(db.engine)
        session_class = type(db.session())
    from portal.db import listen_once, refuse_immutable_changes

    scope.install(session_class)
    listen_once(session_class, "before_flush", refuse_immutable_changes)
    trail.install(session_class)

    from portal import (
        models,  # noqa: F401  - register every mapped class
        web,
    )

    web.init_app(app)

    from portal.cli import register_cli

    register_cli(app)
    return app

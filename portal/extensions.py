"""Flask extension singletons, initialised by the app factory."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from portal.db import Base
from portal.kernel import ratelimit  # noqa: F401 - registers the portal+sqlite:// store

db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()
# The store comes from the config (RATELIMIT_STORAGE_URI, from PORTAL_RATELIMIT_STORAGE):
# a storage_uri given here would win over it, and every worker would count alone.
limiter = Limiter(key_func=get_remote_address, default_limits=[])

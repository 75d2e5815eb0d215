from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from portal.kernel.forms import PortalForm


class LoginForm(PortalForm):
    username = StringField(
        _l("Username"), validators=[DataRequired(_l("Please enter your username.")), Length(max=80)]
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Please enter your password.")), Length(max=200)],
    )


class ChangePasswordForm(PortalForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Please enter your current password."))]
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Please enter a new password.")), Length(max=200)],
    )
    confirm = PasswordField(
        _l("Repeat new password"),
        validators=[
            DataRequired(_l("Please repeat the new password.")),
            EqualTo("new_password", _l("The two new passwords differ.")),
        ],
    )


class ReauthForm(PortalForm):
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Please enter your password."))]
    )


class TokenForm(PortalForm):
    name = StringField(
        _l("Token name"), validators=[DataRequired(_l("Please name the token.")), Length(max=80)]
    )
    expires_on = DateField(_l("Expires on (optional)"), validators=[Optional()])


class LocaleForm(PortalForm):
    locale = SelectField(_l("Language"), choices=[("zh_Hans_CN", "中文"), ("en", "English")])

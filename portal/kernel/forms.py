"""The portal's base form: Flask-WTF's, with WTForms' own messages ("This field is
required.", "Not a valid date value.") loaded once per language and process.

Flask-WTF reads WTForms' catalogue from disk for every request that builds a form (it
keeps it only on the request); every duty page paid that parse.
"""

from __future__ import annotations

import functools
from typing import Any

from babel import support
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path


@functools.lru_cache(maxsize=8)
def _wtforms_translations(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class PortalForm(FlaskForm):
    class Meta(FlaskForm.Meta):
        def get_translations(self, form: Any) -> Any:
            return _wtforms_translations(str(get_locale()))

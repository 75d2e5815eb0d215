"""The portal's base form speaks the reader's language for WTForms' own messages, and
reads WTForms' catalogue once per language, not once per request."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict
from wtforms import DateField

from portal.kernel import forms


class _DateForm(forms.PortalForm):
    day = DateField("day")


def _errors(app, locale: str) -> list[str]:  # type: ignore[no-untyped-def]
    from flask_babel import force_locale

    with app.test_request_context("/"), force_locale(locale):
        form = _DateForm(formdata=MultiDict({"day": "not a date"}), meta={"csrf": False})
        form.validate()
        return [str(e) for e in form.day.errors]


def test_wtforms_messages_in_the_readers_language_loaded_once(app) -> None:  # type: ignore[no-untyped-def]
    forms._wtforms_translations.cache_clear()
    assert _errors(app, "zh_Hans_CN") == ["不是有效的日期值。"]
    assert _errors(app, "en") == ["Not a valid date value."]
    for _ in range(3):
        assert _errors(app, "zh_Hans_CN") == ["不是有效的日期值。"]
    assert forms._wtforms_translations.cache_info().misses == 2  # one read per language

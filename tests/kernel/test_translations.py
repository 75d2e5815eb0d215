"""WTForms' own messages and the templates' `_()` in the reader's language, each catalogue
found once per language (per process for WTForms, per request for templates)."""

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


def test_templates_translate_with_one_lookup_per_request_and_language(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Templates' `_()` find the request's translations once, and still follow
    `force_locale` (the audit vocabulary renders English and Chinese in one request)."""
    import flask_babel
    from flask import render_template_string
    from flask_babel import force_locale

    looked_up: list[int] = []
    real = flask_babel.get_translations
    monkeypatch.setattr(flask_babel, "get_translations", lambda: looked_up.append(1) or real())
    page = "{% for i in range(20) %}{{ _('Main menu') }}|{% endfor %}"
    with app.test_request_context("/"), force_locale("zh_Hans_CN"):
        assert render_template_string(page).split("|")[:2] == ["主菜单", "主菜单"]
        with force_locale("en"):
            assert render_template_string(page).split("|")[0] == "Main menu"
        assert render_template_string(page).split("|")[0] == "主菜单"
    assert len(looked_up) == 3  # zh, en, zh again: not 60

"""Locale selection and catalog compilation (one catalog per domain module)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app, request
from flask_login import current_user

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
LOCALES = ("zh_Hans_CN", "en")


def catalog_dirs() -> list[Path]:
    """translations/<domain>/<locale>/LC_MESSAGES/messages.po, one folder per domain."""
    return sorted(p for p in TRANSLATIONS.iterdir() if p.is_dir()) if TRANSLATIONS.exists() else []


def compile_catalogs(force: bool = False) -> None:
    """Compile every .po whose .mo is missing or older (run by `make`, tests and the app)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in TRANSLATIONS.glob("*/*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if force or not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as f:
                catalog = read_po(f, locale=po.parent.parent.name)
            with mo.open("wb") as f:
                write_mo(f, catalog, use_fuzzy=False)


def select_locale() -> str:
    """Chinese first: the user's own saved choice, else the district default (Chinese).

    A signed-in user's browser language is never consulted: an officer whose browser
    sends `Accept-Language: en` still sees the district's Chinese dashboard until they
    choose English in the user menu. Only before anyone is known (the sign-in page, a
    bare error page) does the browser's language pick the page's language, and then
    only when it prefers English to Chinese; the `portal_locale` cookie, when set, wins.
    """
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    try:
        if current_user.is_authenticated:
            return current_user.locale if current_user.locale in LOCALES else default
    except Exception:  # noqa: BLE001 - no user context (CLI)
        pass
    chosen = request.cookies.get("portal_locale") if request else None
    if chosen in LOCALES:
        return chosen
    if request:
        best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
        if best and best.startswith("en"):
            return "en"
    return default


PORTAL = ROOT / "portal"
METHOD_MAP = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def domain_sources(domain: str) -> list[Path]:
    """`core` is portal/*.py and portal/templates; every other domain is its subpackage."""
    if domain == "core":
        return [p for p in PORTAL.glob("*.py")] + list((PORTAL / "templates").rglob("*.html"))
    base = PORTAL / domain
    return list(base.rglob("*.py")) + list(base.rglob("*.html"))


def domains() -> list[str]:
    subpackages = [p.name for p in PORTAL.iterdir() if (p / "__init__.py").exists()]
    return ["core", *sorted(subpackages)]


def extract(domain: str):  # type: ignore[no-untyped-def]
    """The catalog of messages marked in the domain's sources."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_file

    catalog = Catalog(project="portal", charset="utf-8")
    for path in sorted(domain_sources(domain)):
        method = "jinja2" if path.suffix == ".html" else "python"
        options = {"extensions": "jinja2.ext.i18n"} if method == "jinja2" else {}
        for lineno, message, comments, context in extract_from_file(
            method, str(path), keywords=KEYWORDS, options=options
        ):
            catalog.add(
                message,
                None,
                [(str(path.relative_to(ROOT)), lineno)],
                auto_comments=comments,
                context=context,
            )
    return catalog


def update_catalogs() -> list[Path]:
    """Re-extract every domain and merge into its zh_Hans_CN and en catalogs (keeps translations)."""
    from babel.messages.pofile import read_po, write_po

    written = []
    for domain in domains():
        template = extract(domain)
        if not len(template):
            continue
        for locale in LOCALES:
            po = TRANSLATIONS / domain / locale / "LC_MESSAGES" / "messages.po"
            po.parent.mkdir(parents=True, exist_ok=True)
            if po.exists():
                with po.open("rb") as f:
                    catalog = read_po(f, locale=locale)
                catalog.update(template, no_fuzzy_matching=True)
            else:
                from babel.messages.catalog import Catalog

                catalog = Catalog(locale=locale, project="portal", charset="utf-8")
                catalog.update(template, no_fuzzy_matching=True)
            if locale == "en":
                for message in catalog:
                    if message.id and not message.string:
                        message.string = message.id
            with po.open("wb") as f:
                write_po(
                    f, catalog, width=0, omit_header=False, sort_output=True, ignore_obsolete=True
                )
            written.append(po)
    return written


def missing_translations(only_domain: str | None = None) -> list[tuple[str, str]]:
    """(domain, msgid) for every marked string without a zh_Hans_CN translation."""
    from babel.messages.pofile import read_po

    missing = []
    for domain in domains():
        if only_domain and domain != only_domain:
            continue
        po = TRANSLATIONS / domain / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
        translated: dict = {}
        if po.exists():
            with po.open("rb") as f:
                translated = {m.id: m.string for m in read_po(f) if m.id}
        for message in extract(domain):
            if not message.id:
                continue
            key = message.id
            value = translated.get(key)
            if not value or (isinstance(value, tuple) and not all(value)):
                missing.append((domain, key if isinstance(key, str) else key[0]))
    return missing


def _request_translations() -> Any:
    """Flask-Babel's `get_translations()`, looked up once per request and language.

    Flask-Babel finds the translations anew for every `_()` of a template (a dozen
    context-local lookups each; a page has a few hundred). The answer is kept on
    Flask-Babel's own per-request namespace with the locale it was found for, so
    `force_locale` (the audit vocabulary, the CLI) still switches language."""
    from flask import g
    from flask_babel import get_translations

    try:
        space = g._flask_babel
    except (AttributeError, RuntimeError):
        return get_translations()
    locale = getattr(space, "babel_locale", None)
    kept = getattr(space, "portal_translations", None)
    if kept is not None and locale is not None and kept[0] is locale:
        return kept[1]
    translations = get_translations()
    space.portal_translations = (space.babel_locale, translations)
    return translations


def install_template_gettext(app: Any) -> None:
    """Templates' `_()`/`ngettext()` through `_request_translations` (replaces the
    callables Flask-Babel installed; same behaviour).

    `_()` and `gettext()` are then replaced by one function doing what Jinja's new-style
    gettext does (translate, mark safe when autoescaping, always %-format), without its
    two indirect calls through the template context: a page calls `_()` 40 to 200 times,
    and the indirections were a third of each call."""
    from jinja2 import pass_context
    from markupsafe import Markup

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _request_translations().ugettext(s),
        ngettext=lambda s, p, n: _request_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _request_translations().unpgettext(c, s, p, n),
    )

    @pass_context
    def gettext(context: Any, string: str, **variables: Any) -> str:
        rv = _request_translations().ugettext(string)
        if context.eval_ctx.autoescape:
            rv = Markup(rv)  # noqa: S704 - a catalogue's text, %-formatted with escaping
        return rv % variables

    app.jinja_env.globals.update(gettext=gettext, _=gettext)

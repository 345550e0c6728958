"""Translation with the standard library's gettext; Babel is only a tool for extracting strings.

Compiled catalogues live in classroom_server/translations/<lang>/LC_MESSAGES/messages.mo.
A language without a catalogue falls back to English, string by string.
"""

from __future__ import annotations

import gettext as _gettext
from functools import cache
from pathlib import Path

from flask import Flask, g, has_request_context, request, session

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
LANGUAGES = {"en": "English", "es": "Español", "fr": "Français"}


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    return _gettext.translation("messages", str(TRANSLATIONS_DIR), languages=[lang], fallback=True)


def current_language() -> str:
    if has_request_context():
        return getattr(g, "lang", "en")
    return "en"


def gettext(message: str, **params: object) -> str:
    text = translations(current_language()).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params: object) -> str:
    text = translations(current_language()).ngettext(singular, plural, n)
    params.setdefault("num", n)
    return text % params


_ = gettext


def _raw_gettext(message: str) -> str:
    return translations(current_language()).gettext(message)


def _raw_ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_language()).ngettext(singular, plural, n)


def _choose_language(default: str) -> str:
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        session["lang"] = asked
        return asked
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    return request.accept_languages.best_match(list(LANGUAGES)) or default


def init_app(app: Flask, default_language: str, api_prefix: str | None = None) -> None:
    """Pages in the language chosen, asked or preferred. Requests under ``api_prefix`` (a machine
    API) read no session: their answers need no ``Vary: Cookie``."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    # Jinja's newstyle wrappers do the %-formatting themselves, so they get the raw lookups.
    app.jinja_env.install_gettext_callables(_raw_gettext, _raw_ngettext, newstyle=True)  # type: ignore[attr-defined]

    @app.before_request
    def _set_language() -> None:
        if api_prefix and request.path.startswith(api_prefix):
            g.lang = default_language
            return
        g.lang = _choose_language(default_language)

    @app.context_processor
    def _languages() -> dict[str, object]:
        return {"languages": LANGUAGES, "lang": current_language()}

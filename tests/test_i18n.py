"""Translations: Spanish and French are complete, well-formed, compiled, and actually shown.

These tests need no Babel (a developer tool only): the catalogues are read with a small PO
reader below and with the standard library's gettext, as the hub reads them at run time.
"""

from __future__ import annotations

import ast
import gettext
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from jinja2.ext import babel_extract

from classroom_server.i18n import LANGUAGES, TRANSLATIONS_DIR
from classroom_server.services import accounts, security

from .conftest import ADMIN_PASSWORD, TEACHER_PASSWORD, post, sign_in_learner, sign_in_staff

PACKAGE = Path(__file__).resolve().parent.parent / "classroom_server"
DISTRICT = PACKAGE.parent / "sync" / "district"  # the district dashboard speaks the hub's languages
POT = TRANSLATIONS_DIR / "messages.pot"
EXTRA_POT = TRANSLATIONS_DIR / "extra.pot"
TRANSLATED = ("es", "fr")
PLURAL_FORMS = {"es": "nplurals=2; plural=(n != 1);", "fr": "nplurals=2; plural=(n > 1);"}
# Keywords scripts/i18n gives Babel: gettext functions and the error classes whose first
# argument is an English message shown through _().
GETTEXT_FUNCTIONS = {"_": 1, "gettext": 1, "ngettext": 2}
ERROR_CLASSES = {"Invalid", "NotFound", "Forbidden", "Conflict", "Throttled", "ClassroomError",
                 "NotSignedIn", "StorageFull", "StorageUnavailable"}
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?([a-zA-Z%])")
NBSP = "\u00a0"


# --- a small PO reader (msgctxt, plurals, flags, multi-line strings, obsolete entries) ---

@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    strings: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)


def read_po(path: Path) -> dict[tuple[str | None, str], Entry]:
    entries: dict[tuple[str | None, str], Entry] = {}
    entry, target = Entry(), None

    def finish() -> None:
        nonlocal entry, target
        if target is not None:
            assert entry.key not in entries, f"{path.name}: {entry.msgid!r} appears twice"
            entries[entry.key] = entry
        entry, target = Entry(), None

    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#~"):
            if not line:
                finish()
            continue
        if line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            keyword, rest = "", line
        assert rest.startswith('"') and rest.endswith('"'), f"{path.name}:{number}: cannot read {line!r}"
        text = ast.literal_eval(rest)
        if keyword == "":
            assert target is not None, f"{path.name}:{number}: string without a keyword"
        elif keyword == "msgctxt":
            if target not in (None, "msgctxt"):
                finish()
            target = "msgctxt"
        elif keyword == "msgid":
            if target not in (None, "msgctxt"):
                finish()
            target = "msgid"
        elif keyword in ("msgid_plural", "msgstr") or keyword.startswith("msgstr["):
            target = keyword
        else:
            raise AssertionError(f"{path.name}:{number}: unknown keyword {keyword!r}")
        if target == "msgctxt":
            entry.msgctxt = (entry.msgctxt or "") + text
        elif target == "msgid":
            entry.msgid += text
        elif target == "msgid_plural":
            entry.msgid_plural = (entry.msgid_plural or "") + text
        else:
            index = 0 if target == "msgstr" else int(target[7:-1])
            entry.strings[index] = entry.strings.get(index, "") + text
    finish()
    return entries


def messages(path: Path) -> dict[tuple[str | None, str], Entry]:
    return {key: e for key, e in read_po(path).items() if e.msgid}


def headers(path: Path) -> dict[str, str]:
    raw = read_po(path)[(None, "")].strings[0]
    return dict(line.split(": ", 1) for line in raw.splitlines() if ": " in line)


def po_path(lang: str) -> Path:
    return TRANSLATIONS_DIR / lang / "LC_MESSAGES" / "messages.po"


def placeholders(text: str) -> list[str]:
    return sorted(f"{name or ''}:{kind}" for name, kind in PLACEHOLDER.findall(text) if kind != "%")


def test_po_reader_reads_plurals_context_and_flags(tmp_path):
    sample = tmp_path / "sample.po"
    sample.write_text(
        'msgid ""\nmsgstr "Language: xx\\n"\n\n#, fuzzy, python-format\nmsgctxt "c"\nmsgid ""\n"a %(n)s "\n"b"\n'
        'msgstr "x"\n\nmsgid "one"\nmsgid_plural "many"\nmsgstr[0] "1"\nmsgstr[1] "2"\n\n#~ msgid "gone"\n#~ msgstr "old"\n',
        encoding="utf-8",
    )
    found = messages(sample)
    assert set(found) == {("c", "a %(n)s b"), (None, "one")}
    assert found[("c", "a %(n)s b")].flags == {"fuzzy", "python-format"}
    assert found[(None, "one")].msgid_plural == "many" and found[(None, "one")].strings == {0: "1", 1: "2"}
    assert headers(sample) == {"Language": "xx"}
    assert placeholders("%(a)s and %(b)d, 100%% and %s") == [":s", "a:s", "b:d"]


# --- the template covers the source ---

def district_modules() -> list[Path]:
    """The district's page modules, as babel.cfg names them for extraction."""
    config = (PACKAGE.parent / "babel.cfg").read_text(encoding="utf-8")
    return [PACKAGE.parent / name for name in re.findall(r"^\[python: (sync/district/\S+\.py)\]", config, re.M)]


def test_every_district_page_module_is_extracted():
    named = {path.name for path in district_modules()}
    assert {"web.py", "growth_pages.py", "roster_pages.py", "move_pages.py"} <= named
    assert all(path.exists() for path in district_modules())


def strings_in_python() -> set[str]:
    found: set[str] = set()
    for path in [*PACKAGE.rglob("*.py"), *district_modules()]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            count = GETTEXT_FUNCTIONS.get(name or "", 1 if name in ERROR_CLASSES else 0)
            for arg in node.args[:count]:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.add(arg.value)
    return found


def strings_in_templates() -> set[str]:
    found: set[str] = set()
    options = {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}
    for path in [*(PACKAGE / "templates").rglob("*.html"), *(DISTRICT / "templates").rglob("*.html")]:
        with path.open("rb") as f:
            for _lineno, _func, message, _comments in babel_extract(f, tuple(GETTEXT_FUNCTIONS), [], options):
                for text in message if isinstance(message, tuple) else (message,):
                    if text:
                        found.add(text)
    return found


def test_the_source_finder_sees_known_strings():
    assert "Tap your name" in strings_in_templates()
    assert "%(num)d learners" in strings_in_templates()
    python = strings_in_python()
    assert "Well done! Time for a break." in python  # _("...")
    assert "There is no such class." in python  # NotFound("...")


def test_every_string_in_the_source_is_in_the_template():
    template = {msgid for _ctx, msgid in messages(POT)} | {
        e.msgid_plural for e in messages(POT).values() if e.msgid_plural
    }
    missing = (strings_in_python() | strings_in_templates()) - template
    assert not missing, f"run `scripts/i18n extract` and translate: {sorted(missing)}"


def test_words_passed_to_gettext_as_variables_are_in_the_template():
    """Pictures, avatar colours and roles reach _() as variables, so extra.pot lists them by hand."""
    template = {msgid for _ctx, msgid in messages(POT)}
    hand_kept = {msgid for _ctx, msgid in messages(EXTRA_POT)}
    words = set(security.PICTURES) | set(accounts.AVATAR_COLOURS) | {"admin", "teacher", "learner"}
    assert words <= hand_kept, f"add to extra.pot: {sorted(words - hand_kept)}"
    assert accounts.GENERIC_FAILURE in template
    assert hand_kept <= template, "run `scripts/i18n extract`"


# --- each language is complete and well-formed ---

@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated_and_not_fuzzy(lang):
    wanted, have = messages(POT), messages(po_path(lang))
    assert sorted(set(wanted) - set(have)) == [], "missing: run `scripts/i18n update`"
    assert sorted(set(have) - set(wanted)) == [], "not in messages.pot: run `scripts/i18n update`"
    untranslated = [e.msgid for e in have.values() if not e.strings or not all(s.strip() for s in e.strings.values())]
    fuzzy = [e.msgid for e in have.values() if "fuzzy" in e.flags]
    assert untranslated == [] and fuzzy == []
    for e in have.values():
        assert (e.msgid_plural is None) == (wanted[e.key].msgid_plural is None)
        assert len(e.strings) == (2 if e.msgid_plural else 1), e.msgid


@pytest.mark.parametrize("lang", TRANSLATED)
def test_plural_forms_header(lang):
    info = headers(po_path(lang))
    assert info["Language"] == lang
    assert info["Plural-Forms"] == PLURAL_FORMS[lang]
    assert info["Content-Type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_placeholders_are_kept_exactly(lang):
    wrong = []
    for e in messages(po_path(lang)).values():
        sources = [e.msgid] if e.msgid_plural is None else [e.msgid, e.msgid_plural]
        expected = placeholders(sources[-1])
        assert all(placeholders(s) == expected for s in sources), f"English forms differ: {e.msgid!r}"
        for text in e.strings.values():
            if placeholders(text) != expected:
                wrong.append((e.msgid, text))
            values = {name: 1 for name, kind in PLACEHOLDER.findall(text) if name}
            try:
                text % values  # newstyle Jinja gettext always formats, so a lone % would break a page
            except (KeyError, ValueError, TypeError) as exc:
                wrong.append((e.msgid, f"{text} ({exc})"))
    assert wrong == []


def test_french_uses_no_break_spaces_before_double_punctuation():
    bad = [s for e in messages(po_path("fr")).values() for s in e.strings.values() if re.search(r" [:;!?]", s)]
    assert bad == []


# --- the committed .mo files are what the hub reads ---

@pytest.mark.parametrize("lang", TRANSLATED)
def test_compiled_catalogue_matches_the_po_file(lang):
    """A .mo older than or different from its .po fails: run `scripts/i18n compile`."""
    with (TRANSLATIONS_DIR / lang / "LC_MESSAGES" / "messages.mo").open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    expected: dict[object, str] = {}
    for e in messages(po_path(lang)).values():
        msgid = e.msgid if e.msgctxt is None else f"{e.msgctxt}\x04{e.msgid}"
        if e.msgid_plural is None:
            expected[msgid] = e.strings[0]
        else:
            expected.update({(msgid, i): s for i, s in e.strings.items()})
    actual = {k: v for k, v in compiled._catalog.items() if k != ""}  # type: ignore[attr-defined]
    assert actual == expected
    assert compiled.info()["plural-forms"] == PLURAL_FORMS[lang]


@pytest.mark.parametrize(
    ("lang", "english", "translated"),
    [
        ("es", "Tap your name", "Toca tu nombre"),
        ("es", "sun", "sol"),
        ("es", "That did not match. Please try again.", "No coincide. Hay que intentarlo de nuevo."),
        ("fr", "Tap your name", "Touche ton prénom"),
        ("fr", "blue", "bleu"),
        ("fr", "Hello, %(name)s!", f"Bonjour %(name)s{NBSP}!"),
    ],
)
def test_standard_gettext_translates_known_strings(lang, english, translated):
    catalogue = gettext.translation("messages", str(TRANSLATIONS_DIR), languages=[lang])
    assert catalogue.gettext(english) == translated


def test_plural_rules_differ_between_spanish_and_french():
    es = gettext.translation("messages", str(TRANSLATIONS_DIR), languages=["es"])
    fr = gettext.translation("messages", str(TRANSLATIONS_DIR), languages=["fr"])
    one, many = "%(num)d learner", "%(num)d learners"
    assert [es.ngettext(one, many, n) % {"num": n} for n in (0, 1, 2)] == ["0 estudiantes", "1 estudiante", "2 estudiantes"]
    assert [fr.ngettext(one, many, n) % {"num": n} for n in (0, 1, 2)] == ["0 élève", "1 élève", "2 élèves"]


def test_every_offered_language_has_a_catalogue():
    assert set(LANGUAGES) - {"en"} == set(TRANSLATED)
    for lang in TRANSLATED:
        assert (TRANSLATIONS_DIR / lang / "LC_MESSAGES" / "messages.mo").is_file()


# --- the pages people see ---

def page(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("lang", "words", "english"),
    [
        ("es", ["¿Quién eres?", "Soy estudiante", "Soy docente o administrador"], "Who are you?"),
        ("fr", [f"Qui es-tu{NBSP}?", "Je suis élève", "Je suis enseignant ou administrateur"], "Who are you?"),
        ("en", ["Who are you?", "I am a learner"], "¿Quién eres?"),
    ],
)
def test_login_page_in_each_language(client, lang, words, english):
    text = page(client.get(f"/login?lang={lang}"))
    assert f'<html lang="{lang}">' in text
    for word in words:
        assert word in text
    assert english not in text


def test_browser_language_is_used_when_none_is_chosen(client):
    text = page(client.get("/login", headers={"Accept-Language": "fr-SN,fr;q=0.9,en;q=0.5"}))
    assert "Je suis élève" in text


def test_picture_sign_in_page_in_french_names_the_pictures(client, school):
    classroom, learner = school.classes["pictures"], school.learners["ana"]
    text = page(client.get(f"/login/learner/{classroom.id}/{learner.id}?lang=fr"))
    assert "Touche tes 3 images dans l'ordre." in text
    assert 'alt="soleil"' in text and 'alt="poisson"' in text and 'alt="sun"' not in text
    assert "Ce n'est pas moi" in text


def test_failed_learner_sign_in_in_spanish(client, school):
    client.get("/login?lang=es")
    school.secrets["ana"] = list(reversed(school.secrets["ana"]))
    response = sign_in_learner(client, school, "ana")
    assert response.status_code == 400
    assert "No coincide. Hay que intentarlo de nuevo." in page(response)


def test_learner_home_in_french(client, school):
    client.get("/login?lang=fr")
    assert sign_in_learner(client, school, "ana").status_code == 302
    text = page(client.get("/learn/"))
    for word in (f"Bonjour Ana{NBSP}!", "Mes compétences", "Mes objectifs", f"Quel niveau{NBSP}?",
                 "Plus facile", "Se déconnecter"):
        assert word in text
    for english in ("Hello, Ana!", "My skills", "How hard?", "Sign out"):
        assert english not in text
    skills = page(client.get("/learn/skills"))
    assert "Mes compétences" in skills and "Retour à mon parcours" in skills


@pytest.mark.parametrize("lang, words", [
    ("es", ("Ahora no hay wifi", "Tus respuestas están guardadas en este aparato.", "Respuestas por enviar:")),
    ("fr", ("Pas de wifi pour l'instant", "Tes réponses sont enregistrées sur cet appareil.",
            f"Réponses en attente{NBSP}:")),
])
def test_offline_page_in_each_language(client, school, lang, words):
    client.get(f"/login?lang={lang}")
    assert sign_in_learner(client, school, "ana").status_code == 302
    text = page(client.get("/learn/offline"))
    for word in words:
        assert word in text
    assert "No Wi-Fi right now" not in text


def test_teacher_class_page_in_spanish_uses_plurals_and_colour_names(client, school):
    client.get("/login?lang=es")
    assert sign_in_staff(client, "tess", TEACHER_PASSWORD).status_code == 302
    text = page(client.get(f"/teach/classes/{school.classes['pictures'].id}"))
    assert "2 estudiantes" in text
    assert "Los estudiantes entran con 3 dibujos." in text
    assert "azul marino" in text and "verde limón" in text and ">navy<" not in text


def test_service_error_and_flash_are_translated_in_french(client, school):
    client.get("/login?lang=fr")
    assert sign_in_staff(client, "admin", ADMIN_PASSWORD).status_code == 302
    response = post(client, "/admin/staff", {"role": "teacher", "username": "x", "display_name": "X", "password": "long-enough-1"})
    assert response.status_code == 400
    assert "Un nom d'utilisateur compte de 2 à 32 caractères" in page(response)
    response = post(client, "/admin/staff", {"role": "teacher", "username": "zoe", "display_name": "Zoé", "password": "long-enough-1"},
                    follow_redirects=True)
    assert "Compte zoe créé." in page(response)
    assert "enseignant" in page(client.get("/admin/"))


def test_one_vocabulary_of_path_reasons_every_code_phrased():
    """The engine names why it offers something; the learner page phrases exactly those codes and
    the hub's own two, in every language (no code falls back to a generic phrase)."""
    from classroom_server.learning import REASON_CODES
    from classroom_server.services.practice import HUB_REASONS
    from classroom_server.web.learner import REASON_WORDS

    assert set(REASON_WORDS) == set(REASON_CODES) | set(HUB_REASONS)
    assert not set(REASON_CODES) & set(HUB_REASONS)

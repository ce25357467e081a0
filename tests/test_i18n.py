"""Japanese is the UI language; English comes through Django's i18n from the compiled catalog in locale/."""

from __future__ import annotations

import ast
import gettext
import io
import re
import tokenize
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation.template import templatize

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _back_to_japanese():
    """A request in English leaves English active in the thread; later tests expect the default."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


CATALOG = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
TEMPLATES = Path(settings.BASE_DIR) / "templates"
JAPANESE = re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u3400-\u9fff]")  # kana and kanji; symbols such as － may stay
# What a template may leave untranslated: tags and variables, and everything inside translate blocks.
TRANSLATED = re.compile(r"{%\s*blocktranslate.*?%}.*?{%\s*endblocktranslate\s*%}|{%.*?%}|{{.*?}}|{#.*?#}", re.S)


def test_every_message_of_the_english_catalog_is_translated():
    po = polib.pofile(str(CATALOG / "django.po"))
    assert len(po) > 100
    untranslated = [
        e.msgid for e in po if "fuzzy" in e.flags or not (all(e.msgstr_plural.values()) if e.msgid_plural else e.msgstr)
    ]
    assert untranslated == []


def test_the_compiled_catalog_matches_its_source():
    po = polib.pofile(str(CATALOG / "django.po"))
    with (CATALOG / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    singular = [e for e in po if not e.msgid_plural]
    assert {e.msgid: compiled.gettext(e.msgid) for e in singular} == {e.msgid: e.msgstr for e in singular}
    for entry in (e for e in po if e.msgid_plural):
        assert compiled.ngettext(entry.msgid, entry.msgid_plural, 1) == entry.msgstr_plural[0]
        assert compiled.ngettext(entry.msgid, entry.msgid_plural, 2) == entry.msgstr_plural[1]


MARKERS = {"gettext", "gettext_lazy", "gettext_noop", "_", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}
SOURCES = ("kpitrack", "branches", "plans")


def _calls(code: str) -> set[str]:
    """The msgids of the gettext calls in Python source (the first string argument; pgettext's second)."""
    found = set()
    for node in ast.walk(ast.parse(code)):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        if name not in MARKERS:
            continue
        arg = node.args[1] if name.startswith("pgettext") and len(node.args) > 1 else node.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            found.add(arg.value)
    return found


def _template_msgids(path: Path) -> set[str]:
    """The msgids of a template's translate / blocktranslate tags, as makemessages reads them (templatize)."""
    code = "\n".join(line.lstrip() for line in templatize(path.read_text("utf-8")).splitlines())  # no indentation
    found, tokens = set(), list(tokenize.generate_tokens(io.StringIO(code).readline))
    for index, token in enumerate(tokens[:-2]):
        if token.string in {"gettext", "ngettext", "pgettext", "npgettext"} and tokens[index + 1].string == "(":
            strings = [t.string for t in tokens[index + 2 : index + 6] if t.type == tokenize.STRING]
            if strings:
                found.add(ast.literal_eval(strings[1] if token.string.startswith("p") else strings[0]))
    return found


PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|{(\w*)}")


def _placeholders(text: str) -> set[str]:
    return {"".join(match) for match in PLACEHOLDER.findall(text)}


def test_each_translation_keeps_the_placeholders_of_its_japanese_text():
    """An English text that drops or invents a placeholder is a wrong translation (makemessages' fuzzy guesses are)."""
    wrong = []
    for entry in polib.pofile(str(CATALOG / "django.po")):
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        if "count" in entry.msgid_plural:  # a plural's singular may leave the count out
            continue
        wrong += [(entry.msgid, text) for text in translations if _placeholders(text) != _placeholders(entry.msgid)]
    assert wrong == []


def test_every_text_marked_for_translation_is_in_the_english_catalog():
    """A text marked in a template or in Python but never put into locale/ would stay Japanese in English."""
    marked = set()
    for template in TEMPLATES.rglob("*.html"):
        marked |= _template_msgids(template)
    for package in SOURCES:
        for source in (Path(settings.BASE_DIR) / package).rglob("*.py"):
            if "migrations" not in source.parts:
                marked |= _calls(source.read_text("utf-8"))
    catalog = {entry.msgid for entry in polib.pofile(str(CATALOG / "django.po"))}
    assert sorted(text for text in marked if JAPANESE.search(text) and text not in catalog) == []


@pytest.mark.parametrize("template", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html")))
def test_templates_leave_no_japanese_outside_translate_tags(template):
    text = TRANSLATED.sub("", (TEMPLATES / template).read_text(encoding="utf-8"))
    assert JAPANESE.findall(text) == []


def test_pages_are_japanese_by_default(hq_manager):
    html = client_for(hq_manager).get("/branches/tochigi/2023/").content.decode()
    assert "KPI達成状況" in html and "絞り込む" in html and '<html lang="ja">' in html


def test_pages_speak_english_to_an_english_browser(hq_manager):
    html = client_for(hq_manager).get("/branches/tochigi/2023/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in html
    assert "KPI achievement" in html and "Filter" in html and "Year-end actual" in html
    assert "絞り込む" not in html
    assert "生活習慣病予防健診実施率" in html  # the plan's own words stay as written


def test_the_language_switch_sets_english_for_the_session(hq_manager):
    client = client_for(hq_manager)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/national/2023/"})
    assert response.status_code == 302 and response["Location"] == "/national/2023/"
    assert "KPI achievement of every branch" in client.get("/national/2023/").content.decode()

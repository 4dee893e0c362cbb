"""The translations: each addon's ``i18n/<addon>.pot`` covers the strings of its code, and every
``i18n/<lang>.po`` translates every entry of it, keeping placeholders and markup.

The exact comparison with Odoo's own exporter runs in the Odoo suite
(``whatsapp_helpdesk/tests/test_i18n.py``); this one needs no Odoo and finds the strings a reader of
the code finds: ``_()`` / ``env._()`` calls, field labels and helps, selection labels, view
attributes, menu names and ``_t()`` in JavaScript. Regenerate with ``scripts/i18n.sh``.
"""

import ast
import re
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
ADDONS = sorted(p.parent.name for p in ROOT.glob("whatsapp_helpdesk*/__manifest__.py"))
LANGUAGES = ("es", "id", "pt_BR", "zh_CN")

PLACEHOLDER = re.compile(r"%\([a-zA-Z_0-9]+\)[sdrif]|%[sdrif]|\{[a-zA-Z_0-9]*\}")
TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9-]*)")
FIELD_LABEL_POSITION = {
    "Many2one": 1,
    "One2many": 2,
    "Many2many": 4,
    "Reference": 1,
}
VIEW_ATTRIBUTES = ("string", "help", "placeholder", "confirm", "title", "aria-label")
JS_TRANSLATE = re.compile(r"""\b_t\(\s*(["'`])((?:\\.|(?!\1).)*)\1\s*[,)]""")


def _clean(text):
    return " ".join(text.split())


def _pot(addon):
    path = ROOT / addon / "i18n" / f"{addon}.pot"
    assert path.exists(), f"{path.relative_to(ROOT)} missing: run scripts/i18n.sh"
    return polib.pofile(str(path))


def _string(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _python_strings(path):
    """Strings a translator must see in one Python file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name in ("_", "_lt") and node.args and _string(node.args[0]):
            yield _string(node.args[0])
        owner = (
            func.value.id
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
            else None
        )
        if owner != "fields":
            continue
        for keyword in node.keywords:
            if keyword.arg in ("string", "help") and _string(keyword.value):
                yield _string(keyword.value)
            if keyword.arg == "selection" and isinstance(keyword.value, ast.List):
                yield from _selection_labels(keyword.value)
        position = FIELD_LABEL_POSITION.get(name, 0)
        if name == "Selection" and node.args:
            if isinstance(node.args[0], ast.List):
                yield from _selection_labels(node.args[0])
            position = 1
        if len(node.args) > position and _string(node.args[position]):
            yield _string(node.args[position])


def _selection_labels(node):
    for item in node.elts:
        if isinstance(item, ast.Tuple) and len(item.elts) == 2 and _string(item.elts[1]):
            yield _string(item.elts[1])


def _view_strings(path):
    """Labels, helps, placeholders and menu names of the data files (not the demo data)."""
    text = path.read_text(encoding="utf-8")
    for attribute in VIEW_ATTRIBUTES:
        for match in re.finditer(rf'\s{attribute}="([^"{{}}]+)"', text):
            value = match.group(1)
            if "%(" not in value and not value.startswith(("fa ", "o_")):
                yield _unescape(value)
    for match in re.finditer(r'<menuitem\b[^>]*\bname="([^"]+)"', text):
        yield _unescape(match.group(1))


def _unescape(value):
    return (
        value.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    )


def _code_strings(addon):
    folder = ROOT / addon
    found = {}
    for path in folder.rglob("*.py"):
        relative = path.relative_to(folder)
        if relative.parts[0] in ("tests", "migrations") or "sandbox" in relative.parts:
            continue
        for text in _python_strings(path):
            found.setdefault(_clean(text), relative)
    manifest = ast.literal_eval((folder / "__manifest__.py").read_text(encoding="utf-8"))
    for name in manifest.get("data", []):
        if name.endswith(".xml"):
            for text in _view_strings(folder / name):
                found.setdefault(_clean(text), name)
    for path in (folder / "static" / "src").rglob("*.js"):
        for match in JS_TRANSLATE.finditer(path.read_text(encoding="utf-8")):
            if "${" not in match.group(2):
                found.setdefault(
                    _clean(match.group(2).replace("\\'", "'").replace('\\"', '"')),
                    path.relative_to(folder),
                )
    return {text: where for text, where in found.items() if text}


@pytest.mark.parametrize("addon", ADDONS)
def test_the_pot_has_every_string_of_the_code(addon):
    entries = {_clean(entry.msgid) for entry in _pot(addon)}
    missing = sorted(
        f"{where}: {text!r}" for text, where in _code_strings(addon).items() if text not in entries
    )
    assert not missing, (
        f"{addon}/i18n/{addon}.pot is older than the code; "
        "run scripts/i18n.sh and translate the new entries:\n" + "\n".join(missing[:40])
    )


def _placeholders(text):
    return sorted(PLACEHOLDER.findall(text))


def _tags(text):
    return sorted(TAG.findall(text))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("addon", ADDONS)
def test_every_entry_is_translated_keeping_placeholders_and_markup(addon, language):
    path = ROOT / addon / "i18n" / f"{language}.po"
    assert path.exists(), f"{path.relative_to(ROOT)} missing"
    po = polib.pofile(str(path))
    assert po.metadata.get("Language") == language
    pot_ids = {entry.msgid for entry in _pot(addon)}
    po_ids = {entry.msgid for entry in po if not entry.obsolete}
    assert pot_ids - po_ids == set(), f"{path.name} misses entries: run scripts/i18n.sh"
    assert po_ids - pot_ids == set(), (
        f"{path.name} has entries the code no longer has: run scripts/i18n.sh"
    )
    problems = []
    for entry in po:
        if entry.obsolete:
            continue
        if not entry.msgstr.strip():
            problems.append(f"untranslated: {entry.msgid!r}")
        elif "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {entry.msgid!r}")
        elif _placeholders(entry.msgid) != _placeholders(entry.msgstr):
            problems.append(f"placeholders differ: {entry.msgid!r} -> {entry.msgstr!r}")
        elif _tags(entry.msgid) != _tags(entry.msgstr):
            problems.append(f"markup differs: {entry.msgid!r} -> {entry.msgstr!r}")
    assert not problems, f"{path.relative_to(ROOT)}: {len(problems)} problems\n" + "\n".join(
        problems[:40]
    )

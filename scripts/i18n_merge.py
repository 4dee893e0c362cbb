"""Bring each addon's i18n/<lang>.po in step with its freshly exported i18n/<addon>.pot.

The .pot header loses the export's timestamps so that exporting unchanged code changes nothing.
Each .po keeps its translations, gets the new entries (empty, to translate) and drops the entries
the code no longer has. Usage: python scripts/i18n_merge.py ADDON [ADDON...] (scripts/i18n.sh).
"""

import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = {
    "es": ("Spanish", "nplurals=2; plural=(n != 1);"),
    "id": ("Indonesian", "nplurals=1; plural=0;"),
    "pt_BR": ("Portuguese (Brazil)", "nplurals=2; plural=(n > 1);"),
    "zh_CN": ("Chinese (Simplified)", "nplurals=1; plural=0;"),
}
HEADER = {
    "Project-Id-Version": "Odoo Server 18.0",
    "Report-Msgid-Bugs-To": "",
    "MIME-Version": "1.0",
    "Content-Type": "text/plain; charset=UTF-8",
    "Content-Transfer-Encoding": "",
}


def _save(catalog, path):
    catalog.wrapwidth = 78
    catalog.save(str(path))


def merge(addon):
    folder = ROOT / addon / "i18n"
    pot_path = folder / f"{addon}.pot"
    pot = polib.pofile(str(pot_path), wrapwidth=78)
    pot.metadata = dict(HEADER, **{"Plural-Forms": ""})
    _save(pot, pot_path)
    for code, (name, plural) in LANGUAGES.items():
        path = folder / f"{code}.po"
        po = polib.pofile(str(path), wrapwidth=78) if path.exists() else polib.POFile(wrapwidth=78)
        po.merge(pot)
        for entry in po.obsolete_entries():
            po.remove(entry)
        po.header = (
            "Translation of Odoo Server.\n"
            f"This file contains the translation of the following modules:\n\t* {addon}\n"
        )
        po.metadata = dict(
            HEADER, **{"Language": code, "Language-Team": name, "Plural-Forms": plural}
        )
        _save(po, path)
        missing = sum(1 for e in po if not e.msgstr and not e.obsolete)
        print(f"{path.relative_to(ROOT)}: {len(po)} entries, {missing} to translate")


if __name__ == "__main__":
    for name in sys.argv[1:]:
        merge(name)

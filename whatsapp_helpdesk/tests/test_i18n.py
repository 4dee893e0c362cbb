import ast
import io
import re
from pathlib import Path

import polib
from odoo.modules.module import get_module_path
from odoo.tests import HttpCase, tagged
from odoo.tools.translate import trans_export


def _demo_ids(module):
    """The external ids the module's demo files create (a .pot is made without demo data)."""
    path = Path(get_module_path(module))
    manifest = ast.literal_eval((path / "__manifest__.py").read_text(encoding="utf-8"))
    ids = set()
    for name in manifest.get("demo", []):
        text = (path / name).read_text(encoding="utf-8")
        ids.update(re.findall(r'<(?:record|template|menuitem)\b[^>]*\bid="([^"]+)"', text))
    return {i if "." in i else f"{module}.{i}" for i in ids}


def _is_demo(place, demo):
    """``place`` is an occurrence (``model:product.template,name:module.xmlid``); the parent
    records of ``_inherits`` get ``<xmlid>_<parent table>`` ids."""
    xmlid = place.split(":")[-1]
    return any(xmlid == i or xmlid.startswith(f"{i}_") for i in demo)


@tagged("post_install", "-at_install")
class TestTranslations(HttpCase):
    """Each installed whatsapp_helpdesk* addon's committed .pot is what Odoo's own exporter makes of
    the code (regenerate with scripts/i18n.sh), and its translations reach the screens."""

    def _modules(self):
        return (
            self.env["ir.module.module"]
            .search([("name", "=like", "whatsapp_helpdesk%"), ("state", "=", "installed")])
            .mapped("name")
        )

    def _exists(self, place):
        if place.startswith("code:"):
            return True
        return bool(self.env.ref(place.split(":")[-1], raise_if_not_found=False))

    def test_the_committed_pot_is_what_odoo_exports(self):
        for module in self._modules():
            buffer = io.BytesIO()
            trans_export(False, [module], buffer, "po", self.env.cr)
            exported = polib.pofile(buffer.getvalue().decode())
            demo = _demo_ids(module)
            wanted = set()
            for entry in exported:
                places = [place for place, _line in entry.occurrences if not _is_demo(place, demo)]
                if places:
                    wanted.add(entry.msgid)
            pot_path = Path(get_module_path(module)) / "i18n" / f"{module}.pot"
            # a record of the .pot this database lacks (a field another installed addon adds,
            # e.g. rating_ids when `rating` is installed) cannot be judged here
            committed = {
                entry.msgid
                for entry in polib.pofile(str(pot_path))
                if any(self._exists(place) for place, _line in entry.occurrences)
            }
            self.assertFalse(
                sorted(wanted - committed)[:20],
                f"{module}: strings of the code missing from its .pot: run scripts/i18n.sh",
            )
            self.assertFalse(
                sorted(committed - wanted)[:20],
                f"{module}: its .pot has strings the code no longer has: run scripts/i18n.sh",
            )

    def test_a_chinese_and_a_brazilian_user_see_their_language(self):
        langs = self.env["res.lang"].with_context(active_test=False)
        for code in ("zh_CN", "pt_BR"):
            if not langs.search([("code", "=", code), ("active", "=", True)]):
                langs._activate_lang(code)
        self.env["ir.module.module"]._load_module_terms(self._modules(), ["zh_CN", "pt_BR"])
        menu = self.env.ref("whatsapp_helpdesk.menu_whatsapp_campaigns")
        for code in ("zh_CN", "pt_BR"):
            po = polib.pofile(
                str(Path(get_module_path("whatsapp_helpdesk")) / "i18n" / f"{code}.po")
            )
            expected = po.find("Campaigns").msgstr
            self.assertEqual(menu.with_context(lang=code).name, expected)
            label = (
                self.env["whatsapp.conversation"]
                .with_context(lang=code)
                .fields_get(["window_end"], ["string"])
            )
            field = self.env["ir.model.fields"]._get("whatsapp.conversation", "window_end")
            self.assertEqual(
                label["window_end"]["string"],
                po.find(field.field_description).msgstr,
            )
            # Python messages: read from the .po at run time
            message = self.env(context={"lang": code})._("Reason: %s", "x")
            self.assertEqual(message, po.find("Reason: %s").msgstr % "x")
            # the web client's strings (workspace, dashboard) served to the browser
            response = self.url_open(
                f"/web/webclient/translations/1?lang={code}&mods=whatsapp_helpdesk"
            )
            served = response.json()["modules"]["whatsapp_helpdesk"]["messages"]
            self.assertTrue(served, "no web client translations served")
            self.assertTrue(all(m["string"] for m in served))

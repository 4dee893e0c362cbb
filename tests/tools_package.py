"""``whatsapp_helpdesk/tools`` loaded by file path as the package ``wa_tools``: importing it as
``whatsapp_helpdesk.tools`` would run the addon's ``__init__`` and so import Odoo. Used by the
plain tests (``conftest.py``) and by the scripts of ``bench/`` that need no Odoo."""

import importlib.util
import pathlib
import sys

TOOLS_DIR = pathlib.Path(__file__).resolve().parent.parent / "whatsapp_helpdesk" / "tools"


def load_tools():
    """The ``wa_tools`` package (loaded once per process)."""
    if "wa_tools" in sys.modules:
        return sys.modules["wa_tools"]
    spec = importlib.util.spec_from_file_location(
        "wa_tools", TOOLS_DIR / "__init__.py", submodule_search_locations=[str(TOOLS_DIR)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["wa_tools"] = module
    spec.loader.exec_module(module)
    return module

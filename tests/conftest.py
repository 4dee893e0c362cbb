"""Load ``whatsapp_helpdesk/tools`` as the package ``wa_tools`` (``tools_package.py``), and the
fixtures of the sandbox tests (``tests/test_sandbox_*.py``, helpers in ``sandbox_support.py``).

Importing it as ``whatsapp_helpdesk.tools`` would run the addon's ``__init__`` and so import Odoo;
these tests must run without Odoo.
"""

import pytest
from tools_package import load_tools  # tests/ is on the path of its conftest

load_tools()


# sandbox_support imports wa_tools: only once it is loaded
from sandbox_support import Control, Graph, Receiver, make_sandbox  # noqa: E402


@pytest.fixture
def receiver():
    """A local webhook endpoint recording what the sandbox posts."""
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def sandbox(receiver):
    """A sandbox on a free port posting its webhooks to ``receiver``."""
    sandbox = make_sandbox(receiver.url)
    yield sandbox
    sandbox.stop()


@pytest.fixture
def graph(sandbox):
    """A Graph API client of ``sandbox`` with its access token."""
    return Graph(sandbox.base_url)


@pytest.fixture
def control(sandbox):
    """A client of the control API of ``sandbox`` with its control token."""
    return Control(sandbox)

"""Fixtures of the plain ``tools.cloud_api`` tests: ``stub_graph`` (the stub Graph API server,
emptied for each test; not the sandbox's ``graph`` of ``conftest.py``), ``session`` (a recording
``urllib3`` pool of one connection that blocks when it is taken, so that a connection the client
fails to give back stalls the next request) and ``client`` (a ``CloudApiClient`` pointed at the
stub). A test module
loads them with ``pytest_plugins = ["graph_fixtures"]``.

They are apart from ``graph_stub.py`` because the tests import that one by name first, and pytest
rewrites the assertions of a plugin only when it is the first to import it."""

import pytest
from graph_stub import PHONE_ID, TOKEN, WABA_ID, RecordingSession, StubGraph
from wa_tools.cloud_api import CloudApiClient


@pytest.fixture(scope="module")
def graph_server():
    with StubGraph() as stub:
        yield stub


@pytest.fixture
def stub_graph(graph_server):
    """The stub server, with no scripted reply and no recorded request; all replies get used."""
    graph_server.reset()
    yield graph_server
    assert not graph_server.replies, "scripted replies left unused"


@pytest.fixture
def session():
    recording = RecordingSession()
    yield recording
    recording.clear()


@pytest.fixture
def client(stub_graph, session):
    return CloudApiClient(
        token=TOKEN,
        phone_number_id=PHONE_ID,
        waba_id=WABA_ID,
        base_url=stub_graph.url,
        timeout=(1, 2),
        session=session,
    )

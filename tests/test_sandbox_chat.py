"""The sandbox's language model (``tools/sandbox/chat.py``) over real HTTP, and the client of
chat-completions endpoints (``tools/chat_api.py``) against it: the key, the deterministic
answers, the knobs that make it slow, fail or talk nonsense, and what the control API shows."""

import json

import pytest
import requests
from urllib3 import exceptions as urllib3_exceptions
from wa_tools import chat_api
from wa_tools.assistant import llm
from wa_tools.sandbox import chat

KEY = "sandbox-llm-key"


def post(sandbox, body, key=KEY):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return requests.post(
        f"{sandbox.base_url}/llm/v1/chat/completions", json=body, headers=headers, timeout=5
    )


def client(sandbox, **kwargs):
    return chat_api.ChatClient(f"{sandbox.base_url}/llm/v1", chat.MODEL, KEY, **kwargs)


def test_key_and_request_are_checked(sandbox):
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    for key in (None, "wrong"):
        answer = post(sandbox, body, key)
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "invalid_api_key"
    for bad in (
        {},
        {"model": "m"},
        {"model": "m", "messages": []},
        {"model": "m", "messages": [{"role": "x", "content": "y"}]},
        [1],
    ):
        assert post(sandbox, bad).status_code == 400, bad
    assert sandbox.chat_calls == []


def test_the_model_classifies_deterministically(sandbox):
    messages = llm.classify_messages("cadê meu pedido S00042?", language="pt_BR")
    result = client(sandbox).complete(messages)
    assert json.loads(result.content) == {
        "intent": "order_status",
        "order_ref": "S00042",
        "negative": False,
    }
    assert result.prompt_tokens > 0 and result.completion_tokens > 0
    again = client(sandbox).complete(messages)
    assert again.content == result.content
    assert len(sandbox.chat_calls) == 2 and sandbox.chat_calls[0]["answer"] == result.content


def test_the_model_answers_faq_prompts_from_the_first_entry(sandbox):
    from wa_tools import faq

    entries = [
        faq.Entry(1, "en", ("Delivery?",), (), "2 to 5 days."),
        faq.Entry(2, "en", ("Pay?",), (), "Cards."),
    ]
    result = client(sandbox).complete(llm.faq_messages("how long?", entries))
    assert result.content == "2 to 5 days."
    assert client(sandbox).complete(llm.faq_messages("x", [])).content == llm.NO_ANSWER


def test_fixed_answer_error_garbage_and_timeout_knobs(sandbox):
    messages = llm.classify_messages("where is my order?")
    sandbox.configure(chat_answer='{"intent": "hours"}')
    assert client(sandbox).complete(messages).content == '{"intent": "hours"}'
    sandbox.configure(chat_answer=None, chat_error_next=1)
    with pytest.raises(chat_api.ChatError) as error:
        client(sandbox).complete(messages)
    assert (error.value.kind, error.value.http_status) == ("http", 500)
    assert "server had an error" in str(error.value)
    sandbox.configure(chat_garbage_next=1)
    with pytest.raises(llm.BadAnswer):
        llm.parse_classification(client(sandbox).complete(messages).content, "where is my order?")
    sandbox.configure(chat_timeout_next=1)  # the fixture's timeout_seconds: 0.6
    with pytest.raises(chat_api.ChatError) as error:
        client(sandbox, timeout=0.2).complete(messages)
    assert error.value.kind == "timeout"
    assert client(sandbox).complete(messages).content  # the knobs are spent
    assert [c["fault"] for c in sandbox.chat_calls] == [None, "error", "garbage", None, None]


def test_latency_knob(sandbox):
    sandbox.configure(chat_latency_ms=200)
    result = client(sandbox).complete(llm.classify_messages("hi"))
    assert result.duration_ms >= 200


def test_control_api_shows_the_calls_but_never_the_key(sandbox, control):
    client(sandbox).complete(llm.classify_messages("hi"))
    calls = control.get("/chat").json()["calls"]
    assert len(calls) == 1 and calls[0]["model"] == chat.MODEL
    knobs = control.get("/config").json()
    assert "chat_api_key" not in knobs and knobs["chat_error_next"] == 0
    sandbox.reset()
    assert sandbox.chat_calls == []


def test_models_route(sandbox):
    answer = requests.get(
        f"{sandbox.base_url}/llm/v1/models", headers={"Authorization": f"Bearer {KEY}"}, timeout=5
    )
    assert answer.json()["data"][0]["id"] == chat.MODEL


# -- the client against other answers ------------------------------------------------------------


def test_client_configuration_errors():
    for url in ("", None, "ftp://x/v1", "javascript:alert(1)", "http://"):
        with pytest.raises(chat_api.ChatError) as error:
            chat_api.ChatClient(url, "m")
        assert error.value.kind == "config"
    with pytest.raises(chat_api.ChatError):
        chat_api.ChatClient("http://127.0.0.1/v1", " ")


def test_settings_validators():
    """What the provider's form accepts: the same rules the client applies."""
    for url in ("http://127.0.0.1:11434/v1", "https://api.example/v1", " https://h/v1 "):
        assert chat_api.valid_base_url(url)
    for url in ("", None, 42, "ftp://x/v1", "javascript:alert(1)", "http://", "http://[::1"):
        assert not chat_api.valid_base_url(url)
    for seconds in (0.1, 8, 60):
        assert chat_api.valid_timeout(seconds)
    for seconds in (0, -1, 60.5, 1e308, float("nan"), float("inf"), True, "8", None):
        assert not chat_api.valid_timeout(seconds)
    assert chat_api.ChatClient("http://h/v1", "m", timeout=1e9).timeout == chat_api.DEFAULT_TIMEOUT


def test_client_network_error():
    # nothing listens on port 9
    with pytest.raises(chat_api.ChatError) as error:
        chat_api.ChatClient("http://127.0.0.1:9/v1", "m", timeout=1).complete([])
    assert error.value.kind in ("network", "timeout")


class _Response:
    """What a ``urllib3.PoolManager`` answers with ``preload_content=False``."""

    def __init__(self, status, body, broken=None):
        self.status = status
        self._body = body
        self._broken = broken
        self.released = False

    def stream(self, amount):
        for i in range(0, len(self._body), amount):
            yield self._body[i : i + amount]
        if self._broken:
            raise self._broken

    def close(self):
        pass

    def release_conn(self):
        self.released = True


class _Session:
    """A stand-in ``urllib3.PoolManager``: records each request, answers ``status`` and
    ``body`` (or raises ``error``)."""

    def __init__(self, status=200, body=b"{}", error=None, broken=None):
        self.answer = _Response(status, body, broken)
        self.error = error
        self.calls = []

    def request(self, method, url, **kwargs):
        self.calls.append((method, url, kwargs))
        if self.error:
            raise self.error
        return self.answer


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"choices": []}',
        b'{"choices": [{"message": {"content": 42}}]}',
        b'{"choices": [{"message": {}}]}',
        b"x" * (chat_api.MAX_ANSWER_BYTES + 1),
    ],
)
def test_client_refuses_unusable_answers(body):
    session = _Session(body=body)
    with pytest.raises(chat_api.ChatError) as error:
        chat_api.ChatClient("https://llm.example/v1", "m", session=session).complete([])
    assert error.value.kind == "bad_response"


def test_client_request_shape_and_usage_bounds():
    body = json.dumps(
        {
            "choices": [{"message": {"content": "ok"}}],
            "usage": {"prompt_tokens": 10**12, "completion_tokens": True},
        }
    ).encode()
    session = _Session(body=body)
    result = chat_api.ChatClient("https://llm.example/v1/", "m", "k", timeout=4, session=session)
    result = result.complete([{"role": "user", "content": "hi"}])
    assert (result.content, result.prompt_tokens, result.completion_tokens) == ("ok", 0, 0)
    method, url, kwargs = session.calls[0]
    assert (method, url) == ("POST", "https://llm.example/v1/chat/completions")
    assert kwargs["headers"]["Authorization"] == "Bearer k"
    timeout = kwargs["timeout"]
    assert (timeout.connect_timeout, timeout.read_timeout) == (4.0, 4.0)
    assert kwargs["redirect"] is False and kwargs["retries"] is False
    assert session.answer.released
    payload = json.loads(kwargs["body"])
    assert payload["model"] == "m" and payload["temperature"] == 0.0


def test_client_without_key_sends_no_authorization():
    session = _Session(body=b'{"choices": [{"message": {"content": "ok"}}]}')
    chat_api.ChatClient("http://127.0.0.1:11434/v1", "llama3", session=session).complete([])
    assert "Authorization" not in session.calls[0][2]["headers"]


def test_client_http_errors_carry_the_providers_message():
    session = _Session(429, b'{"error": {"message": "Rate limit reached"}}')
    with pytest.raises(chat_api.ChatError) as error:
        chat_api.ChatClient("https://llm.example/v1", "m", session=session).complete([])
    assert (error.value.kind, error.value.http_status) == ("http", 429)
    assert "Rate limit reached" in str(error.value)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (urllib3_exceptions.ReadTimeoutError(None, "/", "read timed out"), "timeout"),
        (urllib3_exceptions.ConnectTimeoutError("connect timed out"), "timeout"),
        (urllib3_exceptions.NewConnectionError(None, "refused"), "network"),
        (urllib3_exceptions.SSLError("bad certificate"), "network"),
        (urllib3_exceptions.LocationParseError("http://[::1"), "network"),
        (ValueError("bad header"), "network"),
    ],
)
def test_client_maps_every_transport_failure(error, kind):
    session = _Session(error=error)
    with pytest.raises(chat_api.ChatError) as raised:
        chat_api.ChatClient("https://llm.example/v1", "m", session=session).complete([])
    assert raised.value.kind == kind and raised.value.http_status is None


@pytest.mark.parametrize(
    ("broken", "kind"),
    [
        (urllib3_exceptions.ReadTimeoutError(None, "/", "read timed out"), "timeout"),
        (urllib3_exceptions.ProtocolError("connection reset"), "network"),
    ],
)
def test_an_answer_that_breaks_off_is_mapped_and_its_connection_released(broken, kind):
    session = _Session(body=b'{"choices": [', broken=broken)
    with pytest.raises(chat_api.ChatError) as raised:
        chat_api.ChatClient("https://llm.example/v1", "m", session=session).complete([])
    assert raised.value.kind == kind
    assert session.answer.released


def test_clients_without_a_session_share_one_pool():
    first = chat_api.ChatClient("https://llm.example/v1", "m")
    second = chat_api.ChatClient("http://127.0.0.1:11434/v1", "llama3")
    assert first.session is second.session is chat_api.shared_pool()

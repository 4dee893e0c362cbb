"""The sandbox's language model (``tools/sandbox/chat.py``) over real HTTP, and the client of
chat-completions endpoints (``tools/chat_api.py``) against it: the key, the deterministic
answers, the knobs that make it slow, fail or talk nonsense, and what the control API shows."""

import json
import time

import pytest
import requests
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
    started = time.monotonic()
    with pytest.raises(chat_api.ChatError) as error:
        client(sandbox, timeout=0.2).complete(messages)
    assert error.value.kind == "timeout" and time.monotonic() - started < 0.6
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
    def __init__(self, status, body):
        self.status_code = status
        self._body = body

    def iter_content(self, chunk_size):
        for i in range(0, len(self._body), chunk_size):
            yield self._body[i : i + chunk_size]

    def close(self):
        pass


class _Session:
    def __init__(self, status=200, body=b"{}"):
        self.answer = _Response(status, body)
        self.calls = []

    def post(self, url, **kwargs):
        self.calls.append((url, kwargs))
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
    url, kwargs = session.calls[0]
    assert url == "https://llm.example/v1/chat/completions"
    assert kwargs["headers"]["Authorization"] == "Bearer k"
    assert kwargs["timeout"] == 4.0 and kwargs["allow_redirects"] is False
    payload = json.loads(kwargs["data"])
    assert payload["model"] == "m" and payload["temperature"] == 0.0


def test_client_without_key_sends_no_authorization():
    session = _Session(body=b'{"choices": [{"message": {"content": "ok"}}]}')
    chat_api.ChatClient("http://127.0.0.1:11434/v1", "llama3", session=session).complete([])
    assert "Authorization" not in session.calls[0][1]["headers"]


def test_client_http_errors_carry_the_providers_message():
    session = _Session(429, b'{"error": {"message": "Rate limit reached"}}')
    with pytest.raises(chat_api.ChatError) as error:
        chat_api.ChatClient("https://llm.example/v1", "m", session=session).complete([])
    assert (error.value.kind, error.value.http_status) == ("http", 429)
    assert "Rate limit reached" in str(error.value)

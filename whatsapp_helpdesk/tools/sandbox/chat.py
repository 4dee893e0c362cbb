"""The sandbox's language model: an OpenAI-compatible chat-completions endpoint under ``/llm/v1``,
so that the assistant's provider path runs in tests and ``make run`` with no account.

``POST /llm/v1/chat/completions`` checks the key (``chat_api_key``) and the request as hosted
providers do, then answers deterministically: a classification prompt (``tools.assistant.llm``)
gets the local understanding of the customer's text (with the prompt's FAQ questions) as the
JSON the prompt asks for, an FAQ prompt gets the answer of the first entry it gives.
``chat_answer`` replaces that with fixed content; ``chat_latency_ms``, ``chat_error_next`` (HTTP
500), ``chat_timeout_next`` (answers ``timeout_seconds`` late) and ``chat_garbage_next`` (an
unknown intent, invented figures) make it misbehave. ``GET /llm/v1/models`` lists the model.
Every call is recorded in ``chat_calls``.
"""

import hmac
import json
import math

from .. import faq
from ..assistant import llm
from ..assistant import understand as u
from .web import Request, Response, route, routes

MODEL = "sandbox-chat"
_GARBAGE = {
    llm.CLASSIFY: 'Sure! Here is what I think: {"intent": "teleport", "order_ref": "S99999"}',
    llm.ANSWER_FAQ: "Your order S99999 arrives in 99 days, and shipping costs 1234.",
}


def _error(status: int, message: str, error_type: str, code=None) -> Response:
    body = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
    return Response.json(body, status)


def handle(sandbox, request: Request) -> Response:
    """Answer a ``/llm/...`` request after the key check."""
    scheme, _, key = request.header("Authorization").partition(" ")
    expected = sandbox.config.chat_api_key or ""
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        key.strip().encode(), expected.encode()
    ):
        return _error(
            401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
        )
    handler, params = route(_ROUTES, request)
    if handler is None:
        return _error(
            404, f"Unknown route {request.method} {request.path}", "invalid_request_error"
        )
    return handler(sandbox, request, **params)


def _check(body) -> str:
    """Why ``body`` is not a chat-completions request, or ""."""
    if not isinstance(body, dict):
        return "The body must be a JSON object."
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "you must provide a model parameter"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "'messages' must be a non-empty array"
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in (
            "system",
            "user",
            "assistant",
        ):
            return "each message needs a role: system, user or assistant"
        if not isinstance(message.get("content"), str):
            return "each message needs a text content"
    return ""


def answer(messages) -> str:
    """The deterministic model: what it answers ``messages``."""
    task = llm.task_of(messages)
    if task == llm.CLASSIFY:
        questions = llm.faq_questions(messages)
        matcher = faq.Matcher([faq.Entry(i, "", (q,)) for i, q in enumerate(questions)])
        understood = u.understand(
            llm.customer_text(messages), matcher=matcher if questions else None
        )
        return json.dumps(
            {
                "intent": understood.intent,
                "order_ref": understood.order_ref,
                "negative": understood.negative,
            }
        )
    if task == llm.ANSWER_FAQ:
        answers = llm.entry_answers(messages)
        return answers[0] if answers else llm.NO_ANSWER
    return "OK"


def _tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


def completions(sandbox, request: Request) -> Response:
    """``POST /llm/v1/chat/completions``."""
    try:
        body = request.json()
    except ValueError:
        return _error(
            400, "We could not parse the JSON body of your request.", "invalid_request_error"
        )
    problem = _check(body)
    if problem:
        return _error(400, problem, "invalid_request_error")
    entry, fault, delay = sandbox.accept_chat(body)
    if fault == "error":
        return Response.json(
            {
                "error": {
                    "message": "The server had an error while processing your request.",
                    "type": "server_error",
                    "param": None,
                    "code": None,
                }
            },
            500,
            delay=delay,
        )
    messages = body["messages"]
    if fault == "garbage":
        content = _GARBAGE.get(llm.task_of(messages), "…")
    elif sandbox.config.chat_answer is not None:
        content = sandbox.config.chat_answer
    else:
        content = answer(messages)
    sandbox.record_chat_answer(entry, content)
    prompt = _tokens("".join(m["content"] for m in messages))
    completion = _tokens(content)
    result = {
        "id": f"chatcmpl-sandbox-{len(sandbox.chat_calls)}",
        "object": "chat.completion",
        "created": int(entry["time"]),
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }
    return Response.json(result, delay=delay)


def models(sandbox, request: Request) -> Response:
    """``GET /llm/v1/models``."""
    return Response.json({"object": "list", "data": [{"id": MODEL, "object": "model"}]})


_ROUTES = routes(
    "/llm",
    [
        ("POST", r"/v1/chat/completions/?", completions),
        ("GET", r"/v1/models/?", models),
    ],
)

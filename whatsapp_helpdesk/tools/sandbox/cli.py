"""The sandbox's command line, ``python -m tools.sandbox`` (from the addon directory)::

    python -m tools.sandbox serve --webhook-url http://127.0.0.1:8069/whatsapp/webhook
    python -m tools.sandbox say --from 15551234567 --name Alice "Hello"
    python -m tools.sandbox config burst_429=3 fail_numbers=15550009999

``serve`` takes every knob as an option or a ``WA_SANDBOX_<KNOB>`` environment variable and logs
the control page's URL with its token. ``say`` and ``config`` call the control API with the token
of ``--control-token`` or ``$WA_SANDBOX_CONTROL_TOKEN``.
"""

import argparse
import json
import logging
import os
import sys
import time

import requests

from .config import CONTROL_TOKEN_ENV, DEFAULT_URL, ENV_PREFIX, FIELDS, config_from_env, field_kind
from .control import TOKEN_HEADER
from .server import Sandbox

_logger = logging.getLogger(__name__)


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    """One option per ``SandboxConfig`` field (default: the ``WA_SANDBOX_*`` env variable)."""
    for name, field in FIELDS.items():
        option = "--" + name.replace("_", "-")
        help_text = f"{field.metadata['help']} (env {ENV_PREFIX}{name.upper()})"
        if field_kind(name)[0] is bool:
            parser.add_argument(option, action=argparse.BooleanOptionalAction, help=help_text)
        else:
            parser.add_argument(option, metavar=name.upper(), help=help_text)


def _add_client_options(parser: argparse.ArgumentParser, default_url: str) -> None:
    """Where the control API is, and the token it needs."""
    parser.add_argument("--sandbox-url", default=default_url, help=f"default {default_url}")
    parser.add_argument(
        "--control-token",
        default=os.environ.get(CONTROL_TOKEN_ENV),
        metavar="TOKEN",
        help=f"the sandbox's control token (default: ${CONTROL_TOKEN_ENV})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.sandbox", description="Local WhatsApp Cloud API sandbox."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the sandbox server until Ctrl-C")
    _add_config_options(serve)
    serve.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="WARNING keeps the log quiet under load (no line per send)",
    )
    default_url = os.environ.get(ENV_PREFIX + "URL", DEFAULT_URL)
    say = commands.add_parser("say", help="make a customer write a text message")
    _add_client_options(say, default_url)
    say.add_argument("--from", dest="sender", required=True, help="the customer's number")
    say.add_argument("--name", default="Customer", help="the customer's profile name")
    say.add_argument("text", nargs="+", help="the message")
    config = commands.add_parser("config", help="show, or set with key=value, the knobs")
    _add_client_options(config, default_url)
    config.add_argument("pairs", nargs="*", metavar="key=value")
    return parser


def _serve(args) -> int:
    overrides = {name: getattr(args, name) for name in FIELDS}
    config = config_from_env(**overrides)
    logging.basicConfig(
        level=args.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    sandbox = Sandbox(config).start()
    _logger.info("WhatsApp Cloud API sandbox on %s", sandbox.base_url)
    _logger.info("control page: %s", sandbox.control_url)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        _logger.info("stopping")
    finally:
        sandbox.stop()
    return 0


def _call(method: str, url: str, token: str | None, payload=None) -> int:
    """Call the control API, print its JSON answer; 0 when it succeeded."""
    headers = {TOKEN_HEADER: token} if token else {}
    try:
        answer = requests.request(method, url, json=payload, headers=headers, timeout=30)
        result = answer.json()
    except (requests.RequestException, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    sys.stdout.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    if answer.status_code == 401 and not token:
        sys.stderr.write(f"error: no control token (--control-token or ${CONTROL_TOKEN_ENV})\n")
    return 0 if answer.ok and not result.get("error") else 1


def _say(args) -> int:
    payload = {"from": args.sender, "name": args.name, "type": "text", "text": " ".join(args.text)}
    url = args.sandbox_url.rstrip("/") + "/_sandbox/inbound"
    return _call("POST", url, args.control_token, payload)


def _config(args, parser) -> int:
    url = args.sandbox_url.rstrip("/") + "/_sandbox/config"
    if not args.pairs:
        return _call("GET", url, args.control_token)
    knobs = {}
    for pair in args.pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            parser.error(f"expected key=value, got {pair!r}")
        knobs[key.strip()] = value
    return _call("POST", url, args.control_token, knobs)


def main(argv=None) -> int:
    """Entry point of ``python -m tools.sandbox``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        try:
            return _serve(args)
        except ValueError as exc:
            parser.error(str(exc))
    if args.command == "say":
        return _say(args)
    return _config(args, parser)

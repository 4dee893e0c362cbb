"""The sandbox's command line (``python -m tools.sandbox``, ``tools/sandbox/cli.py``)."""

import json
import os
import re
import signal
import subprocess
import sys
import threading

import pytest
import requests
from sandbox_support import ADDON_DIR, Graph
from wa_tools.sandbox import main


def test_say_cli(sandbox, receiver, capsys, monkeypatch):
    monkeypatch.setenv("WA_SANDBOX_CONTROL_TOKEN", sandbox.config.control_token)
    argv = ["say", "--sandbox-url", sandbox.base_url, "--from", "+1 555 0100"]
    assert main([*argv, "--name", "Bob", "my", "screen", "is", "black"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["wamid"].startswith("wamid.") and result["status_code"] == 200
    value = receiver.values()[0]
    assert value["contacts"] == [{"profile": {"name": "Bob"}, "wa_id": "15550100"}]
    assert value["messages"][0]["text"]["body"] == "my screen is black"


def test_say_cli_without_the_token(sandbox, receiver, capsys, monkeypatch):
    monkeypatch.delenv("WA_SANDBOX_CONTROL_TOKEN", raising=False)
    argv = ["say", "--sandbox-url", sandbox.base_url, "--from", "15550100", "hi"]
    assert main(argv) == 1
    assert "WA_SANDBOX_CONTROL_TOKEN" in capsys.readouterr().err
    assert main([*argv[:-1], "--control-token", "wrong", "hi"]) == 1
    assert sandbox.deliveries == [] and receiver.posts == []


def test_say_cli_unreachable(capsys):
    argv = ["say", "--sandbox-url", "http://127.0.0.1:9", "--from", "1", "hi"]
    assert main(argv) == 1
    assert "error" in capsys.readouterr().err


def test_config_cli(sandbox, capsys):
    # the drawn control token never starts with "-", which the command line would take for an
    # option (a URL-safe token did, one run in 64)
    assert re.fullmatch("[0-9a-f]{48}", sandbox.config.control_token)
    url = sandbox.base_url
    token = ["--control-token", sandbox.config.control_token]
    assert main(["config", "--sandbox-url", url, *token, "burst_429=2", "auto_read=false"]) == 0
    assert json.loads(capsys.readouterr().out)["burst_429"] == 2
    assert sandbox.config.burst_429 == 2 and sandbox.config.auto_read is False
    assert main(["config", "--sandbox-url", url, *token]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["auto_read"] is False and "app_secret" not in shown and "token" not in shown
    assert main(["config", "--sandbox-url", url, *token, "nope=1"]) == 1
    with pytest.raises(SystemExit):
        main(["config", "--sandbox-url", url, *token, "no-equals-sign"])
    assert main(["config", "--sandbox-url", url, "burst_429=5"]) == 1
    assert sandbox.config.burst_429 == 2


def test_serve_cli_as_module(receiver):
    env = {
        **os.environ,
        "WA_SANDBOX_TOKEN": "env-token",
        "WA_SANDBOX_CONTROL_TOKEN": "env-control-token",
        "WA_SANDBOX_STATUS_DELAY": "0.01",
    }
    command = [sys.executable, "-m", "tools.sandbox", "serve", "--port", "0"]
    command += ["--webhook-url", receiver.url, "--no-auto-read"]
    process = subprocess.Popen(command, cwd=ADDON_DIR, env=env, stderr=subprocess.PIPE, text=True)
    try:
        base_url = control_url = None
        for line in process.stderr:
            base_url = base_url or _found(r"sandbox on (http://\S+)", line)
            control_url = _found(r"control page: (http://\S+)", line)
            if control_url:
                break
        assert base_url, "the server did not announce its URL"
        # read the rest of its log meanwhile: a full pipe would hold the server back
        drain = threading.Thread(target=process.stderr.read, daemon=True)
        drain.start()
        assert control_url == base_url + "/_sandbox/?token=env-control-token"
        assert requests.get(control_url, timeout=5).status_code == 200
        headers = {"X-Sandbox-Token": "env-control-token"}
        knobs = requests.get(base_url + "/_sandbox/config", headers=headers, timeout=5).json()
        assert knobs["auto_read"] is False and "token" not in knobs
        assert Graph(base_url, "env-token").template().status_code == 200
        assert receiver.wait(2)
        process.send_signal(signal.SIGINT)
        # a safety net, not a speed bound: a busy machine takes its time to stop a process
        assert process.wait(timeout=60) == 0
        drain.join(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()


def _found(pattern, line):
    match = re.search(pattern, line)
    return match.group(1) if match else None

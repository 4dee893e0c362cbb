"""The sandbox's command line (``python -m tools.sandbox``, ``tools/sandbox/cli.py``)."""

import json
import os
import re
import signal
import subprocess
import sys

import pytest
import requests
from sandbox_support import ADDON_DIR, Graph
from wa_tools.sandbox import main


def test_say_cli(sandbox, receiver, capsys):
    argv = ["say", "--sandbox-url", sandbox.base_url, "--from", "+1 555 0100"]
    assert main([*argv, "--name", "Bob", "my", "screen", "is", "black"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["wamid"].startswith("wamid.") and result["status_code"] == 200
    value = receiver.values()[0]
    assert value["contacts"] == [{"profile": {"name": "Bob"}, "wa_id": "15550100"}]
    assert value["messages"][0]["text"]["body"] == "my screen is black"


def test_say_cli_unreachable(capsys):
    argv = ["say", "--sandbox-url", "http://127.0.0.1:9", "--from", "1", "hi"]
    assert main(argv) == 1
    assert "error" in capsys.readouterr().err


def test_config_cli(sandbox, capsys):
    url = sandbox.base_url
    assert main(["config", "--sandbox-url", url, "burst_429=2", "auto_read=false"]) == 0
    assert json.loads(capsys.readouterr().out)["burst_429"] == 2
    assert sandbox.config.burst_429 == 2 and sandbox.config.auto_read is False
    assert main(["config", "--sandbox-url", url]) == 0
    assert json.loads(capsys.readouterr().out)["auto_read"] is False
    assert main(["config", "--sandbox-url", url, "nope=1"]) == 1
    with pytest.raises(SystemExit):
        main(["config", "--sandbox-url", url, "no-equals-sign"])


def test_serve_cli_as_module(receiver):
    env = {**os.environ, "WA_SANDBOX_TOKEN": "env-token", "WA_SANDBOX_STATUS_DELAY": "0.01"}
    command = [sys.executable, "-m", "tools.sandbox", "serve", "--port", "0"]
    command += ["--webhook-url", receiver.url, "--no-auto-read"]
    process = subprocess.Popen(command, cwd=ADDON_DIR, env=env, stderr=subprocess.PIPE, text=True)
    try:
        base_url = None
        for line in process.stderr:
            match = re.search(r"sandbox on (http://\S+)", line)
            if match:
                base_url = match.group(1)
                break
        assert base_url, "the server did not announce its URL"
        knobs = requests.get(base_url + "/_sandbox/config", timeout=5).json()
        assert knobs["token"] == "env-token" and knobs["auto_read"] is False
        assert Graph(base_url, "env-token").template().status_code == 200
        assert receiver.wait(2)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()

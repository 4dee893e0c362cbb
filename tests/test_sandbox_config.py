"""The sandbox's knobs (``tools/sandbox/config.py``): coercion and the environment."""

import pytest
from wa_tools.sandbox import SandboxConfig, coerce_knob, config_from_env, knobs_of


def test_coerce_knob():
    assert coerce_knob("auto_read", "no") is False
    assert coerce_knob("latency_ms", "250") == 250
    assert coerce_knob("status_delay", "0.5") == 0.5
    assert coerce_knob("webhook_url", "") is None
    assert coerce_knob("seed", "none") is None
    assert coerce_knob("fail_numbers", ["+1 555", 42]) == {"1555", "42"}
    for name, value in (("burst_429", "-1"), ("error_rate", "1.5"), ("bogus", 1)):
        with pytest.raises(ValueError):
            coerce_knob(name, value)


def test_config_from_env():
    environ = {"WA_SANDBOX_PORT": "0", "WA_SANDBOX_AUTO_READ": "0", "WA_SANDBOX_TOKEN": "env"}
    config = config_from_env(environ, token="cli")
    assert (config.port, config.auto_read, config.token) == (0, False, "cli")
    assert config_from_env({}).port == 8765
    assert config_from_env({"WA_SANDBOX_CONTROL_TOKEN": "t0k"}).control_token == "t0k"
    assert config_from_env({}).control_token is None  # drawn when the sandbox starts


def test_knobs_leave_out_the_secrets():
    config = SandboxConfig(token="t", app_secret="s", control_token="c", latency_ms=5)
    knobs = knobs_of(config)
    assert not {"token", "app_secret", "control_token"} & set(knobs)
    assert knobs["latency_ms"] == 5 and knobs["phone_number_id"] == config.phone_number_id

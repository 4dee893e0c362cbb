"""scripts/screenshots.py says when no CJK font is installed (Chinese would be empty boxes)."""

import importlib.util
import pathlib
import subprocess

import pytest

pytest.importorskip("websocket")
SCRIPT = pathlib.Path(__file__).resolve().parent.parent / "scripts" / "screenshots.py"
spec = importlib.util.spec_from_file_location("screenshots", SCRIPT)
screenshots = importlib.util.module_from_spec(spec)
spec.loader.exec_module(screenshots)


def fake_fc_list(monkeypatch, output):
    monkeypatch.setattr(screenshots.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(
        screenshots.subprocess,
        "run",
        lambda args, **kwargs: subprocess.CompletedProcess(args, 0, stdout=output, stderr=""),
    )


def test_no_cjk_font_names_the_debian_package(monkeypatch):
    fake_fc_list(monkeypatch, "")
    problem = screenshots.cjk_font_problem()
    assert "empty boxes" in problem
    assert "apt-get install fonts-noto-cjk" in problem


def test_a_cjk_font_is_enough(monkeypatch):
    fake_fc_list(monkeypatch, "Noto Sans CJK SC\n")
    assert screenshots.cjk_font_problem() is None


def test_without_fontconfig_it_says_it_cannot_tell(monkeypatch):
    monkeypatch.setattr(screenshots.shutil, "which", lambda name: None)
    assert "fc-list" in screenshots.cjk_font_problem()

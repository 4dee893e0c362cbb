"""scripts/browser.py, the screenshot scripts' shared Chromium driver: it says when no CJK font is
installed (Chinese would be empty boxes), and the three scripts drive Chromium through it."""

import importlib.util
import pathlib
import subprocess
import sys

import pytest

pytest.importorskip("websocket")
SCRIPTS = pathlib.Path(__file__).resolve().parent.parent / "scripts"


def load(name):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


browser = load("browser")


def fake_fc_list(monkeypatch, output):
    monkeypatch.setattr(browser.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(
        browser.subprocess,
        "run",
        lambda args, **kwargs: subprocess.CompletedProcess(args, 0, stdout=output, stderr=""),
    )


def test_no_cjk_font_names_the_debian_package(monkeypatch):
    fake_fc_list(monkeypatch, "")
    problem = browser.cjk_font_problem()
    assert "empty boxes" in problem
    assert "apt-get install fonts-noto-cjk" in problem


def test_a_cjk_font_is_enough(monkeypatch):
    fake_fc_list(monkeypatch, "Noto Sans CJK SC\n")
    assert browser.cjk_font_problem() is None


def test_without_fontconfig_it_says_it_cannot_tell(monkeypatch):
    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    assert "fc-list" in browser.cjk_font_problem()


def test_the_first_chromium_found_else_its_plain_name(monkeypatch):
    found = {"chromium-browser": "/usr/bin/chromium-browser"}
    monkeypatch.setattr(browser.shutil, "which", found.get)
    assert browser.chromium_binary() == "/usr/bin/chromium-browser"
    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    assert browser.chromium_binary() == "chromium"


@pytest.mark.parametrize("script", ["screenshots", "screenshots_reports", "screenshots_reach"])
def test_every_screenshot_script_drives_chromium_through_the_shared_helper(script, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    module = load(script)
    assert module.Browser.__module__ == "browser"

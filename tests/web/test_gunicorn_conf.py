"""The production gunicorn settings: keep-alive of at least 10 s (the 2 s default resets
connections that clients reuse), gthread workers, and loud failure on bad values."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _load(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = (
        "import oncotrials.web.gunicorn_conf as c; "
        "print(c.keepalive, c.workers, c.threads, c.worker_class)"
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )


def test_defaults_keep_connections_alive_for_10_seconds():
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("ONCOTRIALS_GUNICORN")}
    result = _load(env)
    assert result.returncode == 0, result.stderr
    workers = str(min(8, 2 * (os.cpu_count() or 1)))  # two processes per CPU, at most 8
    assert result.stdout.split() == ["10", workers, "2", "gthread"]


@pytest.mark.parametrize(("value", "message"), [("2", "at least 10"), ("ten", "whole number")])
def test_a_short_or_bad_keep_alive_is_refused(value, message):
    import os

    result = _load({**os.environ, "ONCOTRIALS_GUNICORN_KEEPALIVE": value})
    assert result.returncode != 0
    assert message in result.stderr


def test_gunicorn_reads_the_module():
    import os
    from pathlib import Path

    gunicorn = Path(sys.executable).parent / "gunicorn"
    result = subprocess.run(
        [
            str(gunicorn),
            "--print-config",
            "-c",
            "python:oncotrials.web.gunicorn_conf",
            "oncotrials.web.wsgi:application",
        ],
        env={**os.environ, "ONCOTRIALS_TESTING": "1"},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,  # a guard against a hang, not a speed check (a loaded CI machine needs minutes)
    )
    assert result.returncode == 0, result.stderr
    values = {
        line.split("=", 1)[0].strip(): line.split("=", 1)[1].strip()
        for line in result.stdout.splitlines()
        if "=" in line
    }
    assert values["keepalive"] == "10"
    assert values["worker_class"] == "gthread"

"""Fixtures of the probe tests: echo servers and relays as real processes on loopback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_URL = re.compile(r"(http://127\.0\.0\.1:\d+)")


class Proc:
    """A voiceinsights command running in the background, with the URL it printed."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "voiceinsights", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=full_env,
        )
        assert self.popen.stdout is not None
        deadline = time.monotonic() + 60
        line = ""
        while time.monotonic() < deadline:
            line = self.popen.stdout.readline()
            if not line and self.popen.poll() is not None:
                err = self.popen.stderr.read() if self.popen.stderr else ""
                raise RuntimeError(f"{args[0]} exited: {err}")
            match = _URL.search(line)
            if match:
                self.url = match.group(1)
                return
        raise RuntimeError(f"{args[0]} printed no URL: {line!r}")

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)


@pytest.fixture(scope="session")
def echo_url() -> Iterator[str]:
    """A shared echo server (``voiceinsights echo-server``) on 127.0.0.1."""
    proc = Proc(["echo-server", "--host", "127.0.0.1", "--port", "0"])
    yield proc.url
    proc.stop()


@pytest.fixture
def start_proc() -> Iterator[Callable[..., Proc]]:
    """Start ``voiceinsights <args>`` processes that are stopped after the test."""
    procs: list[Proc] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Proc:
        proc = Proc(list(args), env)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.stop()


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``voiceinsights <args>`` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "voiceinsights", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=timeout,
        check=False,
    )

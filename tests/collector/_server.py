"""Run a real collector (``python -m voiceinsights collect``) on 127.0.0.1 for tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from voiceinsights.collector import compute_signature

REPO = Path(__file__).resolve().parents[2]
AUTH_TOKEN = "auth-token-0123456789abcdef0123456789"
API_SECRET = "api-key-secret-0123456789abcdef0123"
INGEST_SECRET = "ingest-secret-0123456789abcdef012345"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CollectorProcess:
    """A collector subprocess on a random loopback port, with test secrets."""

    def __init__(self, data_dir: Path, *args: str, env: Mapping[str, str] | None = None):
        self.data_dir = data_dir
        self.args = list(args)
        self.env = dict(env or {})
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"{data_dir.name}-collector.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def parquet_dir(self) -> Path:
        return self.data_dir / "parquet"

    def start(self, timeout_s: float = 60.0) -> CollectorProcess:
        self.port = free_port()
        env = dict(os.environ)
        env.update(
            PYTHONPATH=str(REPO),
            TWILIO_AUTH_TOKEN=f"old-token-0123456789abcdef012345,{AUTH_TOKEN}",
            TWILIO_API_SECRET=API_SECRET,
            VOICEINSIGHTS_INGEST_SECRET=INGEST_SECRET,
        )
        env.update(self.env)
        cmd = [
            sys.executable,
            "-m",
            "voiceinsights",
            "collect",
            "--data-dir",
            str(self.data_dir),
            "--port",
            str(self.port),
            "--flush-interval",
            "0.2",
            "--log-level",
            "warning",
            *self.args,
        ]
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"collector exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("collector did not start in time")

    def stop(self) -> bool:
        """SIGTERM (graceful: drains the spool); True when it shut down cleanly.

        uvicorn re-raises the signal after its graceful shutdown, so a clean exit is
        either 0 or death by SIGTERM.
        """
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60) in (0, -signal.SIGTERM)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()  # SIGKILL: no chance to flush anything
        self.proc.wait(timeout=30)


def sign_form(
    url: str, params: Iterable[tuple[str, str]], token: str = AUTH_TOKEN
) -> dict[str, str]:
    """Headers and body of a form POST signed as Twilio signs it."""
    pairs = list(params)
    return {
        "X-Twilio-Signature": compute_signature(url, pairs, token),
        "Content-Type": "application/x-www-form-urlencoded",
    }


def call_status(call_sid: str, seq: int = 0, status: str = "completed") -> list[tuple[str, str]]:
    """Form fields of a call-progress status callback."""
    return [
        ("AccountSid", "AC" + "1" * 32),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", call_sid),
        ("CallStatus", status),
        ("CallbackSource", "call-progress-events"),
        ("Direction", "outbound-api"),
        ("From", "+14155550100"),
        ("SequenceNumber", str(seq)),
        ("Timestamp", f"Sat, 21 Nov 2026 10:00:0{seq % 10} +0000"),
        ("To", "+14155550199"),
        ("CallDuration", "12"),
    ]


def post_callback(
    client: httpx.Client,
    base: str,
    path: str,
    params: list[tuple[str, str]],
    *,
    signed_url: str | None = None,
    token: str = AUTH_TOKEN,
) -> httpx.Response:
    """POST a signed status callback; ``signed_url`` overrides the URL that is signed."""
    url = base + path
    headers = sign_form(signed_url or url, params, token)
    return client.post(url, content=urlencode(params), headers=headers)


def read_table(parquet_dir: Path, table: str) -> Any:
    """The de-duplicated rows of ``table`` as the notebook sees them."""
    import voiceinsights

    return voiceinsights.open_parquet(parquet_dir).table(table)


def wait_rows(
    parquet_dir: Path, table: str, n: int, timeout_s: float = 30.0, *, prefix: str = ""
) -> Any:
    """Poll until ``table`` has at least ``n`` rows (whose ``call_sid`` starts with
    ``prefix``, when given); return those rows."""
    deadline = time.monotonic() + timeout_s
    df = None
    while time.monotonic() < deadline:
        try:
            df = read_table(parquet_dir, table)
            if prefix:
                df = df[df["call_sid"].str.startswith(prefix)]
            if len(df) >= n:
                return df
        except Exception:  # not written yet
            pass
        time.sleep(0.2)
    got = None if df is None else len(df)
    raise AssertionError(f"{table}: expected {n} rows, have {got}")

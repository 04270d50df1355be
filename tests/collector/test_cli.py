"""``voiceinsights collect`` and ``voiceinsights ingest-token`` as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.collector._server import (
    AUTH_TOKEN,
    INGEST_SECRET,
    REPO,
    CollectorProcess,
    call_status,
    post_callback,
)
from voiceinsights.collector import TokenVerifier


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"TWILIO_AUTH_TOKEN", "TWILIO_API_SECRET", "VOICEINSIGHTS_INGEST_SECRET"}
    }
    base.update(PYTHONPATH=str(REPO), **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "voiceinsights", *args],
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


def test_ingest_token_round_trip() -> None:
    out = _cli(
        "ingest-token",
        "kiosk-9",
        "--ttl",
        "120",
        env={"VOICEINSIGHTS_INGEST_SECRET": INGEST_SECRET},
    )
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip()
    assert TokenVerifier(ingest_secrets=[INGEST_SECRET]).verify(token) == "kiosk-9"


def test_missing_secrets_are_clear_errors(tmp_path: Path) -> None:
    out = _cli("ingest-token", "kiosk-9")
    assert out.returncode == 2
    assert out.stderr.startswith("error: set VOICEINSIGHTS_INGEST_SECRET")
    out = _cli("collect", "--data-dir", str(tmp_path / "d"), "--port", "0")
    assert out.returncode == 2
    assert out.stderr.startswith("error: no secrets configured")
    out = _cli("collect", "--public-url", "hooks.example.com", env={"TWILIO_AUTH_TOKEN": "x"})
    assert out.returncode == 2
    assert "--public-url must start with http" in out.stderr
    out = _cli("collect", "--compact-every", "10", env={"TWILIO_AUTH_TOKEN": "x"})
    assert out.returncode == 2
    assert "--compact-every needs --db" in out.stderr
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    out = _cli("collect", "--data-dir", str(not_a_dir / "sub"), env={"TWILIO_AUTH_TOKEN": "x"})
    assert out.returncode == 2
    assert out.stderr.startswith("error: cannot use --data-dir")
    # Secrets are never accepted on the command line.
    out = _cli("collect", "--auth-token", AUTH_TOKEN)
    assert out.returncode == 2
    assert "No such option" in out.stderr


def test_auth_token_file_with_rotation(tmp_path: Path) -> None:
    secret_file = tmp_path / "tokens"
    secret_file.write_text(f"new-token-0123456789abcdef0123456\n{AUTH_TOKEN}\n")
    proc = CollectorProcess(
        tmp_path / "data", "--auth-token-file", str(secret_file), env={"TWILIO_AUTH_TOKEN": ""}
    )
    proc.start()
    try:
        with httpx.Client(timeout=30) as client:
            r = post_callback(client, proc.base, "/twilio/voice/status", call_status("CAfile01"))
            assert r.status_code == 204, r.text
            r = post_callback(
                client,
                proc.base,
                "/twilio/voice/status",
                call_status("CAfile02"),
                token="new-token-0123456789abcdef0123456",
            )
            assert r.status_code == 204, r.text
    finally:
        assert proc.stop()


def test_compaction_into_duckdb_while_running(tmp_path: Path) -> None:
    import time

    import duckdb

    db = tmp_path / "calls.duckdb"
    proc = CollectorProcess(tmp_path / "data", "--db", str(db), "--compact-every", "1")
    proc.start()
    try:
        with httpx.Client(timeout=30) as client:
            for i in range(5):
                r = post_callback(
                    client, proc.base, "/twilio/voice/status", call_status(f"CAcompact{i}", i)
                )
                assert r.status_code == 204
            deadline = time.monotonic() + 60
            sids: set[str] = set()
            tick = 0
            while (
                time.monotonic() < deadline and len(sids & {f"CAcompact{i}" for i in range(5)}) < 5
            ):
                # Compaction runs after a flush that wrote rows, at most once a second.
                tick += 1
                post_callback(
                    client, proc.base, "/twilio/voice/status", call_status(f"CAtick{tick}", 1)
                )
                time.sleep(0.5)
                try:
                    con = duckdb.connect(str(db), read_only=True)
                except duckdb.Error:
                    continue  # not created yet, or the collector is compacting right now
                try:
                    sids = {r[0] for r in con.sql("SELECT call_sid FROM call_events").fetchall()}
                except duckdb.Error:
                    continue
                finally:
                    con.close()
        assert {f"CAcompact{i}" for i in range(5)} <= sids, proc.log_path.read_text()[-2000:]
    finally:
        assert proc.stop()

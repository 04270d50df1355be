"""Faults: each names its phase, is stored as a failed run, and never overruns the probe's
duration plus its timeout. Fake endpoints are real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import itertools
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

import voiceinsights.probe as probe
from voiceinsights._exceptions import ProbeError
from voiceinsights.probe._signaling import serve_app
from voiceinsights.probe.relay import rewrite_candidates

from .conftest import Proc, run_cli

pytestmark = pytest.mark.network


def _runs(db: Path) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "select status, failed_phase, error, epoch(started_at) from probe_runs "
            "order by started_at"
        ).fetchall()
    finally:
        con.close()


@pytest.fixture
def free_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _probe_via_fake(
    handler: Callable[[Any], Any], db: Path, **kwargs: Any
) -> tuple[ProbeError, float]:
    """Serve ``handler`` at POST /offer on 127.0.0.1 and probe it; returns the error and
    the probe's wall time."""
    from starlette.applications import Starlette
    from starlette.routing import Route

    app = Starlette(routes=[Route("/offer", handler, methods=["POST"])])

    async def main() -> tuple[ProbeError, float]:
        async with serve_app(app) as url:
            t0 = time.monotonic()
            with pytest.raises(ProbeError) as info:
                await probe.run_async(url, db=db, **kwargs)
            return info.value, time.monotonic() - t0

    return asyncio.run(main())


def _forwarding(
    echo_url: str,
    rewrite: Callable[[str], str],
    rewrite_offer: Callable[[str], str] = lambda sdp: sdp,
) -> Callable[[Any], Any]:
    """A handler that forwards the offer to the real echo and rewrites its answer."""
    from starlette.responses import JSONResponse

    async def handler(request: Any) -> Any:
        body = await request.json()
        body["sdp"] = rewrite_offer(body["sdp"])
        async with httpx.AsyncClient() as client:
            r = await client.post(echo_url + "/offer", json=body)
        answer = r.json()
        answer["sdp"] = rewrite(answer["sdp"])
        return JSONResponse(answer, status_code=201)

    return handler


def test_unreachable_endpoint(free_port: int, db_path: Path) -> None:
    t0 = time.monotonic()
    with pytest.raises(ProbeError) as info:
        probe.run(f"http://127.0.0.1:{free_port}", duration_s=2, timeout_s=3, db=db_path)
    assert info.value.phase == "signaling"
    assert "cannot reach" in str(info.value)
    assert time.monotonic() - t0 < 5
    ((status, phase, error, started),) = _runs(db_path)
    assert (status, phase) == ("failed", "signaling")
    assert "cannot reach" in error
    assert started is not None


def test_http_error_is_named(db_path: Path) -> None:
    from starlette.responses import PlainTextResponse

    async def handler(request: Any) -> Any:
        return PlainTextResponse("echo is down for maintenance", status_code=503)

    err, _ = _probe_via_fake(handler, db_path, duration_s=2, timeout_s=3)
    assert err.phase == "signaling"
    assert "HTTP 503" in str(err)
    assert "maintenance" in str(err)
    assert _runs(db_path)[0][:2] == ("failed", "signaling")


def test_malformed_sdp_answer(db_path: Path) -> None:
    from starlette.responses import JSONResponse

    async def handler(request: Any) -> Any:
        return JSONResponse(
            {"sdp": "v=0\r\nthis is not sdp\r\n", "type": "answer"}, status_code=201
        )

    err, _ = _probe_via_fake(handler, db_path, duration_s=2, timeout_s=3)
    assert err.phase == "signaling"
    assert "malformed SDP answer" in str(err)
    assert _runs(db_path)[0][:2] == ("failed", "signaling")


def test_ice_timeout(echo_url: str, db_path: Path) -> None:
    # Offer and answer point at a UDP port that exists but never answers a connectivity
    # check, so neither side can reach the other.
    hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    hole.bind(("127.0.0.1", 0))
    try:
        port = hole.getsockname()[1]

        def to_hole(sdp: str) -> str:
            return rewrite_candidates(sdp, "127.0.0.1", port)[0]

        handler = _forwarding(echo_url, to_hole, to_hole)
        err, elapsed = _probe_via_fake(handler, db_path, duration_s=2, timeout_s=3)
    finally:
        hole.close()
    assert err.phase == "ice"
    assert "did not complete within the 3 s timeout" in str(err)
    assert elapsed < 2 + 3 + 1.0  # never past duration + timeout (+ teardown slack)
    assert _runs(db_path)[0][:2] == ("failed", "ice")


def test_dtls_failure(echo_url: str, db_path: Path) -> None:
    def corrupt(sdp: str) -> str:
        # Flip the first byte of the certificate fingerprint: ICE works, DTLS must not.
        return re.sub(
            r"(a=fingerprint:sha-256 )([0-9A-F]{2})",
            lambda m: m.group(1) + ("00" if m.group(2) != "00" else "11"),
            sdp,
        )

    err, elapsed = _probe_via_fake(
        _forwarding(echo_url, corrupt), db_path, duration_s=2, timeout_s=4
    )
    assert err.phase == "dtls"
    assert "DTLS" in str(err)
    assert elapsed < 2 + 4 + 1.0
    assert _runs(db_path)[0][:2] == ("failed", "dtls")


def test_echo_server_dying_mid_call(start_proc: Callable[..., Proc], db_path: Path) -> None:
    echo = start_proc("echo-server", "--port", "0")
    killer = threading.Timer(2.5, echo.kill)
    t0 = time.monotonic()
    killer.start()
    try:
        with pytest.raises(ProbeError) as info:
            probe.run(echo.url, duration_s=8, timeout_s=4, media_timeout_s=2, db=db_path)
    finally:
        killer.cancel()
    elapsed = time.monotonic() - t0
    assert info.value.phase == "media"
    assert "stopped" in str(info.value) or "mid-call" in str(info.value)
    assert elapsed < 8  # detected well before the call would have ended
    status, phase, _, _ = _runs(db_path)[0]
    assert (status, phase) == ("failed", "media")


def test_cli_failure_exit_code_and_stored_row(free_port: int, tmp_path: Path) -> None:
    db = tmp_path / "cli.duckdb"
    done = run_cli("probe", f"http://127.0.0.1:{free_port}", "--db", str(db), "--json")
    assert done.returncode == 2
    assert "error: signaling: cannot reach" in done.stderr
    assert "Traceback" not in done.stderr
    import json

    doc = json.loads(done.stdout)
    assert doc["voiceinsights"]["status"] == "failed"
    assert doc["voiceinsights"]["failedPhase"] == "signaling"
    assert _runs(db)[0][:2] == ("failed", "signaling")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--every", "5x"], "interval '5x'"),
        (["--count", "2"], "--count goes with --every"),
        (["--fail-below", "superb"], "--fail-below 'superb'"),
        (["--duration", "0"], "must be positive"),
        (["--jitter-buffer", "deep"], "--jitter-buffer 'deep'"),
        (["--codec", "g729"], "Invalid value for '--codec'"),
    ],
)
def test_cli_bad_options(args: list[str], message: str) -> None:
    done = run_cli("probe", "http://127.0.0.1:1", "--no-store", *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["echo-server", "relay"])
def test_busy_port_is_a_clear_error(command: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        args = (
            ["--port", port] if command == "echo-server" else ["http://127.0.0.1:1", "--port", port]
        )
        done = run_cli(command, *args)
    assert done.returncode == 2
    assert f"error: cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_every_survives_failures_without_drift(free_port: int, tmp_path: Path) -> None:
    db = tmp_path / "every.duckdb"
    done = run_cli(
        "probe",
        f"http://127.0.0.1:{free_port}",
        "--every",
        "1s",
        "--count",
        "3",
        "--db",
        str(db),
        "--json",
    )
    assert done.returncode == 2
    assert len([ln for ln in done.stdout.splitlines() if ln.startswith("{")]) == 3
    runs = _runs(db)
    assert [r[:2] for r in runs] == [("failed", "signaling")] * 3
    starts = [r[3] for r in runs]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # Runs start on the 1 s grid (no drift); on a loaded machine a run that overran its
    # slot makes the scheduler skip to the next slot, so a gap may be a whole multiple.
    assert all(round(g) >= 1 and abs(g - round(g)) < 0.3 for g in gaps), gaps


def test_every_places_real_calls_on_schedule(echo_url: str, tmp_path: Path) -> None:
    db = tmp_path / "every.duckdb"
    done = run_cli(
        "probe",
        echo_url,
        "--every",
        "3s",
        "--count",
        "2",
        "--duration",
        "1.5",
        "--db",
        str(db),
    )
    assert done.returncode == 0, done.stderr
    runs = _runs(db)
    assert [r[0] for r in runs] == ["ok", "ok"]
    gap = (runs[1][3] - runs[0][3]) / 3.0  # in slots: a whole number, 1 unless overrun
    assert round(gap) >= 1
    assert gap == pytest.approx(round(gap), abs=0.2)

"""Collector throughput: signed status callbacks per second, beside a bare endpoint.

A load generator on loopback (``wrk``, one thread, 32 connections, in its own process)
posts signed ``/twilio/voice/status`` callbacks to a real ``voiceinsights collect``
process. Signatures cover the whole body, so the bodies (one unique CallSid each) are
signed beforehand and ``wrk`` cycles through them from a Lua script. Every answer is a
durable acknowledgement (group-committed fdatasync). Afterwards the rows are counted in
the Parquet segments: zero loss means every acknowledged request is a stored row.

Baseline, same run, same stack: a bare starlette + uvicorn endpoint answering 204 to the
same form POSTs. Goal: at least half its throughput.

With a fixed number of connections a durable service is bounded by the disk's flush
latency (32 connections / (about two fdatasyncs) per answer), so the run also reports the
disk's append+fdatasync latency measured just before: on a disk shared with other busy
processes it varies by ten times, and the ratio with it. When the CPU is the limit (a
loaded machine), the ratio follows the servers' CPU time per request, also reported.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bench._result import Result

REPO = Path(__file__).resolve().parent.parent
TOKEN = "bench-auth-token-0123456789abcdef0123"
PATH = "/twilio/voice/status"

_BARE_APP = """
import sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

async def ok(request):
    await request.body()
    return Response(status_code=204)

app = Starlette(routes=[Route("/twilio/voice/status", ok, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
            access_log=False, server_header=False)
"""

_LUA = """
local bodies, sigs = {}, {}
local i = 0
init = function(args)
  for line in io.lines(args[1]) do
    local sp = string.find(line, " ", 1, true)
    sigs[#sigs + 1] = string.sub(line, 1, sp - 1)
    bodies[#bodies + 1] = string.sub(line, sp + 1)
  end
end
request = function()
  i = i + 1
  if i > #bodies then i = 1 end
  return wrk.format("POST", "__PATH__", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = sigs[i]}, bodies[i])
end
""".replace("__PATH__", PATH)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(url: str, proc: subprocess.Popen[bytes], method: str = "GET") -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            httpx.request(method, url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def _write_bodies(path: Path, n: int, port: int) -> None:
    from voiceinsights.collector import compute_signature

    url = f"http://127.0.0.1:{port}{PATH}"
    with open(path, "w") as fh:
        for i in range(n):
            params = [
                ("AccountSid", "AC" + "1" * 32),
                ("ApiVersion", "2010-04-01"),
                ("CallSid", f"CAbench{i:09d}"),
                ("CallStatus", "completed"),
                ("CallbackSource", "call-progress-events"),
                ("Direction", "outbound-api"),
                ("From", "+14155550100"),
                ("To", "+14155550199"),
                ("SequenceNumber", "3"),
                ("CallDuration", "31"),
                ("Timestamp", "Sat, 21 Nov 2026 10:00:00 +0000"),
            ]
            fh.write(f"{compute_signature(url, params, TOKEN)} {urlencode(params)}\n")


def _unit_ms(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if not m:
        raise ValueError(value)
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}[m.group(2)]
    return float(m.group(1)) * scale


def _wrk(wrk: str, port: int, seconds: float, script: Path, data: Path) -> dict[str, float]:
    out = subprocess.run(
        [
            wrk,
            "-t1",
            "-c32",
            f"-d{seconds:g}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}{PATH}",
            "--",
            str(data),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    res: dict[str, float] = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])}  # type: ignore[index]
    res["requests"] = float(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    res["p50_ms"] = _unit_ms(re.search(r"\s50%\s+(\S+)", out)[1])  # type: ignore[index]
    res["p99_ms"] = _unit_ms(re.search(r"\s99%\s+(\S+)", out)[1])  # type: ignore[index]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    res["non2xx"] = float(non2xx[1]) if non2xx else 0.0
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["socket_errors"] = float(sum(int(g) for g in errors.groups())) if errors else 0.0
    return res


def _fdatasync_ms(directory: Path, n: int = 100) -> tuple[float, float]:
    """p50 and p90 of one append + fdatasync on this disk right now (ms)."""
    path = directory / "fsync-probe.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    times = []
    try:
        for _ in range(n):
            os.write(fd, b"x" * 4096)
            t0 = time.perf_counter()
            os.fdatasync(fd)
            times.append((time.perf_counter() - t0) * 1000)
    finally:
        os.close(fd)
        path.unlink()
    times.sort()
    return times[n // 2], times[(n * 9) // 10]


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system, all threads) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _count_rows(parquet: Path, expect: int, timeout_s: float = 90.0) -> int:
    import voiceinsights

    deadline = time.monotonic() + timeout_s
    n = 0
    while time.monotonic() < deadline:
        if (parquet / "call_events").exists():
            store = voiceinsights.open_parquet(parquet)
            try:
                n = int(
                    store.sql(
                        "SELECT count(DISTINCT call_sid) AS n FROM call_events "
                        "WHERE call_sid LIKE 'CAbench%'"
                    )["n"][0]
                )
            finally:
                store.close()
            if n >= expect:
                return n
        time.sleep(0.5)
    return n


def run(short: bool) -> list[Result]:
    wrk = shutil.which("wrk")
    if wrk is None:
        print("  wrk is not installed (.ci/setup installs it): collector benchmark skipped")
        return []
    seconds = 5.0 if short else 15.0
    n_bodies = 60_000 if short else 200_000
    env = dict(os.environ, PYTHONPATH=str(REPO), TWILIO_AUTH_TOKEN=TOKEN)
    with tempfile.TemporaryDirectory(prefix="vi-bench-collector-") as tmp_s:
        tmp = Path(tmp_s)
        # Durable acknowledgements are bounded by the disk's flush latency: record it.
        sync_p50, sync_p90 = _fdatasync_ms(tmp)
        script = tmp / "signed.lua"
        script.write_text(_LUA)

        port = _free_port()
        data = tmp / "bodies.txt"
        _write_bodies(data, n_bodies, port)  # signed for the collector; the bare one ignores it
        bare_port = _free_port()
        bare = subprocess.Popen(
            [sys.executable, "-c", _BARE_APP, str(bare_port)], env=env, stderr=subprocess.DEVNULL
        )
        try:
            _wait_up(f"http://127.0.0.1:{bare_port}{PATH}", bare, "POST")
            cpu0 = _cpu_s(bare.pid)
            base = _wrk(wrk, bare_port, seconds, script, data)
            bare_cpu_us = (_cpu_s(bare.pid) - cpu0) / max(base["requests"], 1) * 1e6
        finally:
            _stop(bare)

        log = open(tmp / "collector.log", "wb")  # noqa: SIM115 - closed below
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "voiceinsights",
                "collect",
                "--data-dir",
                str(tmp / "data"),
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=log,
            stderr=log,
        )
        try:
            _wait_up(f"http://127.0.0.1:{port}/healthz", proc)
            cpu0 = _cpu_s(proc.pid)
            ours = _wrk(wrk, port, seconds, script, data)
            time.sleep(1.5)  # the writer's share of the work lands within a flush interval
            cpu_us = (_cpu_s(proc.pid) - cpu0) / max(ours["requests"], 1) * 1e6
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        finally:
            _stop(proc)
            log.close()
        acked = int(ours["requests"] - ours["non2xx"])
        # Past n_bodies wrk cycles: repeats are idempotent, so expect the unique ones.
        expect = min(acked, n_bodies)
        stored = _count_rows(tmp / "data" / "parquet", expect)
        commits = float(re.search(r"spool_commits_total (\d+)", metrics)[1])  # type: ignore[index]
    return [
        Result(
            name="collector signed status callbacks",
            value=ours["rps"],
            unit="req/s",
            baseline=base["rps"],
            baseline_name="bare starlette+uvicorn 204",
            higher_is_better=True,
            goal=0.5,
            notes={
                "p50_ms": ours["p50_ms"],
                "p99_ms": ours["p99_ms"],
                "bare_p50_ms": base["p50_ms"],
                "bare_p99_ms": base["p99_ms"],
                "acked": acked,
                "stored_rows": stored,
                "lost": max(0, expect - stored),
                "non2xx": int(ours["non2xx"]),
                "socket_errors": int(ours["socket_errors"]),
                "cpu_us_per_req": round(cpu_us),
                "bare_cpu_us_per_req": round(bare_cpu_us),
                "fdatasync_p50_ms": round(sync_p50, 2),
                "fdatasync_p90_ms": round(sync_p90, 2),
                "requests_per_fdatasync": round(acked / commits, 1) if commits else 0.0,
            },
        )
    ]

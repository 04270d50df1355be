"""Live probe figures: setup time, CPU cost, concurrent probes one echo server carries.

* **Setup**: median time from the offer to the first echoed RTP packet over 10 probes
  (short: 3) against a real ``voiceinsights echo-server`` process on 127.0.0.1. Baseline,
  same run: a bare aiortc pair in one process (direct SDP exchange, no HTTP, no echo):
  offer to first received RTP packet.
* **CPU**: CPU seconds per second of probe audio, caller process and echo process
  (from ``/proc``), beside the same-run bare aiortc pair (both peers in one process, one
  audio stream encoded by one peer and decoded by the other: aiortc's own media cost).
  The caller's figure includes its post-call analysis (arrival decoding, correlation).
* **Capacity**: concurrent probes against one echo server (1, 2, 4, 8, 16, 24, 32, 48;
  short: 1, 2, 4) placed from up to 4 caller processes; the figure is the largest count
  at which every probe completed with under 1 % network loss in both directions; the notes
  also give the largest count with under 1 % *effective* loss (60 ms playout buffer: late
  packets count, so starved callers show) and the echo's CPU seconds per probe second.
  Callers and the echo share the machine's 2 cores (and other work), so it is a lower
  bound for the echo alone.
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench._result import Result

REPO = Path(__file__).resolve().parent.parent
#: Caller processes the capacity test spreads its probes over.
CALLER_PROCESSES = 4


class _Echo:
    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "voiceinsights",
                "echo-server",
                "--port",
                "0",
                "--max-sessions",
                "64",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=REPO,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        if not match:
            raise RuntimeError(f"echo-server did not start: {line!r}")
        self.url = match.group(1)

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


async def _bare_pair(duration_s: float) -> tuple[float, float]:
    """Bare aiortc pair: (offer -> first RTP at the answerer in ms, CPU s per audio s)."""
    from aiortc import RTCPeerConnection

    from voiceinsights.probe._ice import host_addresses, ice_configuration
    from voiceinsights.probe._rtp import ArrivalRecorder
    from voiceinsights.probe._signal import signal_track, speech_like

    a = RTCPeerConnection(ice_configuration())
    b = RTCPeerConnection(ice_configuration())
    rec = ArrivalRecorder()
    drains: list[asyncio.Task[Any]] = []

    @b.on("track")  # type: ignore[misc]
    def on_track(track: Any) -> None:
        async def drain() -> None:
            while True:
                await track.recv()  # decode like a real receiver does

        drains.append(asyncio.ensure_future(drain()))

    a.addTrack(signal_track(speech_like(duration_s + 5)))
    cpu0 = time.process_time()
    t0 = time.time()
    with host_addresses(["127.0.0.1"]):
        await a.setLocalDescription(await a.createOffer())
        await b.setRemoteDescription(a.localDescription)
        rec.attach(b.getTransceivers()[0].receiver)
        await b.setLocalDescription(await b.createAnswer())
    await a.setRemoteDescription(b.localDescription)
    while not len(rec):
        await asyncio.sleep(0.002)
    setup_ms = (rec.arrival_time_s[0] - t0) * 1000.0
    await asyncio.sleep(duration_s)
    cpu = time.process_time() - cpu0
    for task in drains:
        task.cancel()
    await a.close()
    await b.close()
    return setup_ms, cpu / duration_s


async def _probes(url: str, n: int, duration_s: float) -> list[tuple[bool, float, float]]:
    from voiceinsights.probe._run import run_async

    reports = await asyncio.gather(
        *[run_async(url, duration_s=duration_s, timeout_s=15, check=False) for _ in range(n)]
    )
    return [
        (
            r.ok,
            max(r.rfc3550_loss_pct or 0.0, r.outbound_loss_pct or 0.0) if r.ok else 100.0,
            r.effective_loss_pct if r.ok and r.effective_loss_pct is not None else 100.0,
        )
        for r in reports
    ]


def _worker(url: str, n: int, duration_s: float) -> list[tuple[bool, float, float]]:
    return asyncio.run(_probes(url, n, duration_s))


def _spread(url: str, n: int, duration_s: float) -> list[tuple[bool, float, float]]:
    """``n`` concurrent probes from up to 4 caller processes (so one caller's Python is
    not the bottleneck); ``(ok, network loss %, effective loss %)`` per probe."""
    import multiprocessing

    workers = min(n, CALLER_PROCESSES)
    shares = [n // workers + (1 if i < n % workers else 0) for i in range(workers)]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers) as pool:
        parts = pool.starmap(_worker, [(url, k, duration_s) for k in shares])
    return [o for part in parts for o in part]


def run(short: bool) -> list[Result]:
    """Setup time, CPU per probe second and capacity (see the module docstring)."""
    from voiceinsights.probe._run import run_async

    n_setup = 3 if short else 10
    cpu_duration = 3.0 if short else 8.0
    counts = [1, 2, 4] if short else [1, 2, 4, 8, 16, 24, 32, 48]
    cap_duration = 3.0 if short else 5.0
    echo = _Echo()
    results: list[Result] = []
    try:

        async def setups() -> tuple[list[float], list[float]]:
            ours, bare = [], []
            for _ in range(n_setup):
                r = await run_async(echo.url, duration_s=0.3, check=False)
                if r.first_media_ms is not None:
                    ours.append(r.first_media_ms)
                bare.append((await _bare_pair(0.3))[0])
            return ours, bare

        ours, bare = asyncio.run(setups())
        results.append(
            Result(
                "probe setup, offer -> first echoed audio (median)",
                statistics.median(ours),
                "ms",
                baseline=statistics.median(bare),
                baseline_name="bare aiortc pair, no HTTP",
                notes={"probes": float(len(ours)), "max_ms": max(ours)},
            )
        )

        async def cpu_probe() -> tuple[float, float, float]:
            e0, c0 = echo.cpu_s(), time.process_time()
            r = await run_async(echo.url, duration_s=cpu_duration, check=False)
            caller = (time.process_time() - c0) / cpu_duration
            server = (echo.cpu_s() - e0) / cpu_duration
            _, bare_cpu = await _bare_pair(cpu_duration)
            assert r.ok, r.error
            return caller, server, bare_cpu

        caller, server, bare_cpu = asyncio.run(cpu_probe())
        results.append(
            Result(
                "probe CPU per probe second (caller)",
                caller,
                "CPU s/s",
                baseline=bare_cpu,
                baseline_name="bare aiortc pair, one stream",
                notes={"echo_server_cpu_s_per_s": server, "duration_s": cpu_duration},
            )
        )

        def concurrent(n: int) -> tuple[bool, bool, float, float, float]:
            e0 = echo.cpu_s()
            outcomes = _spread(echo.url, n, cap_duration)
            echo_cpu = (echo.cpu_s() - e0) / (n * cap_duration)  # CPU s per probe second
            ok = all(o[0] for o in outcomes)
            worst = max(o[1] for o in outcomes)
            worst_eff = max(o[2] for o in outcomes)
            return ok and worst < 1.0, ok and worst_eff < 1.0, worst, worst_eff, echo_cpu

        carried = carried_eff = 0
        notes: dict[str, float | str] = {}
        for n in counts:
            ok, ok_eff, worst, worst_eff, echo_cpu = concurrent(n)
            notes[f"loss_pct_at_{n}"] = worst
            notes[f"effective_loss_pct_at_{n}"] = worst_eff
            notes[f"echo_cpu_s_per_probe_s_at_{n}"] = echo_cpu
            if ok_eff and carried_eff == carried:
                carried_eff = n
            if not ok:
                break
            carried = n
        notes["carried_with_effective_loss_below_1pct"] = float(carried_eff)
        notes["tried"] = ",".join(str(c) for c in counts)
        results.append(
            Result(
                "concurrent probes one echo server carries (<1 % loss)",
                float(carried),
                "probes",
                higher_is_better=True,
                notes=notes,
            )
        )
    finally:
        echo.stop()
    return results

"""kill -9 in the middle of a load, restart: every acknowledged request is stored once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

from tests.collector._server import CollectorProcess, call_status, read_table, sign_form


async def _load(proc: CollectorProcess, kill_after_s: float) -> tuple[set[str], set[str]]:
    """Post unique signed callbacks from 24 workers; SIGKILL the collector mid-load.

    Returns the CallSids that got a 2xx and all CallSids that were sent.
    """
    acked: set[str] = set()
    sent: set[str] = set()
    counter = iter(range(10**9))
    stop = asyncio.Event()
    url = proc.base + "/twilio/voice/status"

    async def worker(client: httpx.AsyncClient) -> None:
        while not stop.is_set():
            sid = f"CAcrash{next(counter):07d}"
            params = call_status(sid, 1)
            sent.add(sid)
            try:
                r = await client.post(
                    url, content=urlencode(params), headers=sign_form(url, params)
                )
            except httpx.HTTPError:
                await asyncio.sleep(0.01)
                continue
            if r.status_code == 204:
                acked.add(sid)

    async def killer() -> None:
        await asyncio.sleep(kill_after_s)
        await asyncio.to_thread(proc.kill)
        await asyncio.sleep(0.3)
        stop.set()

    limits = httpx.Limits(max_connections=24)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        await asyncio.gather(killer(), *(worker(client) for _ in range(24)))
    return acked, sent


def test_kill_9_mid_load_then_restart_loses_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    # A long flush interval: at the kill most acknowledged records are only in the spool.
    first = CollectorProcess(data, "--flush-interval", "2").start()
    acked, sent = asyncio.run(_load(first, kill_after_s=2.5))
    assert len(acked) > 50, "the load generator got too few requests through"
    try:
        before = set(read_table(first.parquet_dir, "call_events")["call_sid"])
    except Exception:
        before = set()
    print(f"acked={len(acked)} sent={len(sent)} in_parquet_at_kill={len(before)}")
    assert len(acked - before) > 0, "nothing was left to replay; the test proves nothing"

    second = CollectorProcess(data).start()  # adopts the dead process's spool
    try:
        deadline = time.monotonic() + 60
        while True:
            df = read_table(second.parquet_dir, "call_events")
            stored = df[df["call_sid"].str.startswith("CAcrash")]
            if acked <= set(stored["call_sid"]) or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        missing = acked - set(stored["call_sid"])
        assert not missing, f"{len(missing)} acknowledged requests lost, e.g. {sorted(missing)[:3]}"
        assert stored["call_sid"].is_unique  # exactly once
        assert set(stored["call_sid"]) <= sent  # nothing invented
        # The dead process's spool was replayed and removed; only the live one remains.
        assert len(list((data / "spool").iterdir())) == 1
    finally:
        assert second.stop()

"""Pull throughput: Insights events pulled per second with concurrency vs sequentially.

The local fake Twilio API (``tests/twilio/fake_twilio.py``) adds a fixed latency to every
request, standing in for the round trip to Twilio. ``pull events`` asks one request per
call; the same pull is run with ``max_concurrency=1`` (the baseline) and with the default
of 8, each into a fresh store holding the same calls. Figure: rows stored per second, and
the ratio concurrent / sequential.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import voiceinsights as vi
from bench._result import Result
from tests.twilio.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, serve
from voiceinsights.twilio import AsyncClient, Credentials, apull

LATENCY_S = 0.025
CONCURRENCY = 8


def _seed(path: Path, base: str, since: datetime) -> None:
    async def go() -> None:
        async with AsyncClient(
            Credentials(ACCOUNT_SID, ACCOUNT_SID, AUTH_TOKEN),
            api_base=base,
            insights_base=base,
            page_size=1000,
        ) as c:
            with vi.open(path) as store:
                await apull(c, store, "calls", since=since, progress_bar=False)

    asyncio.run(go())


def _timed_pull(path: Path, base: str, since: datetime, concurrency: int) -> tuple[float, int]:
    async def go() -> tuple[float, int]:
        async with AsyncClient(
            Credentials(ACCOUNT_SID, ACCOUNT_SID, AUTH_TOKEN),
            api_base=base,
            insights_base=base,
            max_concurrency=concurrency,
        ) as c:
            with vi.open(path) as store:
                started = time.perf_counter()
                report = await apull(
                    c,
                    store,
                    "events",
                    since=since,
                    progress_bar=False,
                    processing_delay=timedelta(0),  # every call counts, even just ended
                )
                return time.perf_counter() - started, report.inserted

    return asyncio.run(go())


def run(short: bool) -> list[Result]:
    n_calls, repeats = (48, 1) if short else (240, 3)
    now = datetime.now(UTC)
    fake = FakeTwilio()
    fake.populate(n_calls, end=now - timedelta(minutes=1), span=timedelta(hours=2))
    since = now - timedelta(hours=3)
    rates: dict[int, list[float]] = {1: [], CONCURRENCY: []}
    rows = 0
    with tempfile.TemporaryDirectory() as tmp, serve(fake) as base:
        seed = Path(tmp) / "seed.duckdb"
        _seed(seed, base, since)
        fake.latency_s = LATENCY_S
        for r in range(repeats):
            for conc in (1, CONCURRENCY):
                path = Path(tmp) / f"run-{r}-{conc}.duckdb"
                path.write_bytes(seed.read_bytes())
                elapsed, rows = _timed_pull(path, base, since, conc)
                rates[conc].append(rows / elapsed)
    seq, par = statistics.median(rates[1]), statistics.median(rates[CONCURRENCY])
    return [
        Result(
            f"pull events, concurrency {CONCURRENCY}",
            par,
            "rows/s",
            baseline=seq,
            baseline_name="same pull, concurrency 1",
            higher_is_better=True,
            notes={
                "calls": float(n_calls),
                "rows": float(rows),
                "latency_ms": LATENCY_S * 1000,
                "repeats": float(repeats),
            },
        )
    ]

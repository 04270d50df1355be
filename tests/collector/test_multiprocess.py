"""Several collector processes share one data directory without stepping on each other."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlencode

import httpx

from tests.collector._server import CollectorProcess, call_status, sign_form, wait_rows


def test_two_collectors_one_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    a = CollectorProcess(data).start()
    b = CollectorProcess(data).start()
    try:
        # Each process holds its own spool; neither adopted the other's live one.
        assert len(list((data / "spool").iterdir())) == 2

        async def load(proc: CollectorProcess, prefix: str) -> list[int]:
            url = proc.base + "/twilio/voice/status"
            async with httpx.AsyncClient(timeout=60) as client:

                async def one(i: int) -> int:
                    params = call_status(f"{prefix}{i:05d}", 1)
                    r = await client.post(
                        url, content=urlencode(params), headers=sign_form(url, params)
                    )
                    return r.status_code

                return list(await asyncio.gather(*(one(i) for i in range(150))))

        async def both() -> list[list[int]]:
            return list(await asyncio.gather(load(a, "CAprocA"), load(b, "CAprocB")))

        results = asyncio.run(both())
        assert results == [[204] * 150, [204] * 150]
        # The same callback delivered to both (a load balancer retry): stored once.
        for proc in (a, b):
            url = proc.base + "/twilio/voice/status"
            params = call_status("CAdelivered2x", 2)
            assert (
                httpx.post(
                    url, content=urlencode(params), headers=sign_form(url, params)
                ).status_code
                == 204
            )
        df = wait_rows(data / "parquet", "call_events", 301)
        assert len(df) == 301
        assert df["call_sid"].is_unique
        assert df["call_sid"].str.startswith("CAprocA").sum() == 150
        assert df["call_sid"].str.startswith("CAprocB").sum() == 150
    finally:
        assert a.stop()
        assert b.stop()
    assert list((data / "spool").iterdir()) == []

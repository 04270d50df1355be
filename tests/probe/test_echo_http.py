"""The echo endpoint's signaling over real HTTP on 127.0.0.1: answers and 4xx errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from voiceinsights.probe._analyse import candidates_from_sdp
from voiceinsights.probe._echo import EchoServer
from voiceinsights.probe._ice import host_addresses, ice_configuration
from voiceinsights.probe._signal import signal_track, speech_like
from voiceinsights.probe._signaling import MAX_BODY_BYTES, echo_app, serve_app


async def _offer() -> tuple[Any, str]:
    from aiortc import RTCPeerConnection

    pc = RTCPeerConnection(ice_configuration())
    pc.addTrack(signal_track(speech_like(1.0)))
    with host_addresses(["127.0.0.1"]):
        await pc.setLocalDescription(await pc.createOffer())
    return pc, pc.localDescription.sdp


def _serve(
    test: Callable[[httpx.AsyncClient, str, EchoServer], Awaitable[None]], **kwargs: Any
) -> None:
    token = kwargs.pop("token", None)

    async def main() -> None:
        echo = EchoServer(**kwargs)
        async with (
            serve_app(echo_app(echo, token=token)) as url,
            httpx.AsyncClient(base_url=url, timeout=30) as client,
        ):
            await test(client, url, echo)

    asyncio.run(main())


def test_whip_answer_location_and_delete() -> None:
    async def test(client: httpx.AsyncClient, url: str, echo: EchoServer) -> None:
        pc, sdp = await _offer()
        r = await client.post("/whip", content=sdp, headers={"content-type": "application/sdp"})
        assert r.status_code == 201
        assert r.headers["content-type"].startswith("application/sdp")
        location = r.headers["location"]
        assert location.startswith("/sessions/")
        cands = candidates_from_sdp(r.text, remote=True)
        assert cands
        assert {c["address"] for c in cands} == {"127.0.0.1"}
        assert len(echo.sessions) == 1
        health = (await client.get("/health")).json()
        assert health == {"sessions": 1, "max_sessions": echo.max_sessions}
        assert (await client.delete(location)).status_code == 204
        assert (await client.delete(location)).status_code == 404
        assert echo.sessions == {}
        await pc.close()

    _serve(test)


def test_json_variant() -> None:
    async def test(client: httpx.AsyncClient, url: str, echo: EchoServer) -> None:
        pc, sdp = await _offer()
        r = await client.post("/offer", json={"sdp": sdp, "type": "offer"})
        assert r.status_code == 201
        body = r.json()
        assert body["type"] == "answer"
        assert body["sdp"].startswith("v=0")
        assert r.headers["location"] == body["location"] == f"/sessions/{body['session']}"
        await client.delete(body["location"])
        await pc.close()

    _serve(test)


@pytest.mark.parametrize(
    ("path", "kwargs", "status", "message"),
    [
        (
            "/whip",
            {"content": "v=0\r\n", "headers": {"content-type": "text/plain"}},
            415,
            "Content-Type must be application/sdp",
        ),
        (
            "/whip",
            {"content": "hello", "headers": {"content-type": "application/sdp"}},
            400,
            "malformed SDP offer",
        ),
        (
            "/whip",
            {
                "content": "v=0\r\nm=video 9 RTP/AVP 0\r\n",
                "headers": {"content-type": "application/sdp"},
            },
            400,
            "no audio",
        ),
        (
            "/whip",
            {"content": b"\xff\xfe", "headers": {"content-type": "application/sdp"}},
            400,
            "not UTF-8",
        ),
        (
            "/whip",
            {
                "content": "v=0\r\n" + "a=x\r\n" * (MAX_BODY_BYTES // 4),
                "headers": {"content-type": "application/sdp"},
            },
            413,
            "larger than",
        ),
        (
            "/offer",
            {"content": "{", "headers": {"content-type": "application/json"}},
            400,
            "not JSON",
        ),
        ("/offer", {"json": {"type": "offer"}}, 400, '"sdp"'),
        ("/offer", {"json": {"sdp": "v=0", "type": "answer"}}, 400, "type must be 'offer'"),
        ("/offer", {"json": {"sdp": "v=0\r\n", "type": "offer"}}, 400, "malformed SDP offer"),
    ],
)
def test_bad_input_gets_a_4xx_with_a_message(
    path: str, kwargs: dict[str, Any], status: int, message: str
) -> None:
    async def test(client: httpx.AsyncClient, url: str, echo: EchoServer) -> None:
        r = await client.post(path, **kwargs)
        assert r.status_code == status
        assert message in r.text
        assert echo.sessions == {}

    _serve(test)


def test_wrong_method_and_unknown_session() -> None:
    async def test(client: httpx.AsyncClient, url: str, echo: EchoServer) -> None:
        assert (await client.get("/whip")).status_code == 405
        assert (await client.delete("/sessions/nope")).status_code == 404

    _serve(test)


def test_token_is_required_when_set() -> None:
    async def test(client: httpx.AsyncClient, url: str, echo: EchoServer) -> None:
        pc, sdp = await _offer()
        headers = {"content-type": "application/sdp"}
        r = await client.post("/whip", content=sdp, headers=headers)
        assert r.status_code == 401
        assert "bearer token" in r.text
        assert r.headers["www-authenticate"].startswith("Bearer")
        r = await client.post(
            "/whip", content=sdp, headers={**headers, "authorization": "Bearer wrong"}
        )
        assert r.status_code == 401
        r = await client.post(
            "/whip", content=sdp, headers={**headers, "authorization": "Bearer s3cret"}
        )
        assert r.status_code == 201
        location = r.headers["location"]
        assert (await client.delete(location)).status_code == 401
        assert (
            await client.delete(location, headers={"authorization": "Bearer s3cret"})
        ).status_code == 204
        await pc.close()

    _serve(test, token="s3cret")


def test_full_server_answers_503() -> None:
    async def test(client: httpx.AsyncClient, url: str, echo: EchoServer) -> None:
        pcs = []
        codes = []
        for _ in range(2):
            pc, sdp = await _offer()
            pcs.append(pc)
            r = await client.post("/whip", content=sdp, headers={"content-type": "application/sdp"})
            codes.append(r.status_code)
            if r.status_code == 503:
                assert r.headers["retry-after"] == "5"
                assert "maximum of 1" in r.text
        assert codes == [201, 503]
        for pc in pcs:
            await pc.close()

    _serve(test, max_sessions=1)


def test_idle_sessions_are_closed() -> None:
    async def test(client: httpx.AsyncClient, url: str, echo: EchoServer) -> None:
        pc, sdp = await _offer()
        r = await client.post("/whip", content=sdp, headers={"content-type": "application/sdp"})
        assert r.status_code == 201
        (session,) = echo.sessions.values()
        # No audio ever arrived (the offerer never completed the call): idle after 2 s.
        assert await echo.reap(session.created_s + 1.0) == []
        assert await echo.reap(session.created_s + 2.5) == [session.id]
        assert echo.sessions == {}
        assert (await client.delete(r.headers["location"])).status_code == 404
        await pc.close()

    _serve(test, idle_timeout_s=2.0)

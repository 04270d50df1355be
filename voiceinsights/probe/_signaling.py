"""HTTP signaling of the echo endpoint: one offer/answer exchange, WHIP style.

Routes (all answers to bad input are 4xx with a plain-text or JSON message):

``POST /whip`` (``Content-Type: application/sdp``)
    201 with the SDP answer (``application/sdp``) and ``Location: /sessions/<id>``.
``POST /offer`` (``Content-Type: application/json``, ``{"sdp": "...", "type": "offer"}``)
    201 with ``{"sdp": ..., "type": "answer", "session": <id>, "location": ...}`` and the
    same ``Location`` header: the variant the Python client uses.
``DELETE /sessions/<id>``
    204 (404 when unknown): ends the session.
``GET /health``
    200 ``{"sessions": n, "max_sessions": m}``.

With a token, every route but ``/health`` needs ``Authorization: Bearer <token>`` (401
otherwise). 415 for a wrong content type, 413 above 64 KiB, 400 for an unusable offer,
503 (with ``Retry-After``) when the server is full.

aiortc gathers every candidate before the answer is returned (no trickle ICE), so one
exchange is enough.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from voiceinsights.probe._echo import EchoServer, OfferError, TooManySessionsError

__all__ = ["MAX_BODY_BYTES", "echo_app", "serve_app", "serve_echo"]

#: Largest request body accepted (bytes).
MAX_BODY_BYTES = 64 * 1024


def _text(status: int, message: str, headers: dict[str, str] | None = None) -> Any:
    from starlette.responses import PlainTextResponse

    return PlainTextResponse(message + "\n", status_code=status, headers=headers)


def authorized(request: Any, token: str | None) -> bool:
    """Whether ``request`` carries ``Authorization: Bearer <token>`` (always, without a
    token)."""
    if token is None:
        return True
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip(), token)


async def read_body(request: Any, content_type: str) -> bytes | Any:
    """The request body, or the 4xx response that explains why it is not acceptable."""
    got = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if got != content_type:
        return _text(415, f"Content-Type must be {content_type}, got {got or 'none'}")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return _text(413, f"request body is larger than {MAX_BODY_BYTES} bytes")
    return body


def echo_app(echo: EchoServer, *, token: str | None = None) -> Any:
    """The starlette application serving ``echo``."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    unauthorized = {"WWW-Authenticate": 'Bearer realm="voiceinsights-echo"'}

    async def answer(sdp: str) -> Any:
        try:
            session = await echo.answer(sdp)
        except OfferError as exc:
            return _text(400, f"malformed SDP offer: {exc}")
        except TooManySessionsError as exc:
            return _text(503, str(exc), {"Retry-After": "5"})
        return session

    async def whip(request: Any) -> Any:
        if not authorized(request, token):
            return _text(401, "missing or wrong bearer token", unauthorized)
        body = await read_body(request, "application/sdp")
        if not isinstance(body, bytes):
            return body
        try:
            sdp = body.decode("utf-8")
        except UnicodeDecodeError:
            return _text(400, "malformed SDP offer: the body is not UTF-8")
        result = await answer(sdp)
        if not hasattr(result, "answer_sdp"):
            return result
        location = f"/sessions/{result.id}"
        return Response(
            result.answer_sdp,
            status_code=201,
            media_type="application/sdp",
            headers={"Location": location},
        )

    async def offer(request: Any) -> Any:
        if not authorized(request, token):
            return _text(401, "missing or wrong bearer token", unauthorized)
        body = await read_body(request, "application/json")
        if not isinstance(body, bytes):
            return body
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            return _text(400, f"the body is not JSON: {exc}")
        if not isinstance(data, dict) or not isinstance(data.get("sdp"), str):
            return _text(400, 'the body must be a JSON object {"sdp": "...", "type": "offer"}')
        if data.get("type", "offer") != "offer":
            return _text(400, f"type must be 'offer', got {data.get('type')!r}")
        result = await answer(data["sdp"])
        if not hasattr(result, "answer_sdp"):
            return result
        location = f"/sessions/{result.id}"
        return JSONResponse(
            {
                "sdp": result.answer_sdp,
                "type": "answer",
                "session": result.id,
                "location": location,
            },
            status_code=201,
            headers={"Location": location},
        )

    async def delete(request: Any) -> Any:
        if not authorized(request, token):
            return _text(401, "missing or wrong bearer token", unauthorized)
        if await echo.close_session(request.path_params["session_id"]):
            return Response(status_code=204)
        return _text(404, "no such session (it ended or was closed as idle)")

    async def health(request: Any) -> Any:
        return JSONResponse({"sessions": len(echo.sessions), "max_sessions": echo.max_sessions})

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        await echo.start()
        try:
            yield
        finally:
            await echo.close()

    return Starlette(
        routes=[
            Route("/whip", whip, methods=["POST"]),
            Route("/offer", offer, methods=["POST"]),
            Route("/sessions/{session_id}", delete, methods=["DELETE"]),
            Route("/health", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


@asynccontextmanager
async def serve_app(app: Any, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn in this event loop; yields the base URL
    (``http://host:port``, the real port when ``port`` is 0)."""
    import socket

    import uvicorn

    # Bind here, so that a busy port is a clear OSError (uvicorn would sys.exit).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
    except OSError:
        sock.close()
        raise
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                with contextlib.suppress(SystemExit):  # uvicorn exits on startup errors
                    task.result()
                raise OSError(f"the HTTP server on {host}:{port} did not start")
            await asyncio.sleep(0.02)
        listening = server.servers[0].sockets[0]
        bound_host, bound_port = listening.getsockname()[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        yield f"http://{shown}:{bound_port}"
    finally:
        server.should_exit = True
        if not task.done():
            await task
        sock.close()


async def serve_echo(
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    token: str | None = None,
    bind: str | None = None,
    max_sessions: int = 32,
    idle_timeout_s: float = 15.0,
    ready: Callable[[str], Awaitable[None] | None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run an echo server until ``stop`` is set (or forever).

    ``bind`` (default: ``host``) is the address ICE gathers on; ``ready`` is called with the
    base URL once the server listens.
    """
    echo = EchoServer(
        bind=bind if bind is not None else host,
        max_sessions=max_sessions,
        idle_timeout_s=idle_timeout_s,
    )
    async with serve_app(echo_app(echo, token=token), host, port) as url:
        if ready is not None:
            result = ready(url)
            if asyncio.iscoroutine(result):
                await result
        await (stop or asyncio.Event()).wait()

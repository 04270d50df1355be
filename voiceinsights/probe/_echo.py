"""The echo endpoint: answers a WebRTC offer and sends back the audio it receives.

:class:`EchoServer` owns the sessions (one ``RTCPeerConnection`` each). It is transport
agnostic: the HTTP signaling in :mod:`voiceinsights.probe._signaling` calls
:meth:`EchoServer.answer` and :meth:`EchoServer.close_session`. Sessions are closed when
their peer is gone (ICE/DTLS failed or closed), when no audio arrived for
``idle_timeout_s`` and when they exceed ``max_session_s``.

ICE gathers only the bind address when one is given (a loopback bind gathers only the
loopback address); no STUN server is ever used.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from voiceinsights.probe._ice import host_addresses, ice_configuration

__all__ = ["EchoServer", "OfferError", "Session", "TooManySessions"]

log = logging.getLogger("voiceinsights.probe.echo")


class OfferError(ValueError):
    """The offer is not a usable SDP audio offer (HTTP 400)."""


class TooManySessions(RuntimeError):
    """The server carries ``max_sessions`` already (HTTP 503)."""


@dataclass
class Session:
    """One echo session."""

    id: str
    pc: Any
    created_s: float = field(default_factory=time.monotonic)
    last_media_s: float | None = None
    frames_echoed: int = 0
    answer_sdp: str = ""


def _echo_track(source: Any, session: Session) -> Any:
    from aiortc import MediaStreamTrack

    class EchoTrack(MediaStreamTrack):  # type: ignore[misc]
        kind = "audio"

        async def recv(self) -> Any:
            frame = await source.recv()
            session.last_media_s = time.monotonic()
            session.frames_echoed += 1
            return frame

    return EchoTrack()


def check_offer(sdp: str) -> None:
    """Raise :class:`OfferError` unless ``sdp`` looks like an SDP offer with audio."""
    if not sdp.strip():
        raise OfferError("the offer is empty")
    lines = [ln.strip() for ln in sdp.strip().splitlines()]
    if lines[0] != "v=0":
        raise OfferError("an SDP body starts with 'v=0'")
    if not any(ln.startswith("m=audio ") for ln in lines):
        raise OfferError("the offer has no audio media section (m=audio)")
    if not any(ln.startswith("a=fingerprint:") for ln in lines):
        raise OfferError("the offer has no DTLS fingerprint (a=fingerprint)")
    if not any(ln.startswith("a=ice-ufrag:") for ln in lines):
        raise OfferError("the offer has no ICE credentials (a=ice-ufrag)")


class EchoServer:
    """Echo sessions for probes.

    Parameters
    ----------
    bind : str, optional
        Local IP address ICE gathers on (``127.0.0.1`` keeps everything on loopback).
        ``None`` or a wildcard gathers on every interface (aioice's default).
    max_sessions : int
        Concurrent sessions carried; more get :class:`TooManySessions`.
    idle_timeout_s : float
        Close a session when no audio arrived for this long (s).
    max_session_s : float
        Close any session after this long (s).
    """

    def __init__(
        self,
        *,
        bind: str | None = "127.0.0.1",
        max_sessions: int = 32,
        idle_timeout_s: float = 15.0,
        max_session_s: float = 3600.0,
    ) -> None:
        if max_sessions < 1:
            raise ValueError("max_sessions must be >= 1")
        self.bind = bind
        self.max_sessions = max_sessions
        self.idle_timeout_s = idle_timeout_s
        self.max_session_s = max_session_s
        self.sessions: dict[str, Session] = {}
        self.closed_sessions = 0
        self._reaper: asyncio.Task[None] | None = None
        self._addresses: tuple[str, ...] | None = None
        if bind is not None:
            from voiceinsights.probe._ice import gather_addresses_for

            self._addresses = gather_addresses_for(bind, bind=bind)

    async def start(self) -> None:
        """Start the idle-session reaper."""
        if self._reaper is None:
            self._reaper = asyncio.create_task(self._reap_forever())

    async def answer(self, offer_sdp: str) -> Session:
        """Answer ``offer_sdp`` and start echoing; returns the new session."""
        from aiortc import RTCPeerConnection, RTCSessionDescription

        check_offer(offer_sdp)
        if len(self.sessions) >= self.max_sessions:
            raise TooManySessions(
                f"the echo server carries its maximum of {self.max_sessions} sessions"
            )
        pc = RTCPeerConnection(configuration=ice_configuration())
        session = Session(id=uuid.uuid4().hex, pc=pc)

        @pc.on("track")  # type: ignore[misc]
        def on_track(track: Any) -> None:
            if track.kind == "audio":
                pc.addTrack(_echo_track(track, session))

        @pc.on("connectionstatechange")  # type: ignore[misc]
        async def on_state() -> None:
            if pc.connectionState in {"failed", "closed"}:
                await self.close_session(session.id)

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            if not any(t.kind == "audio" for t in pc.getTransceivers()):
                raise OfferError("the offer has no audio media section")
            with host_addresses(self._addresses):
                await pc.setLocalDescription(await pc.createAnswer())
        except OfferError:
            await pc.close()
            raise
        except Exception as exc:  # aiortc raises ValueError, KeyError, ... on bad SDP
            await pc.close()
            raise OfferError(f"the offer could not be used: {type(exc).__name__}: {exc}") from None
        session.answer_sdp = pc.localDescription.sdp
        self.sessions[session.id] = session
        log.info("session %s opened (%d active)", session.id, len(self.sessions))
        return session

    async def close_session(self, session_id: str) -> bool:
        """Close a session; ``False`` when it does not exist (any more)."""
        session = self.sessions.pop(session_id, None)
        if session is None:
            return False
        self.closed_sessions += 1
        await session.pc.close()
        log.info("session %s closed (%d active)", session_id, len(self.sessions))
        return True

    async def reap(self, now_s: float | None = None) -> list[str]:
        """Close idle, over-long and dead sessions; returns their ids."""
        now = time.monotonic() if now_s is None else now_s
        doomed = []
        for sid, s in list(self.sessions.items()):
            last = s.last_media_s if s.last_media_s is not None else s.created_s
            if (
                now - last > self.idle_timeout_s
                or now - s.created_s > self.max_session_s
                or s.pc.connectionState in {"failed", "closed"}
            ):
                doomed.append(sid)
        for sid in doomed:
            await self.close_session(sid)
        return doomed

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                await self.reap()
            except Exception:  # pragma: no cover - keep reaping whatever happens
                log.exception("reaping sessions failed")

    async def close(self) -> None:
        """Close every session and stop the reaper."""
        if self._reaper is not None:
            self._reaper.cancel()
            try:
                await self._reaper
            except asyncio.CancelledError:
                pass
            self._reaper = None
        for sid in list(self.sessions):
            await self.close_session(sid)

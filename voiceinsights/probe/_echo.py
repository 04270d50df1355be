"""The echo endpoint: answers a WebRTC offer and sends back the audio it receives.

The audio goes back as it came, packet by packet (see :class:`Reflector`): no transcoding,
so the echo costs little CPU and the returned stream keeps the caller's timeline.

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
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from voiceinsights.probe._ice import host_addresses, ice_configuration

__all__ = [
    "EchoServer",
    "OfferError",
    "Reflector",
    "Session",
    "TooManySessionsError",
    "check_offer",
    "clock_rates_from_sdp",
]

log = logging.getLogger("voiceinsights.probe.echo")


class OfferError(ValueError):
    """The offer is not a usable SDP audio offer (HTTP 400)."""


class TooManySessionsError(RuntimeError):
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
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


def clock_rates_from_sdp(sdp: str) -> dict[int, int]:
    """Payload type -> RTP clock rate (Hz) from the ``a=rtpmap`` lines of an SDP."""
    rates: dict[int, int] = {}
    for line in sdp.splitlines():
        if line.startswith("a=rtpmap:"):
            pt, _, rest = line[len("a=rtpmap:") :].partition(" ")
            parts = rest.strip().split("/")
            if pt.isdigit() and len(parts) >= 2 and parts[1].isdigit():
                rates[int(pt)] = int(parts[1])
    return rates


class Reflector:
    """Sends back the encoded audio packets a session receives, unchanged.

    The echo does not decode and re-encode: each received RTP payload is queued with its
    RTP timestamp and sent back as a pre-encoded packet whose timestamp keeps the sender's
    spacing. The echoed stream therefore keeps the caller's media timeline (a packet lost
    on the way in leaves a timestamp gap, not a shifted timeline), and its arrival times
    at the caller carry the jitter of both directions. The echo's own RTP sequence
    numbers are contiguous, so the caller's inbound loss is the return path's loss; the
    way in is reported by the echo's RTCP receiver reports.
    """

    def __init__(self, session: Session, clock_rates: dict[int, int], maxsize: int = 500) -> None:
        self.session = session
        self.clock_rates = clock_rates
        self.queue: asyncio.Queue[tuple[bytes, int, int] | None] = asyncio.Queue(maxsize)
        self._last_ts: int | None = None
        self._ext = 0

    def push(self, packet: Any) -> None:
        ts = int(packet.timestamp)
        if self._last_ts is not None:
            step = (ts - self._last_ts + 2**31) % 2**32 - 2**31
            if step < 0:
                return  # late, reordered packet: its moment has passed
            self._ext += step
        self._last_ts = ts
        clock = self.clock_rates.get(int(packet.payload_type), 48000)
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait((bytes(packet.payload), self._ext, clock))
        self.session.last_media_s = time.monotonic()

    def attach(self, receiver: Any) -> None:
        handler = receiver._handle_rtp_packet

        async def reflecting_handler(packet: Any, arrival_time_ms: int) -> None:
            self.push(packet)
            await handler(packet, arrival_time_ms=arrival_time_ms)

        receiver._handle_rtp_packet = reflecting_handler

    def track(self) -> Any:
        import fractions

        import av
        from aiortc import MediaStreamTrack
        from aiortc.mediastreams import MediaStreamError

        reflector = self

        class ReflectedAudio(MediaStreamTrack):
            kind = "audio"

            async def recv(self) -> Any:
                item = await reflector.queue.get()
                if item is None or self.readyState != "live":
                    raise MediaStreamError
                payload, ts, clock = item
                packet = av.Packet(payload)
                packet.pts = ts
                packet.time_base = fractions.Fraction(1, clock)
                reflector.session.frames_echoed += 1
                return packet

        return ReflectedAudio()


async def _drain(track: Any) -> None:
    """Consume the decoded track aiortc produces, so frames do not pile up in memory."""
    from aiortc.mediastreams import MediaStreamError

    while True:
        try:
            await track.recv()
        except MediaStreamError:
            return


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
        Concurrent sessions carried; more get :class:`TooManySessionsError`.
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
            raise TooManySessionsError(
                f"the echo server carries its maximum of {self.max_sessions} sessions"
            )
        pc = RTCPeerConnection(configuration=ice_configuration())
        session = Session(id=uuid.uuid4().hex, pc=pc)

        clock_rates = clock_rates_from_sdp(offer_sdp)
        reflector = Reflector(session, clock_rates)

        @pc.on("track")
        def on_track(track: Any) -> None:
            if track.kind != "audio":
                return
            for transceiver in pc.getTransceivers():
                if transceiver.receiver.track is track:
                    reflector.attach(transceiver.receiver)
            pc.addTrack(reflector.track())
            session.tasks.append(asyncio.ensure_future(_drain(track)))

        @pc.on("connectionstatechange")
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
        for task in session.tasks:
            task.cancel()
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
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
            self._reaper = None
        for sid in list(self.sessions):
            await self.close_session(sid)

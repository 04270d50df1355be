"""The probe caller: place one test call to an echo endpoint and report on it.

Phases, in order, each named in a failure: ``signaling`` (offer, HTTP exchange, answer),
``ice`` (connectivity checks), ``dtls`` (handshake and keys), ``media`` (first echoed
audio, then ``duration_s`` of audio with a watchdog), ``teardown``. A probe never runs
longer than ``duration_s + timeout_s``: setup (signaling to first echoed audio) must fit
in ``timeout_s`` and the whole call is cancelled at the overall limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from voiceinsights._exceptions import ConfigError, ProbeError
from voiceinsights.probe._analyse import analyse, selected_pair
from voiceinsights.probe._client import delete_session, post_offer
from voiceinsights.probe._ice import gather_addresses_for, host_addresses, ice_configuration
from voiceinsights.probe._report import SOURCE, ProbeReport
from voiceinsights.probe._rtp import ArrivalRecorder
from voiceinsights.probe._signal import ReceivedAudio, audio_level, signal_track, speech_like
from voiceinsights.probe._stats import StatsPoller

log = logging.getLogger("voiceinsights.probe")

__all__ = ["CLOCK_RATES", "CODECS", "run", "run_async", "store_report"]

#: Codec name -> MIME type in SDP.
CODECS = {"opus": "audio/opus", "pcmu": "audio/PCMU"}
#: Codec name -> RTP clock rate (Hz).
CLOCK_RATES = {"opus": 48000, "pcmu": 8000}


def _span(start_s: float | None, end_s: float | None) -> dict[str, float]:
    if start_s is None or end_s is None:
        return {}
    return {
        "start": start_s * 1000.0,
        "end": end_s * 1000.0,
        "duration": (end_s - start_s) * 1000.0,
    }


class _Call:
    def __init__(
        self,
        report: ProbeReport,
        *,
        url: str,
        duration_s: float,
        codec: str,
        ice_servers: Sequence[str],
        relay_only: bool,
        bind: str | None,
        token: str | None,
        timeout_s: float,
        media_timeout_s: float,
        on_sample: Callable[[dict[str, Any]], None] | None,
    ) -> None:
        self.report = report
        self.url = url
        self.duration_s = duration_s
        self.codec = codec
        self.ice_servers = ice_servers
        self.relay_only = relay_only
        self.bind = bind
        self.token = token
        self.timeout_s = timeout_s
        self.media_timeout_s = media_timeout_s
        self.on_sample = on_sample
        self.phase = "signaling"
        self.pc: Any = None
        self.session_url: str | None = None
        self.recorder = ArrivalRecorder()
        self.received = ReceivedAudio()
        self.samples = speech_like(duration_s + timeout_s + 2.0)
        self.track: Any = None
        self.poller: StatsPoller | None = None
        self.tasks: list[asyncio.Task[Any]] = []
        self.t: dict[str, float] = {}
        self.pair: dict[str, Any] | None = None

    def _levels(self, start_s: float, end_s: float) -> tuple[int, int]:
        import numpy as np

        level_in = 0
        if self.track is not None and self.track.sent_at_s:
            sent = np.asarray(self.track.sent_at_s)
            ks = np.nonzero((sent >= start_s) & (sent < end_s))[0]
            if ks.size:
                n = self.track.frame_samples
                level_in = audio_level(self.samples[ks[0] * n : (ks[-1] + 1) * n])
        got = [
            f
            for t, f in zip(self.received.received_at_s, self.received.frames, strict=True)
            if start_s <= t < end_s
        ]
        level_out = audio_level(np.concatenate(got)) if got else 0
        return level_in, level_out

    async def place(self) -> None:
        from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription

        loop = asyncio.get_running_loop()
        setup_deadline = loop.time() + self.timeout_s
        host = urlsplit(self.url).hostname or ""
        addresses = gather_addresses_for(host, self.bind)

        self.t["pc_start"] = time.time()
        pc = self.pc = RTCPeerConnection(
            ice_configuration(self.ice_servers, relay_only=self.relay_only)
        )
        ice_done, dtls_done, failed = asyncio.Event(), asyncio.Event(), asyncio.Event()

        @pc.on("iceconnectionstatechange")
        def on_ice() -> None:
            if pc.iceConnectionState == "completed" and "ice_end" not in self.t:
                self.t["ice_end"] = time.time()
                ice_done.set()
            elif pc.iceConnectionState == "failed":
                failed.set()

        @pc.on("connectionstatechange")
        def on_state() -> None:
            if pc.connectionState == "connected" and "dtls_end" not in self.t:
                self.t["dtls_end"] = time.time()
                dtls_done.set()
            elif pc.connectionState == "failed":
                failed.set()

        @pc.on("track")
        def on_track(track: Any) -> None:
            self.tasks.append(asyncio.ensure_future(self.received.consume(track)))

        self.track = signal_track(self.samples)
        transceiver = pc.addTransceiver(self.track, direction="sendrecv")
        wanted = CODECS[self.codec].lower()
        caps = [
            c for c in RTCRtpSender.getCapabilities("audio").codecs if c.mimeType.lower() == wanted
        ]
        transceiver.setCodecPreferences(caps)
        self.recorder.attach(transceiver.receiver)

        # -- signaling
        with host_addresses(addresses):
            await pc.setLocalDescription(await pc.createOffer())
        self.t["sig_start"] = time.time()
        budget = max(setup_deadline - loop.time(), 0.001)
        async with httpx.AsyncClient(timeout=budget) as client:
            answer = await post_offer(client, self.url, pc.localDescription.sdp, token=self.token)
        self.session_url = answer.session_url
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=answer.sdp, type="answer"))
        except Exception as exc:  # aiortc raises ValueError/KeyError/... on a bad answer
            raise ProbeError(
                f"malformed SDP answer: {type(exc).__name__}: {exc}", phase="signaling"
            ) from None
        self.t["sig_end"] = time.time()

        # -- ICE, then DTLS
        self.phase = "ice"
        await self._wait(ice_done, failed, setup_deadline, "ICE found no working candidate pair")
        self.phase = "dtls"
        await self._wait(
            dtls_done,
            failed,
            setup_deadline,
            "the DTLS handshake failed (certificate fingerprint mismatch or handshake error)",
        )

        self.pair = selected_pair(pc)

        # -- media
        self.phase = "media"
        while not len(self.recorder):
            if loop.time() > setup_deadline:
                raise ProbeError(
                    f"no echoed audio within the {self.timeout_s:g} s timeout", phase="media"
                )
            if pc.connectionState in {"failed", "closed"}:
                raise ProbeError("the connection failed before audio came back", phase="media")
            await asyncio.sleep(0.005)
        self.t["first_media"] = self.recorder.arrival_time_s[0]
        self.poller = StatsPoller(
            pc,
            clock_rate=CLOCK_RATES[self.codec],
            codec_name=self.codec,
            bytes_received=lambda: sum(self.recorder.packet_bytes),
            levels=self._levels,
            on_sample=self.on_sample,
        )
        poll_task = asyncio.ensure_future(self.poller.run())
        self.tasks.append(poll_task)
        media_end = loop.time() + self.duration_s
        while loop.time() < media_end:
            await asyncio.sleep(min(0.1, max(media_end - loop.time(), 0.0)))
            silent = time.time() - self.recorder.arrival_time_s[-1]
            if silent > self.media_timeout_s:
                raise ProbeError(
                    f"echoed audio stopped for {silent:.1f} s mid-call "
                    "(the echo endpoint went away or the path broke)",
                    phase="media",
                )
            if pc.connectionState in {"failed", "closed"}:
                raise ProbeError(f"the connection {pc.connectionState} mid-call", phase="media")
        self.t["media_end"] = time.time()
        poll_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poll_task
        last = self.poller.samples[-1]["timestamp"] / 1000.0 if self.poller.samples else 0.0
        if time.time() - last > 0.5:
            await self.poller.poll_once()
        self.phase = "teardown"

    async def _wait(
        self, done: asyncio.Event, failed: asyncio.Event, deadline: float, why: str
    ) -> None:
        loop = asyncio.get_running_loop()
        waiters = [asyncio.ensure_future(done.wait()), asyncio.ensure_future(failed.wait())]
        try:
            await asyncio.wait(
                waiters,
                timeout=max(deadline - loop.time(), 0.0),
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            for w in waiters:
                w.cancel()
        if done.is_set():
            return
        if failed.is_set():
            raise ProbeError(why, phase=self.phase)
        raise ProbeError(
            f"{self.phase.upper()} did not complete within the {self.timeout_s:g} s timeout",
            phase=self.phase,
        )

    async def close(self, budget_s: float) -> None:
        for task in self.tasks:
            task.cancel()
        if self.session_url is not None and budget_s > 0:
            try:
                async with httpx.AsyncClient(timeout=max(min(budget_s, 2.0), 0.1)) as client:
                    self.report.teardown_error = await delete_session(
                        client, self.session_url, token=self.token
                    )
            except Exception as exc:  # teardown never hides the result
                self.report.teardown_error = f"{type(exc).__name__}: {exc}"
        if self.pc is not None:
            # closing is best effort: the result is already recorded
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.pc.close(), timeout=2.0)
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def timing(self) -> None:
        t = self.t
        r = self.report
        r.network_timing = {
            k: v
            for k, v in {
                "signaling": _span(t.get("sig_start"), t.get("sig_end")),
                "ice": _span(t.get("sig_end"), t.get("ice_end")),
                "dtls": _span(t.get("ice_end"), t.get("dtls_end")),
                "peerConnection": _span(t.get("pc_start"), t.get("dtls_end")),
                "firstMedia": _span(t.get("pc_start"), t.get("first_media")),
            }.items()
            if v
        }
        if "first_media" in t:
            r.first_media_ms = (t["first_media"] - t["pc_start"]) * 1000.0


async def run_async(
    url: str,
    *,
    duration_s: float = 10.0,
    codec: str = "opus",
    ice_servers: Sequence[str] = (),
    relay_only: bool = False,
    bind: str | None = None,
    token: str | None = None,
    label: str | None = None,
    db: Any = None,
    timeout_s: float = 10.0,
    media_timeout_s: float = 3.0,
    jitter_buffer_ms: float | str = 60.0,
    pesq: bool = False,
    check: bool = True,
    on_sample: Callable[[dict[str, Any]], None] | None = None,
) -> ProbeReport:
    """Place one test call to the echo endpoint at ``url`` and report on it.

    Parameters
    ----------
    url : str
        Echo endpoint: ``http://host:port`` (JSON signaling), ``.../whip`` (WHIP) or
        ``.../offer``.
    duration_s : float
        Seconds of audio after the first echoed packet.
    codec : {"opus", "pcmu"}
        Audio codec offered.
    ice_servers : sequence of str
        ``stun:``/``turn:`` URLs (``turn:user:pass@host:port``). None by default: no public
        STUN server is ever contacted.
    relay_only : bool
        Use only TURN-relayed candidates.
    bind : str, optional
        Local address ICE gathers on. Default: loopback when the endpoint is on loopback,
        else every interface.
    token : str, optional
        Bearer token of the echo endpoint.
    label : str, optional
        Stored with the run for grouping.
    db : path, ``Store`` or None
        Store the run (and its samples) there; failed runs too.
    timeout_s : float
        Time allowed from the offer to the first echoed audio (s); the probe never runs
        longer than ``duration_s + timeout_s``.
    media_timeout_s : float
        Mid-call silence (no echoed packet) that fails the probe (s).
    jitter_buffer_ms : float or "adaptive"
        Jitter buffer of the playout simulation behind the effective loss and MOS: a fixed
        depth in ms (default 60, anchored at the first packet) or ``"adaptive"``.
    pesq : bool
        Also compute PESQ on the playout rebuilt from arrivals (needs the ``pesq`` extra).
    check : bool
        Raise :class:`~voiceinsights.ProbeError` when the run failed (after storing it);
        with ``False`` the failed report is returned.
    on_sample : callable, optional
        Called with every per-second sample as it is made.

    Returns
    -------
    ProbeReport
    """
    if codec not in CODECS:
        raise ConfigError(f"codec must be one of {sorted(CODECS)}, got {codec!r}")
    if not duration_s > 0 or not timeout_s > 0:
        raise ConfigError("duration_s and timeout_s must be positive numbers of seconds")
    t0 = time.time()
    report = ProbeReport(run_id=str(uuid.uuid4()), target=url, codec_name=codec, label=label)
    call = _Call(
        report,
        url=url,
        duration_s=duration_s,
        codec=codec,
        ice_servers=ice_servers,
        relay_only=relay_only,
        bind=bind,
        token=token,
        timeout_s=timeout_s,
        media_timeout_s=media_timeout_s,
        on_sample=on_sample,
    )
    loop = asyncio.get_running_loop()
    hard_end = loop.time() + duration_s + timeout_s
    try:
        await asyncio.wait_for(call.place(), timeout=duration_s + timeout_s)
    except ProbeError as exc:
        report.fail(exc.phase, str(exc).partition(": ")[2] or str(exc))
    except TimeoutError:
        report.fail(call.phase, f"the probe did not finish within {duration_s + timeout_s:g} s")
    except ConfigError:
        raise
    except Exception as exc:  # anything unexpected is still a stored, named failure
        log.debug("probe %s failed unexpectedly", report.run_id, exc_info=True)
        report.fail(call.phase, f"{type(exc).__name__}: {exc}")
    finally:
        await call.close(hard_end - loop.time())
    t1 = time.time()
    report.test_timing = _span(t0, t1)
    call.timing()
    analyse(
        report,
        call.poller.samples if call.poller else [],
        call.recorder,
        call.poller.last_raw if call.poller else None,
        signal=call.samples,
        sent_at_s=list(call.track.sent_at_s) if call.track is not None else [],
        received=call.received,
        clock_rate=CLOCK_RATES[codec],
        jitter_buffer_ms=jitter_buffer_ms,
        local_sdp=call.pc.localDescription.sdp if call.pc and call.pc.localDescription else "",
        remote_sdp=call.pc.remoteDescription.sdp if call.pc and call.pc.remoteDescription else "",
        pair=call.pair,
        pesq=pesq,
    )
    if db is not None:
        store_report(report, db)
    if check and not report.ok:
        raise ProbeError(report.error or "failed", phase=report.failed_phase or "media")
    return report


def store_report(report: ProbeReport, db: Any) -> None:
    """Write ``report`` to ``probe_runs`` and its samples to ``probe_samples``.

    ``db`` is a path (the store is opened and closed) or an open ``Store``.
    """
    run_row, sample_rows = report.to_rows()
    if hasattr(db, "write_rows"):
        db.write_rows("probe_runs", [run_row], source=SOURCE)
        if sample_rows:
            db.write_rows("probe_samples", sample_rows, source=SOURCE)
        return
    from voiceinsights.store import open as open_store

    with open_store(db) as store:
        store.write_rows("probe_runs", [run_row], source=SOURCE)
        if sample_rows:
            store.write_rows("probe_samples", sample_rows, source=SOURCE)


def run(url: str, **kwargs: Any) -> ProbeReport:
    """Blocking :func:`run_async` (same parameters). In a running event loop (a notebook)
    the probe runs in a worker thread with its own loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(run_async(url, **kwargs))
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run_async(url, **kwargs)).result()

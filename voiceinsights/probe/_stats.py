"""Per-second samples with the Voice SDK's sample fields, from aiortc's stats.

aiortc's stats differ from a browser's (measured, see ``docs/probe.md``):

* ``inbound-rtp.jitter`` and ``remote-inbound-rtp.jitter`` are integers in RTP clock units:
  divided by the clock rate (48000 opus, 8000 PCMU) and multiplied by 1000 to give ms;
* ``remote-inbound-rtp.fractionLost`` is the raw 8-bit RTCP value (divide by 256);
* ``remote-inbound-rtp.roundTripTime`` is in seconds, from RTCP LSR/DLSR, and missing for
  the first 1-2 s; it is carried forward, like the SDK does, once known;
* there is no ``bytesReceived`` on ``inbound-rtp``: the probe counts RTP bytes (header +
  payload) from its own arrival record instead.

:func:`sample_from_stats` is pure: it turns one reading of the stats plus the previous
sample into the next SDK-style sample (deltas, loss %, jitter ms, RTT ms, SDK MOS,
totals). :class:`StatsPoller` reads the stats once a second.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from voiceinsights.analysis import mos as _mos

__all__ = ["RawStats", "StatsPoller", "read_raw_stats", "sample_from_stats"]


@dataclass(frozen=True)
class RawStats:
    """Cumulative counters read from aiortc at one instant.

    ``jitter_units`` in RTP clock units, ``rtt_s`` in seconds (None until the first RTCP
    round trip), ``remote_fraction_lost`` raw 0..255.
    """

    packets_received: int = 0
    packets_lost: int = 0
    jitter_units: int | None = None
    packets_sent: int = 0
    bytes_sent: int = 0
    rtt_s: float | None = None
    remote_packets_lost: int | None = None
    remote_fraction_lost: int | None = None
    remote_jitter_units: int | None = None


def read_raw_stats(report: Mapping[str, Any]) -> RawStats:
    """Pick the audio stream counters out of an aiortc ``RTCStatsReport``."""
    values: dict[str, Any] = {}
    for stats in report.values():
        kind = getattr(stats, "type", None)
        if kind == "inbound-rtp":
            values["packets_received"] = int(stats.packetsReceived)
            values["packets_lost"] = max(int(stats.packetsLost), 0)
            values["jitter_units"] = int(stats.jitter)
        elif kind == "outbound-rtp":
            values["packets_sent"] = int(stats.packetsSent)
            values["bytes_sent"] = int(stats.bytesSent)
        elif kind == "remote-inbound-rtp":
            rtt = stats.roundTripTime
            values["rtt_s"] = float(rtt) if rtt is not None else None
            values["remote_packets_lost"] = int(stats.packetsLost)
            values["remote_fraction_lost"] = int(stats.fractionLost)
            values["remote_jitter_units"] = int(stats.jitter)
    return RawStats(**values)


def sample_from_stats(
    raw: RawStats,
    previous: Mapping[str, Any] | None,
    *,
    clock_rate: int,
    timestamp_ms: float,
    bytes_received_total: int,
    codec_name: str,
    audio_input_level: int = 0,
    audio_output_level: int = 0,
) -> dict[str, Any]:
    """The next per-second sample in the Voice SDK's shape.

    Parameters
    ----------
    raw : RawStats
        Cumulative counters now.
    previous : mapping or None
        The previous sample (``None`` for the first one: its MOS is null, like the SDK's).
    clock_rate : int
        RTP clock rate of the codec in Hz.
    timestamp_ms : float
        Sample time in ms since the epoch.
    bytes_received_total : int
        Cumulative inbound RTP bytes (header + payload).
    codec_name : str
        ``opus`` or ``pcmu``.
    audio_input_level, audio_output_level : int
        Levels of this second on the SDK's 0..32767 scale.

    Returns
    -------
    dict
        ``timestamp, audioInputLevel, audioOutputLevel, bytesReceived, bytesSent,
        packetsReceived, packetsSent, packetsLost, packetsLostFraction (%), jitter (ms),
        rtt (ms), mos, codecName, totals{...}``.
    """
    prev_totals = previous["totals"] if previous is not None else {}

    def delta(name: str, now: int) -> int:
        return max(now - int(prev_totals.get(name, 0)), 0)

    totals: dict[str, float] = {
        "bytesReceived": bytes_received_total,
        "bytesSent": raw.bytes_sent,
        "packetsLost": raw.packets_lost,
        "packetsReceived": raw.packets_received,
        "packetsSent": raw.packets_sent,
    }
    total_expected = raw.packets_received + raw.packets_lost
    totals["packetsLostFraction"] = (
        raw.packets_lost / total_expected * 100.0 if raw.packets_received > 0 else 100.0
    )
    lost = delta("packetsLost", raw.packets_lost)
    received = delta("packetsReceived", raw.packets_received)
    lost_pct = lost / (lost + received) * 100.0 if lost + received > 0 else 0.0
    jitter_ms = raw.jitter_units / clock_rate * 1000.0 if raw.jitter_units is not None else None
    rtt_ms = raw.rtt_s * 1000.0 if raw.rtt_s is not None else None
    if rtt_ms is None and previous is not None:
        rtt_ms = previous.get("rtt")  # carried forward, like the SDK
    mos: float | None = None
    if previous is not None and rtt_ms is not None and jitter_ms is not None:
        value = float(_mos.twilio_sdk(rtt_ms, jitter_ms, lost_pct))
        mos = None if math.isnan(value) else value
    return {
        "timestamp": float(timestamp_ms),
        "audioInputLevel": int(audio_input_level),
        "audioOutputLevel": int(audio_output_level),
        "bytesReceived": delta("bytesReceived", bytes_received_total),
        "bytesSent": delta("bytesSent", raw.bytes_sent),
        "packetsReceived": received,
        "packetsSent": delta("packetsSent", raw.packets_sent),
        "packetsLost": lost,
        "packetsLostFraction": lost_pct,
        "jitter": jitter_ms,
        "rtt": rtt_ms,
        "mos": mos,
        "codecName": codec_name,
        "totals": totals,
    }


class StatsPoller:
    """Reads ``pc.getStats()`` once a second (on the loop clock, without drift) and keeps
    the SDK-style samples; ``on_sample`` is called with each new one."""

    def __init__(
        self,
        pc: Any,
        *,
        clock_rate: int,
        codec_name: str,
        bytes_received: Callable[[], int],
        levels: Callable[[float, float], tuple[int, int]],
        on_sample: Callable[[dict[str, Any]], None] | None = None,
        interval_s: float = 1.0,
    ) -> None:
        self.pc = pc
        self.clock_rate = clock_rate
        self.codec_name = codec_name
        self.bytes_received = bytes_received
        self.levels = levels
        self.on_sample = on_sample
        self.interval_s = interval_s
        self.samples: list[dict[str, Any]] = []
        self.last_raw: RawStats | None = None

    async def poll_once(self) -> dict[str, Any]:
        report = await self.pc.getStats()
        raw = read_raw_stats(report)
        self.last_raw = raw
        now = time.time()
        previous = self.samples[-1] if self.samples else None
        start = previous["timestamp"] / 1000.0 if previous else now - self.interval_s
        level_in, level_out = self.levels(start, now)
        sample = sample_from_stats(
            raw,
            previous,
            clock_rate=self.clock_rate,
            timestamp_ms=now * 1000.0,
            bytes_received_total=self.bytes_received(),
            codec_name=self.codec_name,
            audio_input_level=level_in,
            audio_output_level=level_out,
        )
        self.samples.append(sample)
        if self.on_sample is not None:
            self.on_sample(sample)
        return sample

    async def run(self) -> None:
        """Poll until cancelled."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        k = 1
        while True:
            await asyncio.sleep(max(start + k * self.interval_s - loop.time(), 0.0))
            await self.poll_once()
            k += 1

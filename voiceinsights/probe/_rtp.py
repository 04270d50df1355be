"""Arrival recording of the RTP packets the caller receives.

For every RTP packet of the echoed stream the recorder keeps the wall-clock arrival time
(s since the epoch, microsecond resolution, taken when the packet is handed to the
receiver after SRTP decryption), the RTP sequence number, the RTP timestamp (clock units)
and the payload size. RFC 3550 jitter and loss, the jitter-buffer simulation and the
playout rebuild are computed from this record, not from aiortc's decoded audio.

The recorder wraps the packet handler of one ``RTCRtpReceiver`` instance (the probe's
own); nothing global is changed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ArrivalRecorder"]


@dataclass
class ArrivalRecorder:
    """Per-packet arrival log of one inbound RTP stream."""

    arrival_time_s: list[float] = field(default_factory=list)
    sequence_number: list[int] = field(default_factory=list)
    rtp_timestamp: list[int] = field(default_factory=list)
    payload_bytes: list[int] = field(default_factory=list)
    packet_bytes: list[int] = field(default_factory=list)
    payloads: list[bytes] = field(default_factory=list, repr=False)
    ssrc: int | None = None

    def record(self, packet: Any, arrival_time_s: float | None = None) -> None:
        """Record one parsed RTP packet (``aiortc.rtp.RtpPacket``)."""
        self.arrival_time_s.append(time.time() if arrival_time_s is None else arrival_time_s)
        self.sequence_number.append(int(packet.sequence_number))
        self.rtp_timestamp.append(int(packet.timestamp))
        size = len(packet.payload)
        self.payload_bytes.append(size)
        # 12-byte fixed header + CSRCs; extensions are counted in the payload estimate.
        self.packet_bytes.append(size + 12 + 4 * len(packet.csrc) + packet.padding_size)
        self.payloads.append(bytes(packet.payload))
        if self.ssrc is None:
            self.ssrc = int(packet.ssrc)

    def attach(self, receiver: Any) -> None:
        """Record every RTP packet ``receiver`` (an ``RTCRtpReceiver``) gets from now on."""
        handler = receiver._handle_rtp_packet

        async def recording_handler(packet: Any, arrival_time_ms: int) -> None:
            self.record(packet)
            await handler(packet, arrival_time_ms=arrival_time_ms)

        receiver._handle_rtp_packet = recording_handler

    def __len__(self) -> int:
        return len(self.sequence_number)

    def frame(self) -> pd.DataFrame:
        """The log as a DataFrame: ``arrival_time_s`` (s since the epoch),
        ``sequence_number``, ``rtp_timestamp`` (clock units), ``payload_bytes``,
        ``packet_bytes``; in arrival order."""
        return pd.DataFrame(
            {
                "arrival_time_s": np.asarray(self.arrival_time_s, dtype=np.float64),
                "sequence_number": np.asarray(self.sequence_number, dtype=np.int64),
                "rtp_timestamp": np.asarray(self.rtp_timestamp, dtype=np.int64),
                "payload_bytes": np.asarray(self.payload_bytes, dtype=np.int64),
                "packet_bytes": np.asarray(self.packet_bytes, dtype=np.int64),
            }
        )

    def decoded(self, codec: str) -> tuple[list[float], list[Any], int]:
        """Decode every recorded payload in arrival order, bypassing aiortc's receiver.

        Returns ``(arrival_time_s, frames, sample_rate_hz)``: one mono int16 array per
        packet, placed at the packet's arrival. A packet that does not decode gives
        silence of one frame (20 ms).
        """
        import av

        name, rate = ("opus", 48000) if codec == "opus" else ("pcm_mulaw", 8000)
        ctx: Any = av.CodecContext.create(name, "r")
        ctx.sample_rate = rate
        ctx.layout = "mono"
        frames: list[Any] = []
        silence = np.zeros(rate // 50, dtype=np.int16)
        for payload in self.payloads:
            try:
                decoded = ctx.decode(av.Packet(payload))
            except av.error.FFmpegError:
                decoded = []
            if not decoded:
                frames.append(silence)
                continue
            arrays = []
            for frame in decoded:
                arr = frame.to_ndarray()
                channels = len(frame.layout.channels)
                if arr.dtype.kind == "f":
                    arr = np.clip(arr * 32767.0, -32768, 32767)
                arr = arr.reshape(-1) if arr.shape[0] == 1 else arr.mean(axis=0)
                if channels > 1 and frame.format.is_packed:
                    arr = arr.reshape(-1, channels).mean(axis=1)
                arrays.append(arr.astype(np.int16))
            frames.append(np.concatenate(arrays))
        return list(self.arrival_time_s), frames, rate

    def window(self, start_s: float, end_s: float) -> tuple[int, int]:
        """Packets and bytes (RTP header + payload) that arrived in ``[start_s, end_s)``."""
        arr = np.asarray(self.arrival_time_s)
        mask = (arr >= start_s) & (arr < end_s)
        return int(mask.sum()), int(np.asarray(self.packet_bytes)[mask].sum())

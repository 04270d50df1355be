"""A minimal pcap writer for Ethernet/IPv4/UDP/RTP frames (tests only)."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path


def _ip_checksum(header: bytes) -> int:
    total = sum(struct.unpack("!10H", header))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def rtp_packet(
    seq: int,
    timestamp: int,
    ssrc: int,
    payload_type: int = 0,
    payload: bytes = b"\xff" * 160,
    marker: bool = False,
) -> bytes:
    """An RTP version 2 packet with no CSRC or extension."""
    b0 = 0x80
    b1 = (0x80 if marker else 0) | (payload_type & 0x7F)
    return struct.pack("!BBHII", b0, b1, seq & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc) + payload


def udp_frame(payload: bytes, src: tuple[str, int], dst: tuple[str, int]) -> bytes:
    """Ethernet II + IPv4 + UDP frame around ``payload`` (UDP checksum 0 = none)."""
    udp = struct.pack("!HHHH", src[1], dst[1], 8 + len(payload), 0) + payload
    src_ip = bytes(int(x) for x in src[0].split("."))
    dst_ip = bytes(int(x) for x in dst[0].split("."))
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0, src_ip, dst_ip)
    ip = ip[:10] + struct.pack("!H", _ip_checksum(ip)) + ip[12:]
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + ip + udp


def write_pcap(path: Path, frames: Iterable[tuple[float, bytes]]) -> None:
    """Write (time_s, frame) pairs as a classic microsecond pcap, link type Ethernet."""
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, frame in frames:
            sec = int(t)
            usec = round((t - sec) * 1e6)
            if usec >= 1_000_000:
                sec, usec = sec + 1, usec - 1_000_000
            fh.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
            fh.write(frame)

"""A tiny PNG decoder (8-bit RGB/RGBA, non-interlaced), enough to look at rendered figures."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class Image:
    width: int
    height: int
    channels: int
    rows: list[bytes]

    def pixel(self, x: int, y: int) -> tuple[int, ...]:
        row = self.rows[y]
        return tuple(row[x * self.channels : (x + 1) * self.channels][:3])

    def rgb(self) -> np.ndarray:
        """Pixels as an (height, width, 3) uint8 array."""
        flat = np.frombuffer(b"".join(self.rows), dtype=np.uint8)
        return flat.reshape(self.height, self.width, self.channels)[:, :, :3]

    def colours(self) -> int:
        """Number of distinct RGB colours."""
        px = self.rgb().reshape(-1, 3).astype(np.uint32)
        return len(np.unique((px[:, 0] << 16) | (px[:, 1] << 8) | px[:, 2]))

    def count_near(self, rgb: tuple[int, int, int], tolerance: int = 24) -> int:
        """Pixels within ``tolerance`` of ``rgb`` on every channel."""
        diff = np.abs(self.rgb().astype(np.int16) - np.array(rgb, dtype=np.int16))
        return int((diff <= tolerance).all(axis=2).sum())

    def non_background_fraction(self, background: tuple[int, int, int] = (255, 255, 255)) -> float:
        """Share of pixels that are not the background colour."""
        return 1.0 - self.count_near(background, tolerance=3) / (self.width * self.height)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode(data: bytes) -> Image:
    if not data.startswith(_SIGNATURE):
        raise ValueError("not a PNG file")
    pos = len(_SIGNATURE)
    idat = b""
    width = height = channels = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        crc = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0]
        if zlib.crc32(kind + body) != crc:
            raise ValueError(f"bad CRC in {kind!r} chunk")
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour not in (2, 6) or interlace:
                raise ValueError(f"unsupported PNG (depth {depth}, colour type {colour})")
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    i = 0
    for _ in range(height):
        filt = raw[i]
        line = bytearray(raw[i + 1 : i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = prev[x]
            c = prev[x - channels] if x >= channels else 0
            if filt == 1:
                line[x] = (line[x] + a) & 0xFF
            elif filt == 2:
                line[x] = (line[x] + b) & 0xFF
            elif filt == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif filt == 4:
                line[x] = (line[x] + _paeth(a, b, c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return Image(width, height, channels, rows)

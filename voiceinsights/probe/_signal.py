"""The probe's test signal: speech-like audio made locally, and the tracks that carry it.

The signal imitates the structure of speech that matters to a network test and to an
audio round-trip measurement: voiced "syllables" of 80-300 ms with a wandering pitch
(90-240 Hz), harmonics shaped by two formants, sharp onsets, and pauses of 40-250 ms. It is
generated from a seed, so the same seed gives the same audio, and it never repeats within a
probe (no periodic pattern for a cross-correlation to lock onto the wrong lag).
"""

from __future__ import annotations

import asyncio
import fractions
import functools
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "FRAME_S",
    "SAMPLE_RATE_HZ",
    "ReceivedAudio",
    "audio_level",
    "signal_track",
    "speech_like",
]

#: Sample rate of the signal the probe sends (Hz); aiortc resamples for PCMU.
SAMPLE_RATE_HZ = 48000
#: Length of one audio frame (s).
FRAME_S = 0.020


def speech_like(
    duration_s: float, *, sample_rate_hz: int = SAMPLE_RATE_HZ, seed: int = 7
) -> npt.NDArray[np.int16]:
    """A deterministic speech-like signal (read-only; cached, scheduled probes reuse it).

    Parameters
    ----------
    duration_s : float
        Length in seconds.
    sample_rate_hz : int
        Sample rate in Hz.
    seed : int
        Seed of the generator: the same seed gives the same samples.

    Returns
    -------
    numpy.ndarray of int16
        Mono samples, peak about -6 dBFS (16384).
    """
    return _speech_like(float(duration_s), int(sample_rate_hz), int(seed))


@functools.lru_cache(maxsize=4)
def _speech_like(duration_s: float, sample_rate_hz: int, seed: int) -> npt.NDArray[np.int16]:
    """Generate the samples of :func:`speech_like`."""
    rng = np.random.default_rng(seed)
    n = max(round(duration_s * sample_rate_hz), 0)
    out = np.zeros(n, dtype=np.float64)
    pos = int(rng.integers(0, int(0.05 * sample_rate_hz) + 1))
    while pos < n:
        length = int(rng.uniform(0.08, 0.30) * sample_rate_hz)
        end = min(pos + length, n)
        t = np.arange(end - pos) / sample_rate_hz
        f0_start, f0_end = rng.uniform(90, 240, size=2)
        f0 = np.linspace(f0_start, f0_end, end - pos)
        phase = 2 * np.pi * np.cumsum(f0) / sample_rate_hz
        formants = rng.uniform([300, 900], [900, 2500])
        voiced = np.zeros(end - pos)
        for k in range(1, 16):
            fk = f0 * k
            gain = sum(1.0 / (1.0 + ((fk - fm) / 150.0) ** 2) for fm in formants) / k**0.5
            voiced += gain * np.sin(k * phase)
        attack = min(int(0.005 * sample_rate_hz), end - pos)
        env = np.exp(-t * rng.uniform(2.0, 8.0))
        env[:attack] *= np.linspace(0.0, 1.0, attack) if attack else 1.0
        release = min(int(0.02 * sample_rate_hz), end - pos)
        if release:
            env[-release:] *= np.linspace(1.0, 0.0, release)
        out[pos:end] = voiced * env * rng.uniform(0.4, 1.0)
        pos = end + int(rng.uniform(0.04, 0.25) * sample_rate_hz)
    peak = float(np.max(np.abs(out))) if n else 0.0
    if peak > 0:
        out *= 16384.0 / peak
    samples = out.astype(np.int16)
    samples.flags.writeable = False  # shared by the cache
    return samples


def audio_level(samples: npt.NDArray[Any]) -> int:
    """Level of a block of int16 samples on the SDK's 0..32767 scale (RMS amplitude)."""
    if samples.size == 0:
        return 0
    rms = float(np.sqrt(np.mean(np.square(samples.astype(np.float64)))))
    return int(min(round(rms), 32767))


def signal_track(samples: npt.NDArray[np.int16]) -> Any:
    """An aiortc audio track that plays ``samples`` (48 kHz mono) in real time, 20 ms per
    frame, and records in ``sent_at_s`` when each frame left (wall-clock s since the
    epoch). The class is built on first use so importing this module needs no aiortc."""
    return _make_track_class()(samples)


_TRACK_CLASS: Any = None


def _make_track_class() -> Any:
    global _TRACK_CLASS
    if _TRACK_CLASS is not None:
        return _TRACK_CLASS
    import av
    from aiortc import MediaStreamTrack

    class _SignalTrack(MediaStreamTrack):
        kind = "audio"

        def __init__(self, samples: npt.NDArray[np.int16]) -> None:
            super().__init__()
            self.samples = samples
            self.frame_samples = int(SAMPLE_RATE_HZ * FRAME_S)
            self.sent_at_s: list[float] = []
            self._pts = 0
            self._start: float | None = None

        async def recv(self) -> Any:
            if self.readyState != "live":
                from aiortc.mediastreams import MediaStreamError

                raise MediaStreamError
            if self._start is None:
                self._start = time.time()
            else:
                wait = self._start + self._pts / SAMPLE_RATE_HZ - time.time()
                if wait > 0:
                    await asyncio.sleep(wait)
            k = self._pts
            block = self.samples[k : k + self.frame_samples]
            if block.size < self.frame_samples:
                block = np.pad(block, (0, self.frame_samples - block.size))
            frame = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = SAMPLE_RATE_HZ
            frame.pts = k
            frame.time_base = fractions.Fraction(1, SAMPLE_RATE_HZ)
            self._pts += self.frame_samples
            self.sent_at_s.append(time.time())
            return frame

    _TRACK_CLASS = _SignalTrack
    return _TRACK_CLASS


@dataclass
class ReceivedAudio:
    """Decoded echoed audio as the caller received it: one entry per frame, with its
    wall-clock arrival (s since the epoch) and mono int16 samples."""

    received_at_s: list[float] = field(default_factory=list)
    frames: list[npt.NDArray[np.int16]] = field(default_factory=list)
    sample_rate_hz: int = SAMPLE_RATE_HZ

    def add(self, frame: Any) -> None:
        arr = frame.to_ndarray().reshape(-1)
        channels = len(frame.layout.channels)
        if channels > 1:
            arr = arr.reshape(-1, channels).mean(axis=1)
        self.sample_rate_hz = int(frame.sample_rate)
        self.received_at_s.append(time.time())
        self.frames.append(arr.astype(np.int16))

    async def consume(self, track: Any) -> None:
        """Read ``track`` until it ends, recording every frame."""
        from aiortc.mediastreams import MediaStreamError

        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            self.add(frame)


def _envelope_ms(samples: npt.NDArray[Any], sample_rate_hz: int) -> npt.NDArray[np.float64]:
    """Mean absolute amplitude per millisecond."""
    per_ms = max(sample_rate_hz // 1000, 1)
    n = samples.size // per_ms
    if n == 0:
        return np.zeros(0)
    block = np.abs(samples[: n * per_ms].astype(np.float64)).reshape(n, per_ms)
    return np.asarray(block.mean(axis=1), dtype=np.float64)


def _timeline(
    starts_s: list[float], blocks: list[npt.NDArray[np.float64]], origin_s: float, length: int
) -> npt.NDArray[np.float64]:
    line = np.zeros(length)
    for start, env in zip(starts_s, blocks, strict=True):
        i = round((start - origin_s) * 1000.0)
        if i < 0 or i >= length:
            continue
        j = min(i + env.size, length)
        line[i:j] = env[: j - i]
    return line


def audio_round_trip_ms(
    samples: npt.NDArray[np.int16],
    sent_at_s: list[float],
    received: ReceivedAudio,
    *,
    max_lag_ms: int = 2000,
    min_correlation: float = 0.3,
) -> float | None:
    """Round-trip latency measured on the audio itself, in ms.

    The amplitude envelope (1 ms resolution) of the sent signal, placed at the times its
    frames left, is cross-correlated with the envelope of the echoed audio, placed at the
    times its frames arrived; the lag of the correlation peak is the time the sound took
    to come back (encoder, network both ways, the echo's and our jitter buffers, decoders).

    Parameters
    ----------
    samples : numpy.ndarray of int16
        The signal sent (48 kHz mono), 20 ms per entry of ``sent_at_s``.
    sent_at_s : list of float
        When each frame left (s since the epoch).
    received : ReceivedAudio
        The decoded echo with arrival times.
    max_lag_ms : int
        Longest round trip searched.
    min_correlation : float
        Peak normalised correlation below which no answer is given (``None``).

    Returns
    -------
    float or None
        The lag in ms, ``None`` when the echo does not resemble the signal.
    """
    if len(sent_at_s) < 10 or len(received.frames) < 10:
        return None
    frame = int(SAMPLE_RATE_HZ * FRAME_S)
    sent_env = [
        _envelope_ms(samples[k * frame : (k + 1) * frame], SAMPLE_RATE_HZ)
        for k in range(len(sent_at_s))
    ]
    recv_env = [_envelope_ms(f, received.sample_rate_hz) for f in received.frames]
    origin = sent_at_s[0]
    end = max(sent_at_s[-1], received.received_at_s[-1]) + 0.1
    length = int((end - origin) * 1000.0) + 1
    a = _timeline(sent_at_s, sent_env, origin, length)
    b = _timeline(received.received_at_s, recv_env, origin, length)
    a = a - a.mean()
    b = b - b.mean()
    from scipy.signal import correlate

    full = correlate(b, a, mode="full", method="fft")
    zero = a.size - 1
    lags = full[zero : zero + max_lag_ms + 1]
    if lags.size == 0:
        return None
    best = int(np.argmax(lags))
    # Normalise by the energy of the overlapping parts.
    overlap_a = a[: a.size - best] if best else a
    overlap_b = b[best:]
    denom = float(np.sqrt(np.sum(overlap_a**2) * np.sum(overlap_b**2)))
    if denom == 0 or lags[best] / denom < min_correlation:
        return None
    return float(best)

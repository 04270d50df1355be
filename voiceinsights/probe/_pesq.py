"""PESQ (ITU-T P.862) on the playout a receiver would have produced from the arrivals.

aiortc's decoded audio is not what a listener hears (its fixed jitter buffer stalls and
discards after a loss), so the degraded signal is rebuilt here from the caller's packet
record: each received payload is decoded and placed at its media time (from the RTP
timestamp); packets the jitter-buffer simulation marked late, and packets never received,
play as silence (late = lost, no concealment). The reference is the signal the probe sent,
aligned to the playout by envelope cross-correlation. Scored wideband (P.862.2, 16 kHz)
for opus and narrowband (P.862.1, 8 kHz) for PCMU.

Needs the ``pesq`` extra (the ``pesq`` package builds from source with a C compiler).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from voiceinsights.analysis.jitter import unwrap_timestamps
from voiceinsights.probe._rtp import ArrivalRecorder
from voiceinsights.probe._signal import SAMPLE_RATE_HZ

__all__ = ["pesq_from_arrivals", "rebuild_playout"]


def rebuild_playout(
    recorder: ArrivalRecorder,
    codec: str,
    late: npt.NDArray[np.bool_] | None = None,
    frame_s: float = 0.020,
) -> tuple[npt.NDArray[np.float64], int]:
    """The playout timeline: ``(samples, sample_rate_hz)``; silence where packets were
    lost or (per ``late``, one flag per arrival) discarded as late."""
    _, frames, rate = recorder.decoded(codec)
    clock = 48000 if codec == "opus" else 8000
    media_s = unwrap_timestamps(np.asarray(recorder.rtp_timestamp, dtype=np.float64)) / clock
    index = np.round((media_s - media_s.min()) / frame_s).astype(np.int64)
    per_frame = int(rate * frame_s)
    out = np.zeros((int(index.max()) + 1) * per_frame, dtype=np.float64)
    seen: set[int] = set()
    for i, (k, frame) in enumerate(zip(index.tolist(), frames, strict=True)):
        if (late is not None and bool(late[i])) or k in seen:
            continue
        seen.add(k)
        block = np.asarray(frame, dtype=np.float64)[:per_frame]
        out[k * per_frame : k * per_frame + block.size] = block
    return out, rate


def _align(reference: npt.NDArray[np.float64], degraded: npt.NDArray[np.float64], rate: int) -> int:
    """Offset (samples) of ``degraded`` within ``reference``, from 1 ms envelopes."""
    from scipy.signal import correlate

    per_ms = rate // 1000
    n_ref, n_deg = reference.size // per_ms, degraded.size // per_ms
    env_ref = np.abs(reference[: n_ref * per_ms]).reshape(n_ref, per_ms).mean(axis=1)
    env_deg = np.abs(degraded[: n_deg * per_ms]).reshape(n_deg, per_ms).mean(axis=1)
    full = correlate(env_ref - env_ref.mean(), env_deg - env_deg.mean(), mode="valid")
    if full.size == 0:
        return 0
    return int(np.argmax(full)) * per_ms


def pesq_from_arrivals(
    signal: npt.NDArray[np.int16],
    recorder: ArrivalRecorder,
    codec: str,
    late: npt.NDArray[np.bool_] | None = None,
) -> float | None:
    """PESQ MOS-LQO of the rebuilt playout against the sent ``signal`` (48 kHz).

    Returns ``None`` when fewer than 2 s of audio came back. Raises ``ConfigError`` when
    the ``pesq`` package is missing.
    """
    try:
        from pesq import pesq as score
    except ImportError:
        from voiceinsights._exceptions import ConfigError

        raise ConfigError(
            "PESQ needs the pesq package: pip install 'voiceinsights[pesq]' (C compiler)"
        ) from None
    from scipy.signal import resample_poly

    if len(recorder) < 100:
        return None
    degraded, rate = rebuild_playout(recorder, codec, late)
    fs, mode = (16000, "wb") if codec == "opus" else (8000, "nb")
    deg = resample_poly(degraded, fs, rate)
    ref = resample_poly(signal.astype(np.float64), fs, SAMPLE_RATE_HZ)
    if deg.size > ref.size:
        deg = deg[: ref.size]
    offset = _align(ref, deg, fs)
    ref = ref[offset : offset + deg.size]
    if ref.size < 2 * fs:
        return None
    value: Any = score(fs, ref.astype(np.float32), deg.astype(np.float32), mode)
    return float(value)

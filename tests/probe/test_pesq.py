"""PESQ on the playout rebuilt from arrivals (needs the optional ``pesq`` package)."""

from __future__ import annotations

from dataclasses import dataclass, field

import av
import numpy as np
import pytest
from scipy.signal import resample_poly

from voiceinsights.probe._pesq import pesq_from_arrivals, rebuild_playout
from voiceinsights.probe._rtp import ArrivalRecorder
from voiceinsights.probe._signal import speech_like

pytest.importorskip("pesq")

SIGNAL = speech_like(6.0, seed=4)


@dataclass
class _Packet:
    sequence_number: int
    timestamp: int
    payload: bytes
    ssrc: int = 1
    padding_size: int = 0
    csrc: list[int] = field(default_factory=list)


def _pcmu_arrivals(drop: set[int] = frozenset()) -> ArrivalRecorder:  # type: ignore[assignment]
    """The signal as a PCMU stream (8 kHz, 20 ms packets) that arrived on time."""
    nb = resample_poly(SIGNAL.astype(np.float64), 1, 6).astype(np.int16)
    enc = av.CodecContext.create("pcm_mulaw", "w")
    enc.sample_rate = 8000
    enc.layout = "mono"
    enc.format = "s16"
    rec = ArrivalRecorder()
    for k in range(nb.size // 160):
        frame = av.AudioFrame.from_ndarray(
            nb[k * 160 : (k + 1) * 160].reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = 8000
        frame.pts = k * 160
        payload = b"".join(bytes(p) for p in enc.encode(frame))
        if k in drop:
            continue
        # sequence numbers and timestamps cross their wrap on purpose
        packet = _Packet((65500 + k) % 65536, (2**32 - 8000 + k * 160) % 2**32, payload)
        rec.record(packet, 1000.0 + k * 0.02)
    return rec


def test_rebuilt_playout_puts_silence_where_packets_are_missing() -> None:
    rec = _pcmu_arrivals(drop={10, 11})
    playout, rate = rebuild_playout(rec, "pcmu")
    assert rate == 8000
    assert playout.size == 300 * 160
    assert np.all(playout[10 * 160 : 12 * 160] == 0)
    assert np.abs(playout[20 * 160 : 40 * 160]).sum() > 0


def test_late_counts_as_lost() -> None:
    every_fifth = {k for k in range(300) if k % 5 == 1}
    dropped = pesq_from_arrivals(SIGNAL, _pcmu_arrivals(every_fifth), "pcmu")
    full = _pcmu_arrivals()
    late = np.array([k in every_fifth for k in range(len(full))])
    marked_late = pesq_from_arrivals(SIGNAL, full, "pcmu", late=late)
    assert dropped == pytest.approx(marked_late, abs=1e-6)


def test_pesq_falls_with_loss() -> None:
    clean = pesq_from_arrivals(SIGNAL, _pcmu_arrivals(), "pcmu")
    some = pesq_from_arrivals(
        SIGNAL, _pcmu_arrivals({k for k in range(300) if k % 20 == 0}), "pcmu"
    )
    heavy = pesq_from_arrivals(
        SIGNAL, _pcmu_arrivals({k for k in range(300) if k % 5 == 0}), "pcmu"
    )
    assert clean is not None
    assert some is not None
    assert heavy is not None
    # G.711 on this synthetic signal scores about 3.6 (a codec baseline, not 4.5).
    assert clean > 3.3
    assert clean > some > heavy
    assert heavy < clean - 1.0

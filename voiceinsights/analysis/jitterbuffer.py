"""Jitter-buffer simulation: what a listener hears after playout.

Packets that arrive after their playout time are discarded by the receiver, so the loss a
listener hears (*effective loss*) is network loss plus late packets, and the buffer adds
delay. :func:`simulate` replays arrival times through a fixed or an adaptive buffer and
scores the result with the E-model (:func:`voiceinsights.analysis.mos.emodel`), the way
VoIPmonitor reports MOS for fixed and adaptive buffers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.signal import lfilter

from voiceinsights._exceptions import AnalysisInputError
from voiceinsights.analysis import loss as _loss
from voiceinsights.analysis import mos as _mos
from voiceinsights.analysis._arrays import ArrayLike, FloatArray, as_float_array
from voiceinsights.analysis.jitter import unwrap_timestamps

__all__ = ["JitterBufferResult", "simulate"]

#: Weight of the running estimates of the adaptive buffer (Ramjee et al., 1994,
#: "Adaptive playout mechanisms for packetized audio applications", algorithm 1).
ADAPTIVE_ALPHA = 0.998002
#: Safety factor on the delay variation of the adaptive buffer (same source).
ADAPTIVE_BETA = 4.0


@dataclass(frozen=True)
class JitterBufferResult:
    """Outcome of a jitter-buffer simulation.

    Attributes
    ----------
    mode : str
        ``fixed`` or ``adaptive``.
    buffer_ms : float
        Fixed buffer depth, or for the adaptive buffer its mean playout offset above the
        fastest packet's transit (ms).
    packets : int
        Distinct packets that arrived.
    expected : int
        Packets the sender sent (from sequence numbers when given, else ``packets``).
    network_lost : int
        Packets that never arrived.
    late_discarded : int
        Packets that arrived after their playout time and were dropped.
    network_loss_pct, effective_loss_pct : float
        Network loss and loss after playout, in percent of ``expected``.
    added_delay_ms : float
        Mean time the played packets waited in the buffer (ms).
    mouth_to_ear_ms : float
        ``one_way_delay_ms + added_delay_ms``: the E-model's Ta (ms).
    r : float
        E-model rating for ``codec`` at that delay and effective loss.
    mos : float
        E-model MOS a listener would get.
    codec : str
        Codec used for Ie and Bpl.
    late : numpy.ndarray of bool
        Per arrived packet (in arrival order): True when discarded as late or duplicate.
    """

    mode: str
    buffer_ms: float
    packets: int
    expected: int
    network_lost: int
    late_discarded: int
    network_loss_pct: float
    effective_loss_pct: float
    added_delay_ms: float
    mouth_to_ear_ms: float
    r: float
    mos: float
    codec: str
    late: np.ndarray


def _warm_ewma(x: FloatArray, alpha: float) -> FloatArray:
    """Exponentially weighted mean ``y_i = a y_{i-1} + (1 - a) x_i`` with a warm start.

    For the first ``1 / (1 - a)`` values (the filter's memory) it is the running mean of
    the values so far, so the estimate is unbiased from the first packet instead of
    creeping up from its first value; from there on it is the plain recursion.
    """
    k = min(x.size, math.ceil(1 / (1 - alpha)))
    head = np.cumsum(x[:k]) / np.arange(1, k + 1)
    if k == x.size:
        return head
    tail = lfilter([1 - alpha], [1, -alpha], x[k:], zi=[alpha * head[-1]])[0]
    return np.concatenate((head, np.asarray(tail, dtype=np.float64)))


def _adaptive_offsets(
    transit_s: FloatArray, media_s: FloatArray, adapt_every_s: float, alpha: float, beta: float
) -> FloatArray:
    """Per-packet playout offset (playout time - media time) of the adaptive buffer.

    Running estimates of transit ``d`` and variation ``v`` are updated with every packet
    (``d_i = a d_{i-1} + (1 - a) n_i``, ``v_i = a v_{i-1} + (1 - a) |d_i - n_i|``); the
    offset ``d + beta v`` is only re-targeted at the first packet of each
    ``adapt_every_s`` block of media time (the receiver stretches or shrinks playout
    between talkspurts; with continuous audio we adapt once per block). Both estimates
    start warm (:func:`_warm_ewma`).
    """
    n = transit_s
    d = _warm_ewma(n, alpha)
    v = _warm_ewma(np.abs(d - n), alpha)
    target = d + beta * v
    block = np.floor((media_s - media_s.min()) / adapt_every_s).astype(np.int64)
    # The first packet (in arrival order) of each block sets the block's offset from the
    # estimate made before it arrived (causal); every packet of the block uses it.
    prev_target = np.concatenate(([n[0]], target[:-1]))
    blocks, first_idx = np.unique(block, return_index=True)
    return np.asarray(prev_target[first_idx][np.searchsorted(blocks, block)], dtype=np.float64)


def simulate(
    arrival_s: ArrayLike,
    rtp_timestamp: ArrayLike,
    clock_rate: float,
    buffer_ms: float | Literal["adaptive"] = 60.0,
    *,
    sequence: ArrayLike | None = None,
    codec: str = "g711-plc",
    one_way_delay_ms: float = 0.0,
    adapt_every_s: float = 1.0,
    min_buffer_ms: float = 0.0,
    burst_r: float = 1.0,
) -> JitterBufferResult:
    """Replay packet arrivals through a jitter buffer.

    Parameters
    ----------
    arrival_s : array-like
        Arrival time of each received packet in seconds, in arrival order.
    rtp_timestamp : array-like
        RTP timestamps (clock units, 32-bit wrap handled).
    clock_rate : float
        RTP clock rate in Hz.
    buffer_ms : float or "adaptive"
        Fixed: playout of every packet is ``buffer_ms`` after the time the first packet's
        arrival implies for it (``first arrival + media offset + buffer_ms``).
        ``"adaptive"``: the playout offset follows the running transit-time mean plus
        4 x its mean deviation (Ramjee et al. algorithm 1), re-targeted every
        ``adapt_every_s`` seconds of media and never below ``min_buffer_ms`` above the
        lowest transit seen so far.
    sequence : array-like, optional
        RTP sequence numbers; when given, network loss and duplicates come from them
        (:func:`voiceinsights.analysis.loss.from_sequence`). Without them nothing is
        counted as lost on the network and duplicates are detected by timestamp.
    codec : str
        Codec key of :data:`voiceinsights.analysis.mos.CODECS` for the E-model.
    one_way_delay_ms : float
        Network one-way delay in ms (e.g. RTT / 2), added to the buffer delay for Ta.
    adapt_every_s, min_buffer_ms : float
        Adaptive-buffer settings.
    burst_r : float
        E-model BurstR for the effective loss.

    Returns
    -------
    JitterBufferResult

    Raises
    ------
    AnalysisInputError
        On inputs of different lengths, NaN, an empty stream or a bad buffer setting.
    """
    arrival = np.asarray(as_float_array(arrival_s), dtype=np.float64).ravel()
    ts = np.asarray(as_float_array(rtp_timestamp), dtype=np.float64).ravel()
    if arrival.size == 0:
        raise AnalysisInputError("no packets to simulate")
    if arrival.shape != ts.shape:
        raise AnalysisInputError(
            f"arrival_s has {arrival.size} packets but rtp_timestamp has {ts.size}"
        )
    if np.isnan(arrival).any() or np.isnan(ts).any():
        raise AnalysisInputError("arrival_s and rtp_timestamp must not contain NaN")
    if not clock_rate > 0:
        raise AnalysisInputError(f"clock_rate must be positive, got {clock_rate!r}")
    media_s = unwrap_timestamps(ts) / clock_rate
    if sequence is not None:
        ext = _loss.extend_sequence(sequence)
        if ext.size != arrival.size:
            raise AnalysisInputError("sequence must have one number per packet")
        stats = _loss.from_sequence(sequence)
        expected, network_lost = stats.expected, stats.lost
        _, first_idx = np.unique(ext, return_index=True)
    else:
        _, first_idx = np.unique(media_s, return_index=True)
        expected, network_lost = int(first_idx.size), 0
    duplicate = np.ones(arrival.size, dtype=bool)
    duplicate[first_idx] = False

    transit = arrival - media_s
    if buffer_ms == "adaptive":
        mode = "adaptive"
        offset = _adaptive_offsets(transit, media_s, adapt_every_s, ADAPTIVE_ALPHA, ADAPTIVE_BETA)
        floor = np.minimum.accumulate(transit) + min_buffer_ms / 1000.0
        offset = np.maximum(offset, floor)
    elif isinstance(buffer_ms, int | float) and buffer_ms >= 0:
        mode = "fixed"
        offset = np.full(arrival.size, transit[0] + float(buffer_ms) / 1000.0)
    else:
        raise AnalysisInputError(
            f"buffer_ms must be a number >= 0 or 'adaptive', got {buffer_ms!r}"
        )
    playout = media_s + offset
    late_only = (arrival > playout) & ~duplicate
    discarded = late_only | duplicate
    played = ~discarded
    late_n = int(np.count_nonzero(late_only))
    waited_ms = (playout - arrival)[played] * 1000.0
    added = float(waited_ms.mean()) if waited_ms.size else float("nan")
    eff_lost = network_lost + late_n
    eff_pct = eff_lost / expected * 100.0 if expected else float("nan")
    ta = one_way_delay_ms + (added if np.isfinite(added) else 0.0)
    r = float(_mos.r_factor(ta, eff_pct, codec, burst_r=burst_r))
    return JitterBufferResult(
        mode=mode,
        buffer_ms=float((offset - transit.min()).mean() * 1000.0)
        if mode == "adaptive"
        else float(buffer_ms),
        packets=int(first_idx.size),
        expected=int(expected),
        network_lost=int(network_lost),
        late_discarded=late_n,
        network_loss_pct=network_lost / expected * 100.0 if expected else float("nan"),
        effective_loss_pct=eff_pct,
        added_delay_ms=added,
        mouth_to_ear_ms=ta,
        r=r,
        mos=float(_mos.r_to_mos(r)),
        codec=codec,
        late=discarded,
    )

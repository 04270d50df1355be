"""Packet loss from RTP sequence numbers (RFC 3550 appendix A.3)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voiceinsights._exceptions import AnalysisInputError
from voiceinsights.analysis._arrays import ArrayLike, FloatArray, as_float_array

__all__ = ["LossResult", "extend_sequence", "from_sequence", "interval_loss_pct"]

_SEQ_MOD = 2**16


@dataclass(frozen=True)
class LossResult:
    """Expected, received and lost packets of one RTP stream.

    ``expected`` spans the lowest to the highest extended sequence number seen;
    ``received`` counts distinct sequence numbers, so ``lost = expected - received`` is
    never negative; ``duplicates`` counts extra copies and ``reordered`` the packets that
    arrived after a higher sequence number. ``loss_pct`` is ``lost / expected * 100``.
    """

    expected: int
    received: int
    lost: int
    duplicates: int
    reordered: int
    loss_pct: float
    cycles: int


def extend_sequence(seq: ArrayLike) -> npt.NDArray[np.int64]:
    """16-bit RTP sequence numbers extended to monotonic 64-bit counts (in arrival order).

    Each step from the previous packet is read modulo 2**16 as a signed 16-bit number, so
    65535 -> 0 counts +1 (a new cycle) and a reordered packet steps back. The first packet
    keeps its own number.

    Raises
    ------
    AnalysisInputError
        On NaN or numbers outside 0..65535.
    """
    s = np.asarray(as_float_array(seq), dtype=np.float64).ravel()
    if np.isnan(s).any():
        raise AnalysisInputError("sequence numbers must not contain NaN")
    if s.size and (s.min() < 0 or s.max() > 65535 or np.any(s != np.floor(s))):
        raise AnalysisInputError("RTP sequence numbers are integers in 0..65535")
    si = s.astype(np.int64)
    if si.size == 0:
        return si
    step = np.mod(np.diff(si) + 2**15, _SEQ_MOD) - 2**15
    return np.concatenate(([si[0]], si[0] + np.cumsum(step)))


def from_sequence(seq: ArrayLike) -> LossResult:
    """Loss of an RTP stream from the sequence numbers of the packets received.

    Follows RFC 3550 A.3 (extended highest sequence number with a cycle count; expected =
    extended max - base + 1; lost = expected - received), with two guards so duplicates
    and reordering never make loss negative: the base is the lowest extended number seen
    (a packet reordered before the first arrival is not "before the stream"), and
    received counts distinct sequence numbers.

    Parameters
    ----------
    seq : array-like
        RTP sequence numbers (0..65535) in arrival order.

    Returns
    -------
    LossResult

    Examples
    --------
    >>> from_sequence([65534, 65535, 1, 2, 2]).lost
    1
    """
    ext = extend_sequence(seq)
    if ext.size == 0:
        return LossResult(0, 0, 0, 0, 0, 0.0, 0)
    lo, hi = int(ext.min()), int(ext.max())
    expected = hi - lo + 1
    received = int(np.unique(ext).size)
    lost = expected - received
    running_max = np.maximum.accumulate(ext)
    reordered = int(np.count_nonzero(ext[1:] < running_max[:-1]))
    cycles = int(hi // _SEQ_MOD - int(ext[0]) // _SEQ_MOD)
    return LossResult(
        expected=expected,
        received=received,
        lost=lost,
        duplicates=int(ext.size - received),
        reordered=reordered,
        loss_pct=lost / expected * 100.0,
        cycles=cycles,
    )


def interval_loss_pct(packets_lost: ArrayLike, packets_received: ArrayLike) -> FloatArray:
    """Interval loss in percent: ``lost / (received + lost) * 100`` (NaN when both are 0).

    Negative counts (counter resets) are treated as 0 lost.
    """
    lost = np.maximum(as_float_array(packets_lost), 0.0)
    recv = as_float_array(packets_received)
    total = lost + recv
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, lost / total * 100.0, np.nan)

"""Interarrival jitter from packet arrival times (RFC 3550 section 6.4.1, appendix A.8)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.signal import lfilter

from voiceinsights._exceptions import AnalysisInputError
from voiceinsights.analysis._arrays import ArrayLike, FloatArray, as_float_array, wrap_like

__all__ = ["rfc3550", "timestamp_deltas", "unwrap_timestamps"]

_TS_MOD = 2**32


def timestamp_deltas(rtp_timestamp: ArrayLike) -> FloatArray:
    """Differences between consecutive 32-bit RTP timestamps, wrap-aware.

    Each difference is taken modulo 2**32 and read as a signed 32-bit number, so a step
    across the wrap (4294967000 -> 200) is +496 and a reordered packet gives a negative
    step. The first element is 0.

    Parameters
    ----------
    rtp_timestamp : array-like
        RTP timestamps in clock units (0 .. 2**32 - 1), in arrival order.

    Returns
    -------
    numpy.ndarray
        Differences in clock units (float64).
    """
    ts = np.asarray(as_float_array(rtp_timestamp), dtype=np.float64).ravel()
    if ts.size == 0:
        return ts
    d = np.diff(ts)
    d = np.mod(d + 2**31, _TS_MOD) - 2**31
    return np.concatenate(([0.0], d))


def unwrap_timestamps(rtp_timestamp: ArrayLike) -> FloatArray:
    """RTP timestamps made monotonic across 32-bit wraps, relative to the first packet."""
    return np.cumsum(timestamp_deltas(rtp_timestamp))


def rfc3550(arrival_s: ArrayLike, rtp_timestamp: ArrayLike, clock_rate: float) -> Any:
    """Running interarrival jitter J after each packet, in milliseconds.

    For consecutive packets (in arrival order) with RTP timestamps S and arrival times R,
    both in clock units, ``D = (R_i - R_{i-1}) - (S_i - S_{i-1})`` and
    ``J_i = J_{i-1} + (|D| - J_{i-1}) / 16``, J_0 = 0 (RFC 3550 6.4.1). The recursion is a
    first-order IIR filter, evaluated vectorised with :func:`scipy.signal.lfilter`.

    Parameters
    ----------
    arrival_s : array-like or Series
        Arrival time of each packet in seconds (any origin), in arrival order.
    rtp_timestamp : array-like or Series
        RTP timestamp of each packet in clock units; 32-bit wrap is handled.
    clock_rate : float
        RTP clock rate in Hz (8000 for PCMU, 48000 for opus).

    Returns
    -------
    numpy.ndarray or pandas.Series
        J in ms after each packet (0 for the first packet); a Series keeps the index of
        ``arrival_s``.

    Raises
    ------
    AnalysisInputError
        When the inputs differ in length, hold NaN, or ``clock_rate`` is not positive.
    """
    if not clock_rate > 0:
        raise AnalysisInputError(f"clock_rate must be a positive number of Hz, got {clock_rate!r}")
    arrival = np.asarray(as_float_array(arrival_s), dtype=np.float64).ravel()
    ts = np.asarray(as_float_array(rtp_timestamp), dtype=np.float64).ravel()
    if arrival.shape != ts.shape:
        raise AnalysisInputError(
            f"arrival_s has {arrival.size} packets but rtp_timestamp has {ts.size}"
        )
    if np.isnan(arrival).any() or np.isnan(ts).any():
        raise AnalysisInputError("arrival_s and rtp_timestamp must not contain NaN")
    if arrival.size == 0:
        return wrap_like(arrival, arrival_s, name="jitter_ms")
    d_arrival = np.concatenate(([0.0], np.diff(arrival))) * clock_rate
    d = np.abs(d_arrival - timestamp_deltas(ts))
    j_units = lfilter([1 / 16], [1, -15 / 16], d)
    out = np.asarray(j_units, dtype=np.float64) / clock_rate * 1000.0
    return wrap_like(out, arrival_s, name="jitter_ms")

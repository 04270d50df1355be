"""Mean opinion scores: the Twilio Voice SDK's formula and the ITU-T G.107 E-model.

Two models live here and they answer different questions:

* :func:`twilio_sdk` is exactly the formula the Twilio Voice SDK runs every second to fill
  ``sample.mos``. Use it to reproduce, check or back-fill what Twilio users see.
* :func:`emodel` is the ITU-T G.107 (06/2015) narrowband E-model with its default
  parameters, codec impairments from ITU-T G.113 Appendix I and the G.107 delay
  impairments. Use it to plan ("what MOS would this delay and loss give with G.729?") and
  to score jitter-buffer simulations.

All functions accept scalars, numpy arrays and pandas Series (broadcast positionally) and
return the same kind: a float for scalars, an array for arrays, a Series with the index of
the first Series input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from voiceinsights.analysis._arrays import ArrayLike, FloatArray, as_float_array, wrap_like

__all__ = ["twilio_sdk"]


def twilio_sdk(rtt_ms: ArrayLike, jitter_ms: ArrayLike, loss_pct: ArrayLike) -> Any:
    """MOS by the Twilio Voice SDK's formula.

    Parameters
    ----------
    rtt_ms : float, array-like or Series
        Round-trip time in milliseconds.
    jitter_ms : float, array-like or Series
        Interarrival jitter in milliseconds.
    loss_pct : float, array-like or Series
        Packet loss of the interval in percent (0..100; the SDK's ``packetsLostFraction``).

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        MOS (about 1.0 .. 4.4333, not clamped), NaN wherever the SDK returns null: when any
        of the three inputs is not a finite number >= 0 (NaN, None, inf, negative).

    Notes
    -----
    With effective latency ``EL = rtt + 2 jitter + 10`` (ms)::

        R = 94.768 - EL / 40            for EL < 160
        R = 94.768 - (EL - 120) / 10    for 160 <= EL < 1000
        R = 0                           for EL >= 1000
        R = max(R - 2.5 loss, 6.52)     if loss <= R / 2.5, else R = 0
        MOS = 1 + 0.035 R + 7e-6 R (R - 60) (100 - R)

    Examples
    --------
    >>> round(twilio_sdk(100, 10, 0), 3)
    4.374
    >>> twilio_sdk(-1, 10, 0)
    nan
    """
    rtt = as_float_array(rtt_ms)
    jit = as_float_array(jitter_ms)
    loss = as_float_array(loss_pct)
    rtt, jit, loss = np.broadcast_arrays(rtt, jit, loss)
    valid = (
        np.isfinite(rtt)
        & np.isfinite(jit)
        & np.isfinite(loss)
        & (rtt >= 0)
        & (jit >= 0)
        & (loss >= 0)
    )
    with np.errstate(invalid="ignore", over="ignore"):
        el = rtt + jit * 2 + 10
        r: FloatArray = np.where(
            el < 160, 94.768 - el / 40, np.where(el < 1000, 94.768 - (el - 120) / 10, 0.0)
        )
        r = np.where(loss <= r / 2.5, np.maximum(r - loss * 2.5, 6.52), 0.0)
        mos = 1 + 0.035 * r + (0.000007 * r) * (r - 60) * (100 - r)
    mos = np.where(valid, mos, np.nan)
    return wrap_like(mos, rtt_ms, jitter_ms, loss_pct, name="mos")

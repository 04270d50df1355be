"""Call-quality bands from an average MOS, contiguous where the Voice SDK's have gaps.

The Voice SDK's ``PreflightTest`` labels ``callQuality`` from ``stats.mos.average``:
``> 4.2`` excellent, ``4.1 .. 4.2`` great, ``3.7 .. 4.0`` good, ``3.1 .. 3.6`` fair, else
degraded. Its bands leave gaps (4.05 or 3.65 become *degraded*). :func:`call_quality` keeps
every boundary the SDK states and closes the gaps by extending each band down to the next
one's upper end, so it agrees with the SDK on every MOS the SDK labels other than
*degraded*:

============  ==========================  ========================================
label         MOS range                   SDK range
============  ==========================  ========================================
excellent     4.2 < mos                   4.2 < mos
great         4.1 <= mos <= 4.2           4.1 <= mos <= 4.2
good          3.7 <= mos < 4.1            3.7 <= mos <= 4.0
fair          3.1 <= mos < 3.7            3.1 <= mos <= 3.6
degraded      mos < 3.1                   everything else (gaps included)
============  ==========================  ========================================

NaN or a missing MOS gives ``None`` (no label).
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from voiceinsights.analysis._arrays import ArrayLike, as_float_array, wrap_like

__all__ = ["BANDS", "LABELS", "call_quality"]

#: Labels from best to worst.
LABELS: Final = ("excellent", "great", "good", "fair", "degraded")

#: (label, lower bound, lower bound inclusive): a MOS gets the first band whose lower bound
#: it passes. ``degraded`` has no lower bound.
BANDS: Final = (
    ("excellent", 4.2, False),
    ("great", 4.1, True),
    ("good", 3.7, True),
    ("fair", 3.1, True),
)


def call_quality(mos_avg: ArrayLike) -> Any:
    """Quality label for an average MOS.

    Parameters
    ----------
    mos_avg : float, array-like or Series
        Average MOS (1..4.5) of a call or test.

    Returns
    -------
    str, None, numpy.ndarray of object or pandas.Series
        One of ``excellent, great, good, fair, degraded`` (see the module docstring for the
        exact boundaries); ``None`` where the MOS is NaN or missing (a missing value of
        pandas' string dtype in a Series).

    Examples
    --------
    >>> call_quality(4.05)
    'good'
    >>> call_quality([4.3, 4.2, 3.1, 3.0])
    array(['excellent', 'great', 'fair', 'degraded'], dtype=object)
    """
    mos = as_float_array(mos_avg)
    conditions = [mos > lo if not inclusive else mos >= lo for _, lo, inclusive in BANDS]
    conditions.append(~np.isnan(mos))
    labels = np.select(conditions, list(LABELS), default="")
    out = labels.astype(object)
    out[np.isnan(mos)] = None
    return wrap_like(out, mos_avg, name="call_quality")

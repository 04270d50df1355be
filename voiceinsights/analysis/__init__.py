"""Pure analysis: MOS, quality bands, jitter, loss, jitter buffers, SDK warnings, call
trees and call summaries.

Functions here take scalars, numpy arrays, pandas DataFrames (and, for summaries, anything
DuckDB can scan) and never read files or use the network.
"""

from __future__ import annotations

from voiceinsights.analysis import (
    calltree,
    jitter,
    jitterbuffer,
    loss,
    mos,
    quality,
    summary,
    warnings,
)

__all__ = [
    "calltree",
    "jitter",
    "jitterbuffer",
    "loss",
    "mos",
    "quality",
    "summary",
    "warnings",
]

"""Tiny inline SVG sparklines for notebook displays (no JavaScript needed)."""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

__all__ = ["sparkline"]


def sparkline(
    values: Sequence[float] | np.ndarray,
    *,
    label: str,
    color: str = "#2563eb",
    width: int = 320,
    height: int = 48,
    lo: float | None = None,
    hi: float | None = None,
) -> str:
    """An SVG polyline of ``values`` (NaN breaks the line) with a label and min/max.

    Parameters
    ----------
    values : sequence of float
        Points, evenly spaced.
    label : str
        Text drawn at the top left, e.g. ``"MOS"`` or ``"jitter (ms)"``.
    color : str
        Line colour.
    width, height : int
        Size in pixels.
    lo, hi : float, optional
        Fixed y range; default the data's range.

    Returns
    -------
    str
        An ``<svg>`` element.
    """
    y = np.asarray(values, dtype=float)
    finite = y[np.isfinite(y)]
    text = html.escape(label)
    if finite.size == 0:
        return (
            f"<svg width='{width}' height='{height}' xmlns='http://www.w3.org/2000/svg'>"
            f"<text x='2' y='14' font-size='11' fill='#6b7280'>{text}: no data</text></svg>"
        )
    y_lo = float(finite.min()) if lo is None else lo
    y_hi = float(finite.max()) if hi is None else hi
    if y_hi <= y_lo:
        y_hi = y_lo + 1.0
    top, bottom = 16.0, height - 3.0
    n = len(y)
    xs = np.linspace(2.0, width - 2.0, n) if n > 1 else np.array([width / 2.0])
    ys = bottom - (np.clip(y, y_lo, y_hi) - y_lo) / (y_hi - y_lo) * (bottom - top)
    segments: list[str] = []
    current: list[str] = []
    for x, v, yy in zip(xs, y, ys, strict=True):
        if np.isfinite(v):
            current.append(f"{x:.1f},{yy:.1f}")
        elif current:
            segments.append(" ".join(current))
            current = []
    if current:
        segments.append(" ".join(current))
    lines = "".join(
        f"<polyline fill='none' stroke='{color}' stroke-width='1.5' points='{pts}'/>"
        for pts in segments
    )
    stats = f"min {finite.min():.1f} · max {finite.max():.1f}"
    return (
        f"<svg width='{width}' height='{height}' xmlns='http://www.w3.org/2000/svg' "
        f"role='img' aria-label='{text}'>"
        f"<text x='2' y='11' font-size='11' fill='#374151'>{text}</text>"
        f"<text x='{width - 2}' y='11' font-size='10' fill='#6b7280' text-anchor='end'>"
        f"{stats}</text>{lines}</svg>"
    )

"""One theme for every voiceinsights figure: colours, fonts, quality bands, layout helpers.

Every plot function builds its figure with :func:`new_figure` or :func:`new_subplots`, so
all figures share the ``voiceinsights`` plotly template, the same colour for the same
quantity (MOS, jitter, RTT, loss) and the same colour for the same quality band.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

__all__ = [
    "BAND_COLORS",
    "FONT",
    "METRIC_COLORS",
    "MOS_BANDS",
    "SEQUENCE",
    "STATUS_COLORS",
    "TEMPLATE_NAME",
    "WARNING_COLORS",
    "add_shapes",
    "axis_ids",
    "color_for",
    "new_figure",
    "new_subplots",
    "shade_mos_bands",
]

TEMPLATE_NAME: Final = "voiceinsights"
FONT: Final = "Inter, 'Segoe UI', Helvetica, Arial, sans-serif"

#: Qualitative sequence for categories (targets, dimensions, legs).
SEQUENCE: Final = (
    "#2563eb",  # blue
    "#ea580c",  # orange
    "#059669",  # green
    "#9333ea",  # purple
    "#dc2626",  # red
    "#0891b2",  # cyan
    "#ca8a04",  # amber
    "#db2777",  # pink
    "#4b5563",  # grey
)

#: One colour per measured quantity, the same in every figure.
METRIC_COLORS: Final = {
    "mos": "#2563eb",
    "jitter_ms": "#9333ea",
    "rtt_ms": "#059669",
    "packets_lost_pct": "#dc2626",
    "loss_pct": "#dc2626",
}

#: Quality bands of :func:`voiceinsights.analysis.quality.call_quality`, best first.
BAND_COLORS: Final = {
    "excellent": "#15803d",
    "great": "#65a30d",
    "good": "#ca8a04",
    "fair": "#ea580c",
    "degraded": "#b91c1c",
}

#: MOS ranges of the bands (lower, upper), used to shade MOS axes.
MOS_BANDS: Final = (
    ("excellent", 4.2, 4.5),
    ("great", 4.1, 4.2),
    ("good", 3.7, 4.1),
    ("fair", 3.1, 3.7),
    ("degraded", 1.0, 3.1),
)

#: Voice SDK warning names -> shading colour.
WARNING_COLORS: Final = {
    "high-rtt": "#059669",
    "high-jitter": "#9333ea",
    "low-mos": "#2563eb",
    "high-packet-loss": "#dc2626",
    "high-packets-lost-fraction": "#f43f5e",
    "low-bytes-received": "#4b5563",
    "low-bytes-sent": "#6b7280",
    "constant-audio-input-level": "#ca8a04",
    "constant-audio-output-level": "#d97706",
    "ice-connectivity-lost": "#111827",
}

#: Call leg statuses -> bar colour in call trees.
STATUS_COLORS: Final = {
    "completed": "#2563eb",
    "in-progress": "#0891b2",
    "ringing": "#ca8a04",
    "queued": "#9ca3af",
    "initiated": "#9ca3af",
    "busy": "#ea580c",
    "no-answer": "#a16207",
    "canceled": "#6b7280",
    "failed": "#dc2626",
}


def color_for(key: object, index: int = 0) -> str:
    """Colour of a known metric, band, warning or status, else the ``index``-th of SEQUENCE."""
    for table in (METRIC_COLORS, BAND_COLORS, WARNING_COLORS, STATUS_COLORS):
        if isinstance(key, str) and key in table:
            return table[key]
    return SEQUENCE[index % len(SEQUENCE)]


def _register() -> None:
    if TEMPLATE_NAME in pio.templates:
        return
    axis = {
        "showgrid": True,
        "gridcolor": "#e5e7eb",
        "zeroline": False,
        "linecolor": "#9ca3af",
        "ticks": "outside",
        "tickcolor": "#9ca3af",
        "title": {"font": {"size": 12, "color": "#374151"}},
        "automargin": True,
    }
    pio.templates[TEMPLATE_NAME] = go.layout.Template(
        layout={
            "font": {"family": FONT, "size": 12, "color": "#1f2937"},
            "title": {"font": {"size": 16, "color": "#111827"}, "x": 0.01, "xanchor": "left"},
            "paper_bgcolor": "#ffffff",
            "plot_bgcolor": "#ffffff",
            "colorway": list(SEQUENCE),
            "xaxis": axis,
            "yaxis": axis,
            "legend": {"bgcolor": "rgba(255,255,255,0.8)", "font": {"size": 11}},
            "hoverlabel": {"font": {"family": FONT}},
            "margin": {"l": 70, "r": 30, "t": 70, "b": 60},
        }
    )


_register()


def new_figure(title: str, *, height: int = 450, width: int | None = None) -> go.Figure:
    """An empty figure in the voiceinsights theme."""
    fig = go.Figure()
    fig.update_layout(template=TEMPLATE_NAME, title={"text": title}, height=height, width=width)
    return fig


def new_subplots(
    title: str,
    rows: int,
    *,
    row_titles: Sequence[str] | None = None,
    row_heights: Sequence[float] | None = None,
    shared_xaxes: bool = True,
    height: int | None = None,
    vertical_spacing: float = 0.05,
    specs: Any = None,
) -> go.Figure:
    """A figure of ``rows`` stacked subplots sharing the x axis, in the theme."""
    fig = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=shared_xaxes,
        vertical_spacing=vertical_spacing,
        subplot_titles=list(row_titles) if row_titles else None,
        row_heights=list(row_heights) if row_heights else None,
        specs=specs,
    )
    fig.update_layout(
        template=TEMPLATE_NAME,
        title={"text": title},
        height=height or 180 * rows + 120,
    )
    for annotation in fig.layout.annotations:
        annotation.update(font={"size": 12, "color": "#374151"}, x=0, xanchor="left")
    return fig


def axis_ids(row: int) -> tuple[str, str]:
    """Plotly's x and y axis ids of subplot ``row`` in a one-column grid (``x``, ``x2``...)."""
    suffix = "" if row <= 1 else str(row)
    return f"x{suffix}", f"y{suffix}"


def add_shapes(fig: go.Figure, shapes: Sequence[dict[str, Any]]) -> None:
    """Append layout shapes in one update (``add_shape`` per shape is slow on subplots)."""
    if shapes:
        fig.update_layout(shapes=[*fig.layout.shapes, *shapes])


def shade_mos_bands(fig: go.Figure, *, row: int | None = None, col: int | None = None) -> None:
    """Shade the call-quality bands behind a MOS axis (faint, below the traces)."""
    x, y = axis_ids(row or 1)
    add_shapes(
        fig,
        [
            {
                "type": "rect",
                "xref": f"{x} domain",
                "yref": y,
                "x0": 0,
                "x1": 1,
                "y0": lo,
                "y1": hi,
                "fillcolor": BAND_COLORS[label],
                "opacity": 0.07,
                "line": {"width": 0},
                "layer": "below",
            }
            for label, lo, hi in MOS_BANDS
        ],
    )

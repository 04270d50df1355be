"""Per-second timeline of one call: MOS, jitter, RTT and loss, warnings and milestones."""

from __future__ import annotations

from typing import Any, Final

import pandas as pd
import plotly.graph_objects as go

from voiceinsights.plots._frames import as_frame, require, to_utc_naive, warning_spans
from voiceinsights.plots._theme import (
    METRIC_COLORS,
    WARNING_COLORS,
    add_shapes,
    axis_ids,
    color_for,
    new_subplots,
    shade_mos_bands,
)

__all__ = ["MILESTONES", "SERIES", "call_timeline"]

#: (column, axis title with unit) of the stacked panels, top to bottom.
SERIES: Final = (
    ("mos", "MOS (1–4.5)"),
    ("jitter_ms", "jitter (ms)"),
    ("rtt_ms", "RTT (ms)"),
    ("packets_lost_pct", "loss (%)"),
)

#: Status-callback statuses marked on the timeline and their labels. ``in-progress`` is
#: how the ``answered`` subscription event arrives.
MILESTONES: Final = {
    "ringing": "ringing",
    "in-progress": "answered",
    "completed": "completed",
    "busy": "busy",
    "no-answer": "no-answer",
    "failed": "failed",
    "canceled": "canceled",
}


def call_timeline(
    samples: Any,
    warnings: Any = None,
    events: Any = None,
    *,
    call_sid: str | None = None,
    title: str | None = None,
    height: int | None = None,
) -> go.Figure:
    """Timeline of one call's per-second samples.

    Four stacked panels share the time axis: MOS (with the call-quality bands shaded),
    jitter (ms), RTT (ms) and inbound loss (%). Spans between a warning being raised and
    cleared are shaded across all panels (one colour per warning name, listed in the
    legend) and status-callback milestones (ringing, answered = ``in-progress``,
    completed, ...) are drawn as labelled vertical lines.

    Parameters
    ----------
    samples : DataFrame
        Rows of the ``samples`` (or ``probe_samples``) table: ``timestamp``, ``mos``,
        ``jitter_ms``, ``rtt_ms``, ``packets_lost_pct``. May be empty (milestones only).
    warnings : DataFrame, optional
        ``timestamp, name, event`` rows (``warnings`` table or ``analysis.warnings.detect``,
        whose ``approximate`` warnings are labelled so in the legend).
    events : DataFrame, optional
        ``call_events`` rows: ``timestamp, call_status`` (and ``call_sid``).
    call_sid : str, optional
        Keep only rows of this call (by ``call_sid`` where the frames have the column).
    title : str, optional
        Figure title; default names the call.
    height : int, optional
        Figure height in pixels.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    frame = _only(as_frame(samples, "samples"), call_sid)
    if not frame.empty:
        require(frame, ["timestamp", *(c for c, _ in SERIES)], "samples")
    warn = _only(as_frame(warnings, "warnings"), call_sid)
    if not warn.empty:
        require(warn, ["timestamp", "name", "event"], "warnings")
    ev = _only(as_frame(events, "events"), call_sid)
    if not ev.empty:
        require(ev, ["timestamp", "call_status"], "events")

    label = call_sid or _single(frame, "call_sid") or _single(frame, "run_id") or "call"
    fig = new_subplots(
        title or f"Call timeline · {label}",
        rows=len(SERIES),
        height=height or 760,
        vertical_spacing=0.06,
    )
    shade_mos_bands(fig, row=1)

    times = pd.Series([], dtype="datetime64[ns]")
    if not frame.empty:
        frame = frame.assign(_t=to_utc_naive(frame["timestamp"]).to_numpy()).sort_values("_t")
        times = frame["_t"]
        for row, (column, axis_title) in enumerate(SERIES, start=1):
            values = pd.to_numeric(frame[column], errors="coerce")
            fig.add_trace(
                go.Scatter(
                    x=frame["_t"],
                    y=values,
                    mode="lines+markers" if len(frame) <= 120 else "lines",
                    name=axis_title,
                    line={"color": METRIC_COLORS[column], "width": 2},
                    marker={"size": 4},
                    connectgaps=False,
                    showlegend=False,
                    hovertemplate=f"%{{x|%H:%M:%S}}<br>{axis_title}: %{{y:.2f}}<extra></extra>",
                ),
                row=row,
                col=1,
            )
            fig.update_yaxes(title_text=axis_title, row=row, col=1)
        fig.update_yaxes(range=[1, 4.6], row=1, col=1)
        for row in range(2, len(SERIES) + 1):
            fig.update_yaxes(rangemode="tozero", row=row, col=1)
    else:
        fig.add_annotation(
            text="no per-second samples for this call",
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.5,
            showarrow=False,
            font={"size": 14, "color": "#6b7280"},
        )

    end = pd.Timestamp(times.max()) if len(times) else None
    spans = warning_spans(warn, end=end)
    # analysis.warnings.detect marks the constant-audio warnings it can only approximate.
    approximate = (
        set(warn.loc[warn["approximate"].fillna(False).astype(bool), "name"].astype(str))
        if "approximate" in warn.columns
        else set()
    )
    shapes: list[dict[str, Any]] = []
    for name in dict.fromkeys(spans["name"]):
        color = WARNING_COLORS.get(str(name), color_for(name))
        for start, stop in spans.loc[spans["name"] == name, ["start", "end"]].itertuples(
            index=False
        ):
            if stop <= start:  # a one-instant warning still shows: widen to one second
                stop = start + pd.Timedelta(seconds=1)
            for row in range(1, len(SERIES) + 1):
                x, y = axis_ids(row)
                shapes.append(
                    {
                        "type": "rect",
                        "xref": x,
                        "yref": f"{y} domain",
                        "x0": start,
                        "x1": stop,
                        "y0": 0,
                        "y1": 1,
                        "fillcolor": color,
                        "opacity": 0.12,
                        "line": {"width": 0},
                        "layer": "below",
                    }
                )
        # Shapes have no legend entry: a square marker stands in for each warning name.
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                marker={"symbol": "square", "size": 12, "color": color, "opacity": 0.4},
                name=f"warning: {name}" + (" (approximate)" if name in approximate else ""),
                showlegend=True,
            ),
            row=1,
            col=1,
        )

    annotations: list[dict[str, Any]] = []
    if not ev.empty:
        ev = ev.assign(_t=to_utc_naive(ev["timestamp"]).to_numpy()).dropna(subset=["_t"])
        ev = ev[ev["call_status"].isin(list(MILESTONES))].sort_values("_t")
        first = ev.groupby("call_status", sort=False)["_t"].min().sort_values()
        for i, (status, t) in enumerate(first.items()):
            shapes.append(
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": t,
                    "x1": t,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": "#374151", "width": 1, "dash": "dot"},
                }
            )
            annotations.append(
                {
                    "x": t,
                    "xref": "x",
                    "y": 1.0 + 0.03 * (i % 2),
                    "yref": "paper",
                    "text": MILESTONES[str(status)],
                    "showarrow": False,
                    "yanchor": "bottom",
                    "font": {"size": 11, "color": "#374151"},
                    "bgcolor": "rgba(255,255,255,0.85)",
                }
            )
    add_shapes(fig, shapes)
    if annotations:
        fig.update_layout(annotations=[*fig.layout.annotations, *annotations])

    fig.update_xaxes(title_text="time (UTC)", row=len(SERIES), col=1)
    fig.update_layout(
        legend={"orientation": "h", "y": -0.08, "x": 0, "yanchor": "top"},
        margin={"t": 110},
    )
    return fig


def _only(frame: pd.DataFrame, call_sid: str | None) -> pd.DataFrame:
    if call_sid is None or frame.empty or "call_sid" not in frame.columns:
        return frame
    return frame[frame["call_sid"] == call_sid]


def _single(frame: pd.DataFrame, column: str) -> str | None:
    if column not in frame.columns:
        return None
    values = frame[column].dropna().unique()
    return str(values[0]) if len(values) == 1 else None

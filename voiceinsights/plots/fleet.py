"""Fleet views: quality by day and dimension, MOS distributions, feedback against MOS."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from voiceinsights._exceptions import AnalysisError
from voiceinsights.plots._frames import as_frame, require, to_utc_naive
from voiceinsights.plots._theme import (
    BAND_COLORS,
    METRIC_COLORS,
    color_for,
    new_figure,
    shade_mos_bands,
)

__all__ = ["feedback_vs_mos", "mos_distribution", "quality_heatmap"]

# Red (poor) -> amber -> green (good), anchored on the call-quality bands for MOS.
# Positions are the band edges on a 1..4.5 MOS scale: (mos - 1) / 3.5.
_MOS_SCALE = [
    [0.0, BAND_COLORS["degraded"]],
    [0.6, BAND_COLORS["degraded"]],
    [0.77, BAND_COLORS["fair"]],
    [0.886, BAND_COLORS["good"]],
    [0.914, BAND_COLORS["great"]],
    [1.0, BAND_COLORS["excellent"]],
]
_SCORE_COLORS = {
    1: BAND_COLORS["degraded"],
    2: BAND_COLORS["fair"],
    3: BAND_COLORS["good"],
    4: BAND_COLORS["great"],
    5: BAND_COLORS["excellent"],
}

_UNITS = {"mos": "MOS (1–4.5)", "_ms": "ms", "_pct": "%", "_s": "s"}


def _axis_title(column: str) -> str:
    if column.startswith("mos"):
        return f"{column} (1–4.5)"
    for suffix, unit in _UNITS.items():
        if column.endswith(suffix) and suffix != "mos":
            return f"{column} ({unit})"
    return column


def quality_heatmap(
    calls: Any,
    dimension: str = "direction",
    *,
    value: str = "mos_mean",
    time_column: str = "start_time",
    title: str | None = None,
) -> go.Figure:
    """Heatmap of a quality measure by day (x) and a dimension (y).

    Each cell is the mean of ``value`` over the calls of that day and dimension value,
    annotated with the number of calls that have a value. For MOS the colour scale runs
    from the degraded band (red) to excellent (green); for other measures (jitter, RTT,
    loss) higher is worse and the scale is reversed.

    Parameters
    ----------
    calls : DataFrame
        One row per call (``summary.calls``) with ``value``, ``dimension`` and
        ``time_column``; or already aggregated rows (``summary.fleet``) with a ``day``
        column, in which case ``calls_with_samples`` (else ``calls``), if present,
        weights the cells and is the count shown.
    dimension : str
        Column to break down by (``direction``, ``codec_name``, ``identity``, region...).
    value : str
        Measure to colour by, default ``mos_mean``.
    time_column : str
        Timestamp column whose UTC date is the day, when there is no ``day`` column.
    title : str, optional

    Returns
    -------
    plotly.graph_objects.Figure
    """
    frame = as_frame(calls, "calls")
    day_col = "day" if "day" in frame.columns else time_column
    require(frame, [dimension, value, day_col], "calls")
    if frame.empty:
        raise AnalysisError("quality_heatmap needs at least one call")
    days = to_utc_naive(frame[day_col]).dt.normalize()
    # Aggregated rows (summary.fleet) weigh by the calls that have a MOS.
    weight_col = next(
        (c for c in ("calls_with_samples", "calls") if day_col == "day" and c in frame.columns),
        None,
    )
    weights = (
        pd.to_numeric(frame[weight_col], errors="coerce").fillna(0)
        if weight_col
        else pd.Series(1.0, index=frame.index)
    )
    vals = pd.to_numeric(frame[value], errors="coerce")
    work = pd.DataFrame(
        {
            "day": days.to_numpy(),
            "dim": frame[dimension].fillna("(none)").astype(str).to_numpy(),
            "wv": (vals * weights).to_numpy(),
            "has": (vals.notna() * weights).to_numpy(),
        }
    )
    grouped = work.groupby(["dim", "day"]).sum(numeric_only=True)
    mean = (grouped["wv"] / grouped["has"].replace(0, np.nan)).unstack("day")
    count = grouped["has"].unstack("day").fillna(0).astype(int)  # calls with a value
    # Rows and days without a single value (legs with no MOS: PSTN and SIP legs) stay out.
    mean = mean.dropna(how="all").dropna(axis=1, how="all").sort_index()
    if mean.empty:
        raise AnalysisError(f"quality_heatmap: no call has a {value}")
    count = count.reindex(index=mean.index, columns=mean.columns).fillna(0).astype(int)
    is_mos = value.startswith("mos")
    z = mean.to_numpy(dtype=float)
    text = [
        ["" if np.isnan(v) else f"<b>{v:.2f}</b><br>n={n}" for v, n in zip(zrow, crow, strict=True)]
        for zrow, crow in zip(z, count.to_numpy(), strict=True)
    ]
    fig = new_figure(
        title or f"{value} by day and {dimension}",
        height=max(320, 48 * len(mean.index) + 200),
    )
    fig.add_trace(
        go.Heatmap(
            z=z,
            x=[pd.Timestamp(d).strftime("%Y-%m-%d") for d in mean.columns],
            y=list(mean.index),
            text=text,
            texttemplate="%{text}",
            colorscale=_MOS_SCALE,
            reversescale=not is_mos,
            zmin=1.0 if is_mos else None,
            zmax=4.5 if is_mos else None,
            xgap=2,
            ygap=2,
            colorbar={"title": {"text": _axis_title(value)}},
            hovertemplate="%{y} · %{x}<br>" + value + ": %{z:.2f}<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="day (UTC)", type="category", showgrid=False)
    fig.update_yaxes(title_text=dimension, showgrid=False)
    return fig


def mos_distribution(
    calls: Any,
    dimension: str = "direction",
    *,
    value: str = "mos_mean",
    title: str | None = None,
) -> go.Figure:
    """Distribution of per-call MOS for each value of a dimension (box plots with points).

    Parameters
    ----------
    calls : DataFrame
        One row per call with ``value`` (default ``mos_mean``) and ``dimension``.
    dimension : str
        Column to break down by.
    value : str
        MOS column, default ``mos_mean``.
    title : str, optional

    Returns
    -------
    plotly.graph_objects.Figure
    """
    frame = as_frame(calls, "calls")
    require(frame, [dimension, value], "calls")
    frame = frame.assign(_v=pd.to_numeric(frame[value], errors="coerce")).dropna(subset=["_v"])
    if frame.empty:
        raise AnalysisError(f"mos_distribution needs at least one call with a {value}")
    groups = frame.assign(_d=frame[dimension].fillna("(none)").astype(str)).groupby("_d")
    fig = new_figure(title or f"{value} by {dimension}")
    shade_mos_bands(fig)
    for i, (name, part) in enumerate(groups):
        fig.add_trace(
            go.Box(
                x=[f"{name} (n={len(part)})"] * len(part),
                y=part["_v"],
                name=str(name),
                boxpoints="outliers" if len(part) > 300 else "all",
                jitter=0.35,
                pointpos=0,
                marker={"color": color_for(name, i), "size": 4, "opacity": 0.6},
                line={"color": color_for(name, i)},
                boxmean=True,
                showlegend=False,
            )
        )
    fig.update_yaxes(title_text=_axis_title(value), range=[1, 4.6])
    fig.update_xaxes(title_text=dimension, showgrid=False)
    return fig


def feedback_vs_mos(
    calls: Any,
    *,
    score: str = "feedback_score",
    value: str = "mos_mean",
    title: str | None = None,
) -> go.Figure:
    """User feedback score (1..5) against the call's MOS.

    One horizontal box per score with the calls as jittered points, and the mean MOS per
    score joined by a line: if the network measure explains what users feel, the line
    climbs with the score. Calls without a score (feedback declined) are left out.

    Parameters
    ----------
    calls : DataFrame
        One row per call with ``score`` (default ``feedback_score``; ``score`` is accepted
        too) and ``value`` (default ``mos_mean``).
    score, value : str
        Column names.
    title : str, optional

    Returns
    -------
    plotly.graph_objects.Figure
    """
    frame = as_frame(calls, "calls")
    if score not in frame.columns and "score" in frame.columns:
        score = "score"
    require(frame, [score, value], "calls")
    work = pd.DataFrame(
        {
            "score": pd.to_numeric(frame[score], errors="coerce"),
            "mos": pd.to_numeric(frame[value], errors="coerce"),
        }
    ).dropna()
    if work.empty:
        raise AnalysisError("feedback_vs_mos needs calls with both a feedback score and a MOS")
    fig = new_figure(title or "Feedback score against MOS")
    shade_x = [("degraded", 1.0, 3.1), ("fair", 3.1, 3.7), ("good", 3.7, 4.1)]
    for band, lo, hi in shade_x:
        fig.add_vrect(
            x0=lo, x1=hi, fillcolor=BAND_COLORS[band], opacity=0.06, line_width=0, layer="below"
        )
    scores = sorted(int(s) for s in work["score"].unique())
    for s in scores:
        part = work[work["score"] == s]
        fig.add_trace(
            go.Box(
                x=part["mos"],
                y=[s] * len(part),
                orientation="h",
                name=f"score {s} (n={len(part)})",
                boxpoints="all" if len(part) <= 300 else "outliers",
                jitter=0.4,
                pointpos=0,
                marker={"color": _SCORE_COLORS.get(s, color_for(s, s)), "size": 4, "opacity": 0.55},
                line={"color": _SCORE_COLORS.get(s, color_for(s, s))},
                width=0.6,
            )
        )
    means = work.groupby("score")["mos"].mean()
    fig.add_trace(
        go.Scatter(
            x=means.to_numpy(),
            y=means.index.to_numpy(),
            mode="lines+markers",
            name="mean MOS per score",
            line={"color": METRIC_COLORS["mos"], "width": 2, "dash": "dash"},
            marker={"size": 9, "symbol": "diamond"},
        )
    )
    rho = work["score"].corr(work["mos"], method="spearman") if len(work) > 2 else np.nan
    if not np.isnan(rho):
        fig.add_annotation(
            text=f"Spearman ρ = {rho:.2f} (n = {len(work)})",
            xref="paper",
            yref="paper",
            x=0.01,
            y=0.99,
            showarrow=False,
            xanchor="left",
            yanchor="top",
            bgcolor="rgba(255,255,255,0.85)",
        )
    fig.update_xaxes(title_text=_axis_title(value), range=[1, 4.6])
    fig.update_yaxes(title_text="feedback score (1–5)", tickvals=scores, range=[0.4, 5.6])
    fig.update_layout(legend={"traceorder": "reversed"})
    return fig

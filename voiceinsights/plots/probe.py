"""Probe figures: one run's networkTiming waterfall with its per-second series, and the
history of many runs per target and label."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

import pandas as pd
import plotly.graph_objects as go

from voiceinsights._exceptions import AnalysisError
from voiceinsights.plots._frames import as_frame, require, to_utc_naive
from voiceinsights.plots._theme import (
    METRIC_COLORS,
    color_for,
    new_subplots,
    shade_mos_bands,
)
from voiceinsights.plots.timeline import SERIES

__all__ = ["HISTORY_SERIES", "PHASES", "network_timing", "probe_history", "probe_waterfall"]

#: networkTiming phases: (report key, probe_runs column, label).
PHASES: Final = (
    ("signaling", "signaling_ms", "signaling"),
    ("ice", "ice_ms", "ICE"),
    ("dtls", "dtls_ms", "DTLS"),
    ("peerConnection", "peer_connection_ms", "peer connection"),
    ("firstMedia", "first_media_ms", "first echoed audio"),
)

#: (probe_runs column, axis title) of the history panels.
HISTORY_SERIES: Final = (
    ("mos_avg", "mean MOS (1–4.5)"),
    ("jitter_avg_ms", "mean jitter (ms)"),
    ("rtt_avg_ms", "mean RTT (ms)"),
    ("loss_pct", "loss (%)"),
)

_PHASE_COLORS: Final = ("#2563eb", "#9333ea", "#0891b2", "#059669", "#ea580c")


def network_timing(run: Mapping[str, Any] | pd.Series) -> pd.DataFrame:
    """Start, end and duration (ms after the offer) of each networkTiming phase of a run.

    Uses the ``networkTiming`` of the run's ``report`` JSON (PreflightTest layout: each
    phase ``{start, end, duration}``) where it has start and end; otherwise lays the
    ``*_ms`` durations of the ``probe_runs`` row out in protocol order (signaling, then
    ICE, then DTLS; the peer connection spans ICE and DTLS; first media counts from the
    offer).

    Returns
    -------
    DataFrame
        ``phase, start_ms, end_ms, duration_ms``; phases without a value are left out.
    """
    timing: Mapping[str, Any] = {}
    report = run.get("report")
    if isinstance(report, str) and report.strip():
        try:
            report = json.loads(report)
        except ValueError:
            report = None
    if isinstance(report, Mapping) and isinstance(report.get("networkTiming"), Mapping):
        timing = report["networkTiming"]
    rows: list[tuple[str, float, float]] = []
    starts = [float(v["start"]) for v in timing.values() if _has_span(v)]
    origin = min(starts) if starts else 0.0
    cursor = 0.0
    for key, column, label in PHASES:
        phase = timing.get(key)
        if isinstance(phase, Mapping) and _has_span(phase):
            rows.append((label, float(phase["start"]) - origin, float(phase["end"]) - origin))
            continue
        duration = _num(run.get(column))
        if duration is None:
            continue
        if key == "peerConnection":
            ice = next((r for r in rows if r[0] == "ICE"), None)
            start = ice[1] if ice else cursor
        elif key == "firstMedia":
            start = 0.0
        else:
            start = cursor
            cursor += duration
        rows.append((label, start, start + duration))
    out = pd.DataFrame(rows, columns=["phase", "start_ms", "end_ms"])
    out["duration_ms"] = out["end_ms"] - out["start_ms"]
    return out


def probe_waterfall(
    run: Any, samples: Any = None, *, title: str | None = None, height: int | None = None
) -> go.Figure:
    """One probe run: networkTiming waterfall on top, its per-second series below.

    Parameters
    ----------
    run : Series, mapping, one-row DataFrame or ProbeReport
        A ``probe_runs`` row (``run_id``, ``*_ms`` phase durations, optionally ``report``
        with ``networkTiming``), or a :class:`voiceinsights.probe.ProbeReport`.
    samples : DataFrame, optional
        The run's ``probe_samples`` rows (``timestamp, mos, jitter_ms, rtt_ms,
        packets_lost_pct``); default a ProbeReport's own samples.
    title : str, optional
    height : int, optional

    Returns
    -------
    plotly.graph_objects.Figure
    """
    if samples is None and callable(getattr(run, "samples_frame", None)):
        samples = run.samples_frame()  # a ProbeReport carries its own samples
    row = _one_row(run)
    timing = network_timing(row)
    frame = as_frame(samples, "samples")
    if not frame.empty:
        require(frame, ["timestamp", *(c for c, _ in SERIES)], "samples")
        if "run_id" in frame.columns and row.get("run_id") is not None:
            frame = frame[frame["run_id"] == row.get("run_id")]
    run_id = row.get("run_id") or "probe"
    status = row.get("status")
    quality = row.get("call_quality")
    subtitle = " · ".join(str(p) for p in (status, quality) if isinstance(p, str) and p)
    fig = new_subplots(
        title or f"Probe run {run_id}" + (f" · {subtitle}" if subtitle else ""),
        rows=1 + len(SERIES),
        shared_xaxes=False,
        row_heights=[0.28] + [0.18] * len(SERIES),
        height=height or 900,
        vertical_spacing=0.055,
        row_titles=["networkTiming (ms after the offer)", *("" for _ in SERIES)],
    )
    if timing.empty:
        fig.add_annotation(
            text="no networkTiming recorded (the run failed before signaling completed)",
            xref="x domain",
            yref="y domain",
            x=0.5,
            y=0.5,
            showarrow=False,
            font={"color": "#6b7280"},
        )
    for i, (phase, start, end, duration) in enumerate(timing.itertuples(index=False)):
        fig.add_trace(
            go.Bar(
                y=[phase],
                x=[max(duration, 0.5)],
                base=[start],
                orientation="h",
                marker={"color": _PHASE_COLORS[i % len(_PHASE_COLORS)]},
                text=[f"{duration:.0f} ms"],
                textposition="outside",
                cliponaxis=False,
                name=phase,
                showlegend=False,
                hovertemplate=f"{phase}: %{{base:.1f}} → {end:.1f} ms<extra></extra>",
            ),
            row=1,
            col=1,
        )
    fig.update_yaxes(
        categoryorder="array",
        categoryarray=list(timing["phase"]),
        autorange="reversed",
        showgrid=False,
        row=1,
        col=1,
    )
    if not timing.empty:
        fig.update_xaxes(
            range=[0, float(timing["end_ms"].max()) * 1.18],
            row=1,
            col=1,
        )
    if frame.empty:
        fig.add_annotation(
            text="no per-second samples",
            xref="x2 domain",
            yref="y2 domain",
            x=0.5,
            y=0.5,
            showarrow=False,
            font={"color": "#6b7280"},
        )
    else:
        frame = frame.assign(_t=to_utc_naive(frame["timestamp"]).to_numpy()).sort_values("_t")
        for r, (column, axis_title) in enumerate(SERIES, start=2):
            fig.add_trace(
                go.Scatter(
                    x=frame["_t"],
                    y=pd.to_numeric(frame[column], errors="coerce"),
                    mode="lines+markers",
                    line={"color": METRIC_COLORS[column], "width": 2},
                    marker={"size": 5},
                    name=axis_title,
                    showlegend=False,
                ),
                row=r,
                col=1,
            )
            fig.update_yaxes(title_text=axis_title, row=r, col=1, rangemode="tozero")
        fig.update_yaxes(range=[1, 4.6], row=2, col=1)
    shade_mos_bands(fig, row=2)
    for r in range(3, len(SERIES) + 2):
        fig.update_xaxes(matches="x2", row=r, col=1)
    for r in range(2, len(SERIES) + 1):
        fig.update_xaxes(showticklabels=False, row=r, col=1)
    fig.update_xaxes(title_text="time (UTC)", row=len(SERIES) + 1, col=1)
    return fig


def probe_history(runs: Any, *, title: str | None = None, height: int | None = None) -> go.Figure:
    """Quality of probe runs over time, one line per target and label.

    Four panels share the time axis: mean MOS (quality bands shaded), mean jitter (ms),
    mean RTT (ms) and loss (%). Failed runs are marked with a red ✕ on the MOS panel at
    MOS 1, with the failed phase and error on hover.

    Parameters
    ----------
    runs : DataFrame
        ``probe_runs`` rows: ``started_at, target, label, status, mos_avg,
        jitter_avg_ms, rtt_avg_ms, loss_pct`` (``failed_phase`` and ``error`` if known).
    title : str, optional
    height : int, optional

    Returns
    -------
    plotly.graph_objects.Figure
    """
    frame = as_frame(runs, "runs")
    require(frame, ["started_at", *(c for c, _ in HISTORY_SERIES)], "runs")
    if frame.empty:
        raise AnalysisError("probe_history needs at least one probe run")
    frame = frame.assign(
        _t=to_utc_naive(frame["started_at"]).to_numpy(),
        _target=frame.get("target", pd.Series("", index=frame.index)).fillna("").astype(str),
        _label=frame.get("label", pd.Series("", index=frame.index)).fillna("").astype(str),
        _failed=frame.get("status", pd.Series("ok", index=frame.index)).eq("failed"),
    ).sort_values("_t")
    fig = new_subplots(
        title or "Probe history",
        rows=len(HISTORY_SERIES),
        height=height or 760,
        vertical_spacing=0.05,
    )
    shade_mos_bands(fig, row=1)
    for i, ((target, label), part) in enumerate(frame.groupby(["_target", "_label"], sort=True)):
        name = f"{label} · {target}" if label else target or "probe"
        ok = part[~part["_failed"]]
        color = color_for(name, i)
        for r, (column, _axis_title) in enumerate(HISTORY_SERIES, start=1):
            fig.add_trace(
                go.Scatter(
                    x=ok["_t"],
                    y=pd.to_numeric(ok[column], errors="coerce"),
                    mode="lines+markers",
                    name=name,
                    legendgroup=name,
                    showlegend=r == 1,
                    line={"color": color, "width": 2},
                    marker={"size": 6},
                ),
                row=r,
                col=1,
            )
    failed = frame[frame["_failed"]]
    if not failed.empty:
        hover = [
            f"{p or '?'}: {e or 'failed'}"
            for p, e in zip(
                failed.get("failed_phase", pd.Series(None, index=failed.index)),
                failed.get("error", pd.Series(None, index=failed.index)),
                strict=True,
            )
        ]
        fig.add_trace(
            go.Scatter(
                x=failed["_t"],
                y=[1.0] * len(failed),
                mode="markers",
                name=f"failed run ({len(failed)})",
                marker={"symbol": "x", "size": 11, "color": "#dc2626", "line": {"width": 1}},
                text=hover,
                hovertemplate="%{x|%Y-%m-%d %H:%M:%S}<br>%{text}<extra>failed</extra>",
            ),
            row=1,
            col=1,
        )
    for r, (_column, axis_title) in enumerate(HISTORY_SERIES, start=1):
        fig.update_yaxes(title_text=axis_title, row=r, col=1, rangemode="tozero")
    fig.update_yaxes(range=[0.9, 4.6], row=1, col=1)
    fig.update_xaxes(title_text="probe start (UTC)", row=len(HISTORY_SERIES), col=1)
    fig.update_layout(legend={"orientation": "h", "y": -0.08, "x": 0, "yanchor": "top"})
    return fig


def _one_row(run: Any) -> Mapping[str, Any]:
    if isinstance(run, pd.DataFrame):
        if len(run) != 1:
            raise AnalysisError(f"probe_waterfall needs one probe run, got {len(run)} rows")
        return dict(run.iloc[0])
    if isinstance(run, pd.Series):
        return dict(run)
    if isinstance(run, Mapping):
        return run
    run_row = getattr(run, "run_row", None)  # a ProbeReport: its probe_runs row
    if callable(run_row):
        data = run_row()
        if isinstance(data, Mapping):
            return data
    raise AnalysisError(
        f"probe_waterfall needs a probe_runs row (Series, mapping or one-row DataFrame), "
        f"not {type(run).__name__}"
    )


def _has_span(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and _num(value.get("start")) is not None
        and _num(value.get("end")) is not None
    )


def _num(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if out != out else out

"""The legs of a call on a time axis, with parent/child links."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from voiceinsights._exceptions import AnalysisError
from voiceinsights.plots._frames import as_frame, require, to_utc_naive
from voiceinsights.plots._theme import STATUS_COLORS, color_for, new_figure

__all__ = ["call_tree"]


def call_tree(
    legs: Any,
    *,
    highlight: str | None = None,
    title: str | None = None,
    height: int | None = None,
) -> go.Figure:
    """Gantt chart of a call's legs with parent → child links.

    Each leg is a bar from its start to its end, coloured by final status, one row per leg
    in tree order (children under their parent, indented by depth). An elbow line runs
    from the parent's row down to each child at the child's start.

    Parameters
    ----------
    legs : CallTree or DataFrame
        A :class:`voiceinsights.analysis.calltree.CallTree`, or one row per leg with
        ``call_sid``, ``parent_call_sid`` and start/end times (``start_time``/``end_time``,
        or ``start``/``end``), optionally ``status``,
        ``direction``, ``depth`` and ``path``: the output of
        :func:`voiceinsights.analysis.calltree.build` or rows of the ``calls`` view (then
        the tree is built with ``calltree.build``).
    highlight : str, optional
        A leg to point out (its label gets a ▶ and its bar a dark outline).
    title : str, optional
        Figure title; default names the root leg.
    height : int, optional
        Figure height in pixels; default grows with the number of legs.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    if isinstance(getattr(legs, "legs", None), pd.DataFrame):  # an analysis CallTree
        legs = legs.legs
    frame = as_frame(legs, "legs")
    require(frame, ["call_sid", "parent_call_sid"], "legs")
    frame = frame.rename(columns={"start": "start_time", "end": "end_time"})
    require(frame, ["start_time", "end_time"], "legs")
    if "depth" not in frame.columns or "path" not in frame.columns:
        frame = _build(frame)
    if frame.empty:
        raise AnalysisError("call_tree needs at least one leg")

    frame = frame.assign(
        _start=to_utc_naive(frame["start_time"]).to_numpy(),
        _end=to_utc_naive(frame["end_time"]).to_numpy(),
    )
    frame = frame.sort_values("path", kind="stable").reset_index(drop=True)
    latest = pd.concat([frame["_start"], frame["_end"]]).max()
    # A leg still in progress (no end yet) runs to the newest time known for the call.
    frame["_end"] = frame["_end"].fillna(latest)
    frame.loc[frame["_end"] < frame["_start"], "_end"] = frame["_start"]

    status = frame["status"] if "status" in frame.columns else pd.Series("unknown", frame.index)
    direction = frame["direction"] if "direction" in frame.columns else pd.Series("", frame.index)
    frame["_label"] = [
        ("\u2003" * int(d))
        + ("└ " if int(d) else "")
        + ("▶ " if sid == highlight else "")
        + f"{sid} · {dir_ or '?'}"
        for d, sid, dir_ in zip(frame["depth"], frame["call_sid"], direction, strict=True)
    ]
    root = str(frame["call_sid"].iloc[int(frame["depth"].astype(int).to_numpy().argmin())])
    fig = new_figure(
        title or f"Call tree · {root}",
        height=height or max(260, 60 * len(frame) + 160),
    )

    for i, st in enumerate(dict.fromkeys(status.fillna("unknown"))):
        mask = status.fillna("unknown") == st
        part = frame[mask]
        width_ms = (part["_end"] - part["_start"]).dt.total_seconds() * 1000.0
        fig.add_trace(
            go.Bar(
                y=part["_label"],
                x=width_ms.clip(lower=300),  # a zero-length leg still shows as a sliver
                base=part["_start"],
                orientation="h",
                name=str(st),
                marker={
                    "color": STATUS_COLORS.get(str(st), color_for(st, i)),
                    "opacity": 0.85,
                    "line": {
                        "color": "#111827",
                        "width": [2.5 if sid == highlight else 0 for sid in part["call_sid"]],
                    },
                },
                customdata=list(zip(part["call_sid"], (width_ms / 1000.0).round(1), strict=True)),
                hovertemplate="%{customdata[0]}<br>%{base|%H:%M:%S} for "
                "%{customdata[1]} s<extra>" + str(st) + "</extra>",
            )
        )

    label_of = dict(zip(frame["call_sid"], frame["_label"], strict=True))
    xs: list[Any] = []
    ys: list[Any] = []
    sizes: list[int] = []
    for sid, parent, start in zip(
        frame["call_sid"], frame["parent_call_sid"], frame["_start"], strict=True
    ):
        if isinstance(parent, str) and parent in label_of and pd.notna(start):
            xs += [start, start, None]
            ys += [label_of[parent], label_of[sid], None]
            sizes += [0, 9, 0]
    if xs:
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines+markers",
                line={"color": "#374151", "width": 1.5},
                marker={"symbol": "triangle-down", "size": sizes, "color": "#374151"},
                name="parent → child",
                hoverinfo="skip",
            )
        )

    fig.update_layout(barmode="overlay", bargap=0.35, legend={"title": {"text": "status"}})
    fig.update_xaxes(type="date", title_text="time (UTC)")
    fig.update_yaxes(
        title_text="leg",
        categoryorder="array",
        categoryarray=list(frame["_label"]),
        autorange="reversed",
        showgrid=False,
    )
    return fig


def _build(frame: pd.DataFrame) -> pd.DataFrame:
    try:
        from voiceinsights.analysis import calltree
    except ImportError as exc:  # pragma: no cover - the analysis layer ships with the package
        raise AnalysisError("call_tree needs depth and path columns") from exc
    built: pd.DataFrame = calltree.build(frame).legs
    return built.rename(columns={"start": "start_time", "end": "end_time"})

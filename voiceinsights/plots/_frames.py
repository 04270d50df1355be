"""Small helpers shared by the plot modules: input frames, required columns, time axes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from voiceinsights._exceptions import AnalysisError

__all__ = ["as_frame", "require", "to_utc_naive", "warning_spans"]


def as_frame(data: Any, what: str) -> pd.DataFrame:
    """A pandas DataFrame from a DataFrame, pyarrow Table or DuckDB relation.

    ``None`` gives an empty frame; anything else raises :class:`AnalysisError` naming
    ``what`` (the argument) so the caller knows which input was wrong.
    """
    if data is None:
        return pd.DataFrame()
    if isinstance(data, pd.DataFrame):
        return data
    if hasattr(data, "to_pandas"):  # pyarrow.Table
        frame = data.to_pandas()
    elif hasattr(data, "df"):  # duckdb relation
        frame = data.df()
    else:
        raise AnalysisError(
            f"{what} must be a pandas DataFrame, pyarrow Table or DuckDB relation, "
            f"not {type(data).__name__}"
        )
    if not isinstance(frame, pd.DataFrame):  # pragma: no cover - defensive
        raise AnalysisError(f"{what} did not convert to a DataFrame")
    return frame


def require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise :class:`AnalysisError` when ``frame`` lacks any of ``columns``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise AnalysisError(
            f"{what} is missing column(s) {', '.join(missing)}; it has "
            f"{', '.join(map(str, frame.columns)) or 'no columns'}"
        )


def to_utc_naive(values: Any) -> pd.Series:
    """Timestamps as naive UTC datetimes (plotly draws them without a local shift)."""
    series = pd.to_datetime(pd.Series(values), utc=True, errors="coerce")
    return series.dt.tz_convert("UTC").dt.tz_localize(None)


def warning_spans(warnings: pd.DataFrame, end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Pair ``raised`` and ``cleared`` warning events into spans.

    Parameters
    ----------
    warnings : DataFrame
        Rows with ``timestamp``, ``name`` and ``event`` (``raised`` / ``cleared``), the
        ``warnings`` table or the output of ``analysis.warnings.detect``.
    end : Timestamp, optional
        End of a span whose warning was never cleared (the last sample time); without it
        such a span ends where it starts.

    Returns
    -------
    DataFrame
        ``name, start, end`` (naive UTC), one row per span, ordered by start.
    """
    if warnings.empty:
        return pd.DataFrame({"name": [], "start": [], "end": []})
    frame = warnings.assign(_t=to_utc_naive(warnings["timestamp"]).to_numpy())
    frame = frame.sort_values("_t", kind="stable")
    spans: list[tuple[str, pd.Timestamp, pd.Timestamp]] = []
    open_at: dict[str, pd.Timestamp] = {}
    for name, event, t in zip(frame["name"], frame["event"], frame["_t"], strict=True):
        if event == "raised":
            open_at.setdefault(str(name), t)
        elif event == "cleared" and str(name) in open_at:
            spans.append((str(name), open_at.pop(str(name)), t))
    for name, start in open_at.items():
        stop = end if end is not None and end > start else start
        spans.append((name, start, stop))
    out = pd.DataFrame(spans, columns=["name", "start", "end"])
    return out.sort_values("start", kind="stable").reset_index(drop=True)

"""The probes report: quality history per target and label, the latest runs in detail."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pandas as pd
import plotly.graph_objects as go

from voiceinsights._exceptions import StoreError
from voiceinsights.plots import probe_history, probe_waterfall
from voiceinsights.reports._html import HtmlReport, format_value, table_html

__all__ = ["RUN_COLUMNS", "ProbesReport", "get_probes_report"]

#: ``probe_runs`` columns listed in the runs table.
RUN_COLUMNS: Final = (
    "started_at",
    "label",
    "target",
    "status",
    "failed_phase",
    "call_quality",
    "mos_avg",
    "rtt_avg_ms",
    "jitter_avg_ms",
    "loss_pct",
    "first_media_ms",
    "effective_mos",
    "error",
)


@dataclass
class ProbesReport:
    """Probe runs from a store, ready to show.

    Attributes
    ----------
    runs : DataFrame
        ``probe_runs`` rows, newest first.
    samples : DataFrame
        ``probe_samples`` of the newest successful run.
    """

    runs: pd.DataFrame
    samples: pd.DataFrame = field(default_factory=pd.DataFrame)

    @classmethod
    def from_store(
        cls,
        store: Any,
        *,
        label: str | None = None,
        target: str | None = None,
        since: Any = None,
    ) -> ProbesReport:
        """Same as :func:`get_probes_report`."""
        return get_probes_report(store, label=label, target=target, since=since)

    @property
    def latest(self) -> pd.Series | None:
        """The newest successful run, else the newest run."""
        if self.runs.empty:
            return None
        ok = self.runs[self.runs["status"] != "failed"]
        return (ok if not ok.empty else self.runs).iloc[0]

    def history(self) -> go.Figure:
        """Quality over time per target and label (:func:`plots.probe_history`)."""
        return probe_history(self.runs)

    def waterfall(self) -> go.Figure:
        """The newest run's timing and series (:func:`plots.probe_waterfall`)."""
        latest = self.latest
        if latest is None:
            raise StoreError("no probe runs to show")
        return probe_waterfall(latest, self.samples)

    def _stats(self) -> list[tuple[str, Any]]:
        runs = self.runs
        failed = int((runs["status"] == "failed").sum())
        return [
            ("runs", len(runs)),
            ("failed", failed),
            ("first", runs["started_at"].min()),
            ("last", runs["started_at"].max()),
            ("targets", ", ".join(sorted(runs["target"].dropna().astype(str).unique()))),
            ("labels", ", ".join(sorted(runs["label"].dropna().astype(str).unique())) or "–"),
            ("mean MOS", pd.to_numeric(runs["mos_avg"], errors="coerce").mean()),
        ]

    def to_html(self) -> str:
        """A self-contained HTML document (plotly.js inlined)."""
        return self._document().to_html()

    def write_html(self, path: str | os.PathLike[str]) -> Path:
        """Write the self-contained HTML report to ``path``."""
        return self._document().write(path)

    def _document(self) -> HtmlReport:
        doc = HtmlReport("Probe report", subtitle=f"{len(self.runs)} probe runs")
        if self.runs.empty:
            doc.paragraph("The store has no probe runs yet: run `voiceinsights probe URL`.")
            return doc
        doc.heading("Overview")
        doc.key_values(self._stats())
        doc.heading("History")
        doc.figure(self.history())
        latest = self.latest
        if latest is not None:
            doc.heading(f"Latest run {latest.get('run_id')}")
            doc.figure(self.waterfall())
        doc.heading("Runs")
        doc.table(self.runs[[c for c in RUN_COLUMNS if c in self.runs.columns]])
        return doc

    def __repr__(self) -> str:
        if self.runs.empty:
            return "<ProbesReport 0 runs>"
        failed = int((self.runs["status"] == "failed").sum())
        return f"<ProbesReport {len(self.runs)} runs, {failed} failed>"

    def __str__(self) -> str:
        if self.runs.empty:
            return "no probe runs"
        return "\n".join(f"{k:<9} {format_value(v)}" for k, v in self._stats())

    def _repr_html_(self) -> str:
        if self.runs.empty:
            return "<p>No probe runs.</p>"
        cols = [c for c in RUN_COLUMNS if c in self.runs.columns]
        return f"<div class='voiceinsights-probes'>{table_html(self.runs[cols], max_rows=20)}</div>"


def get_probes_report(
    store: Any, *, label: str | None = None, target: str | None = None, since: Any = None
) -> ProbesReport:
    """Gather probe runs from a store into a :class:`ProbesReport`.

    Parameters
    ----------
    store : Store or ParquetStore
    label, target : str, optional
        Keep only runs with this label / target.
    since : datetime or str, optional
        Keep only runs started at or after this time (UTC).
    """
    runs = store.probes(label=label) if label is not None else store.probes()
    if target is not None:
        runs = runs[runs["target"] == target]
    if since is not None:
        start = pd.Timestamp(since)
        start = start.tz_localize("UTC") if start.tzinfo is None else start
        runs = runs[pd.to_datetime(runs["started_at"], utc=True) >= start]
    runs = runs.sort_values("started_at", ascending=False, kind="stable").reset_index(drop=True)
    report = ProbesReport(runs=runs)
    latest = report.latest
    if latest is not None:
        report.samples = store.probe_samples(run_id=str(latest["run_id"]))
    return report

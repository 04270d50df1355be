"""A call report: one leg with its summary, tags, call tree and per-second timeline."""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pandas as pd
import plotly.graph_objects as go

from voiceinsights._exceptions import StoreError
from voiceinsights.analysis import calltree
from voiceinsights.plots import call_timeline, call_tree
from voiceinsights.plots._theme import METRIC_COLORS
from voiceinsights.reports._html import (
    HtmlReport,
    badges,
    format_value,
    key_value_table,
)
from voiceinsights.reports._svg import sparkline

__all__ = ["SUMMARY_FIELDS", "CallReport", "get_call_report"]

#: Summary columns shown in the report when the summary has them: (column, label).
SUMMARY_FIELDS: Final = (
    ("codec_name", "codec"),
    ("mos_mean", "MOS mean"),
    ("mos_min", "MOS min"),
    ("mos_p5", "MOS 5th percentile"),
    ("jitter_mean_ms", "jitter mean (ms)"),
    ("jitter_p95_ms", "jitter p95 (ms)"),
    ("jitter_max_ms", "jitter max (ms)"),
    ("rtt_mean_ms", "RTT mean (ms)"),
    ("rtt_p95_ms", "RTT p95 (ms)"),
    ("rtt_max_ms", "RTT max (ms)"),
    ("loss_pct", "loss (%)"),
    ("warnings_raised", "warnings raised"),
    ("warning_seconds_s", "time in warning (s)"),
    ("feedback_score", "feedback score (1–5)"),
    ("feedback_issue", "feedback issue"),
    ("call_quality", "call quality"),
)

_LEG_FIELDS: Final = (
    ("status", "status"),
    ("direction", "direction"),
    ("call_type", "type"),
    ("from_address", "from"),
    ("to_address", "to"),
    ("start_time", "start (UTC)"),
    ("end_time", "end (UTC)"),
    ("duration_s", "duration (s)"),
    ("parent_call_sid", "parent leg"),
    ("sip_response_code", "SIP response"),
)

_INSIGHTS_FIELDS: Final = (
    ("call_type", "call type"),
    ("call_state", "call state"),
    ("processing_state", "processing state"),
    ("disconnected_by", "disconnected by"),
    ("pdd_ms", "post-dial delay (ms)"),
    ("connect_duration_s", "connected (s)"),
    ("last_sip_response_num", "last SIP response"),
    ("q850_cause", "Q.850 cause"),
    ("media_region", "media region"),
    ("signaling_region", "signaling region"),
    ("metrics_edge", "metrics edge"),
    ("inbound_codec", "inbound codec"),
    ("inbound_jitter_avg_ms", "inbound jitter avg (ms)"),
    ("inbound_loss_pct", "inbound loss (%)"),
    ("outbound_jitter_avg_ms", "outbound jitter avg (ms)"),
    ("outbound_loss_pct", "outbound loss (%)"),
    ("tags", "Insights tags"),
)


@dataclass
class CallReport:
    """Everything the store knows about one call leg, ready to show.

    Build it with :func:`get_call_report` (or :meth:`from_store`). It adds no analysis of
    its own: the summary row comes from :func:`voiceinsights.analysis.summary.calls`, the
    tree from :func:`voiceinsights.analysis.calltree.build`.

    Attributes
    ----------
    call_sid : str
        The leg reported on.
    leg : dict
        Its row of the ``calls`` view.
    summary : dict or None
        Its ``summary.calls`` row (MOS, jitter, RTT, loss, warnings, feedback, tags).
    legs : DataFrame
        Every leg of the same call tree (``calltree.build`` columns).
    samples, warnings, events, feedback : DataFrame
        Per-second SDK samples, SDK warnings, status-callback events and feedback of the
        legs in the tree.
    insights : dict or None
        The leg's Voice Insights call summary row (``insights_summaries``), if pulled.
    """

    call_sid: str
    leg: dict[str, Any]
    summary: dict[str, Any] | None = None
    legs: pd.DataFrame = field(default_factory=pd.DataFrame)
    samples: pd.DataFrame = field(default_factory=pd.DataFrame)
    warnings: pd.DataFrame = field(default_factory=pd.DataFrame)
    events: pd.DataFrame = field(default_factory=pd.DataFrame)
    feedback: pd.DataFrame = field(default_factory=pd.DataFrame)
    insights: dict[str, Any] | None = None

    @classmethod
    def from_store(cls, store: Any, call_sid: str) -> CallReport:
        """Same as :func:`get_call_report`."""
        return get_call_report(store, call_sid)

    # ------------------------------------------------------------------ derived
    @property
    def tags(self) -> list[str]:
        """Summary tags (``high_jitter``, ``low_mos``, ...), empty without a summary."""
        value = (self.summary or {}).get("tags")
        if value is None or isinstance(value, float):
            return []
        return [str(t) for t in list(value)]

    @property
    def sample_call_sid(self) -> str | None:
        """The leg whose per-second samples the timeline shows: this leg if it has
        samples, else the first leg of the tree that has (the SDK side of the call)."""
        if self.samples.empty:
            return None
        have = set(self.samples["call_sid"])
        if self.call_sid in have:
            return self.call_sid
        order = list(self.legs["call_sid"]) if not self.legs.empty else sorted(have)
        return next((s for s in order if s in have), None)

    def timeline(self) -> go.Figure:
        """The per-second timeline (:func:`voiceinsights.plots.call_timeline`)."""
        sid = self.sample_call_sid or self.call_sid
        return call_timeline(
            self.samples[self.samples["call_sid"] == sid] if not self.samples.empty else None,
            self.warnings[self.warnings["call_sid"] == sid] if not self.warnings.empty else None,
            self.events[self.events["call_sid"] == sid] if not self.events.empty else None,
            title=f"Call timeline · {sid}",
        )

    def tree(self) -> go.Figure:
        """The call tree (:func:`voiceinsights.plots.call_tree`)."""
        return call_tree(self.legs, highlight=self.call_sid)

    # ------------------------------------------------------------------ output
    def _leg_pairs(self) -> list[tuple[str, Any]]:
        return [(label, self.leg.get(col)) for col, label in _LEG_FIELDS if col in self.leg]

    def _summary_pairs(self) -> list[tuple[str, Any]]:
        s = self.summary or {}
        return [(label, s.get(col)) for col, label in SUMMARY_FIELDS if col in s]

    def _tree_text(self) -> str:
        if self.legs.empty:
            return self.call_sid
        lines = []
        for sid, depth, direction, status in zip(
            self.legs["call_sid"],
            self.legs["depth"],
            self.legs.get("direction", pd.Series("", index=self.legs.index)),
            self.legs.get("status", pd.Series("", index=self.legs.index)),
            strict=True,
        ):
            mark = "▶ " if sid == self.call_sid else ""
            indent = "    " * int(depth) + ("└─ " if int(depth) else "")
            lines.append(f"{indent}{mark}{sid}  {direction or '?'}  {status or '?'}")
        return "\n".join(lines)

    def to_html(self) -> str:
        """A self-contained HTML document (plotly.js inlined)."""
        return self._document().to_html()

    def write_html(self, path: str | os.PathLike[str]) -> Path:
        """Write the self-contained HTML report to ``path``."""
        return self._document().write(path)

    def _document(self) -> HtmlReport:
        doc = HtmlReport(
            f"Call {self.call_sid}",
            subtitle=" · ".join(
                format_value(self.leg.get(k)) for k in ("direction", "status", "start_time")
            ),
        )
        if self.summary:
            quality = f"<p>{badges(self.tags)}</p>{key_value_table(self._summary_pairs())}"
        else:
            quality = "<p>No quality summary: the store has no samples for this call's legs.</p>"
        doc.columns(("Leg", key_value_table(self._leg_pairs())), ("Quality summary", quality))
        doc.heading("Call tree")
        doc.raw(f"<pre class='tree'>{html.escape(self._tree_text())}</pre>")
        if not self.legs.empty and self.legs["start_time"].notna().any():
            doc.figure(self.tree())
        doc.heading("Timeline")
        doc.figure(self.timeline())
        if not self.warnings.empty:
            doc.heading("SDK warnings")
            cols = [c for c in ("call_sid", "timestamp", "name", "event") if c in self.warnings]
            doc.table(self.warnings[cols])
        if not self.events.empty:
            doc.heading("Status callbacks")
            cols = [
                c
                for c in (
                    "call_sid",
                    "sequence_number",
                    "timestamp",
                    "call_status",
                    "callback_source",
                    "sip_response_code",
                )
                if c in self.events
            ]
            doc.table(self.events.sort_values(["call_sid", "timestamp"])[cols])
        if not self.feedback.empty:
            doc.heading("Feedback")
            cols = [c for c in ("call_sid", "score", "issue") if c in self.feedback]
            doc.table(self.feedback[cols])
        if self.insights:
            doc.heading("Voice Insights summary")
            doc.key_values(self._insights_pairs())
        return doc

    def _insights_pairs(self) -> list[tuple[str, Any]]:
        s = self.insights or {}
        return [(label, s.get(col)) for col, label in _INSIGHTS_FIELDS if col in s]

    def __repr__(self) -> str:
        s = self.summary or {}
        mos = format_value(s.get("mos_mean"))
        tags = ",".join(self.tags) or "-"
        return (
            f"<CallReport {self.call_sid} {self.leg.get('status') or '?'} "
            f"legs={max(len(self.legs), 1)} samples={len(self.samples)} mos={mos} tags={tags}>"
        )

    def __str__(self) -> str:
        pairs = [("call", self.call_sid), *self._leg_pairs(), *self._summary_pairs()]
        pairs.append(("tags", ", ".join(self.tags) or "none"))
        width = max(len(k) for k, _ in pairs)
        text = "\n".join(f"{k.ljust(width)}  {format_value(v)}" for k, v in pairs)
        return f"{text}\n\n{self._tree_text()}"

    def _repr_html_(self) -> str:
        spark = ""
        sid = self.sample_call_sid
        if sid is not None:
            s = self.samples[self.samples["call_sid"] == sid].sort_values("timestamp")
            spark = (
                f"<div><div style='font-size:12px;color:#6b7280'>per second, {html.escape(sid)}"
                "</div>"
                + "".join(
                    sparkline(
                        pd.to_numeric(s[col], errors="coerce").to_numpy(),
                        label=label,
                        color=METRIC_COLORS[col],
                        lo=lo,
                        hi=hi,
                    )
                    + "<br>"
                    for col, label, lo, hi in (
                        ("mos", "MOS", 1.0, 4.5),
                        ("jitter_ms", "jitter (ms)", 0.0, None),
                        ("rtt_ms", "RTT (ms)", 0.0, None),
                        ("packets_lost_pct", "loss (%)", 0.0, None),
                    )
                )
                + "</div>"
            )
        summary = key_value_table(self._summary_pairs()) if self.summary else ""
        return (
            "<div class='voiceinsights-call'>"
            f"<h4 style='margin:4px 0'>Call {html.escape(self.call_sid)}</h4>"
            f"<p>{badges(self.tags) if self.summary else ''}</p>"
            "<div style='display:flex;gap:24px;flex-wrap:wrap'>"
            f"<div>{key_value_table(self._leg_pairs())}</div><div>{summary}</div>"
            f"<div><pre>{html.escape(self._tree_text())}</pre>{spark}</div>"
            "</div></div>"
        )


def get_call_report(store: Any, call_sid: str) -> CallReport:
    """Gather one leg's data from a store into a :class:`CallReport`.

    Parameters
    ----------
    store : Store or ParquetStore
        An open store (``voiceinsights.open`` / ``voiceinsights.open_parquet``).
    call_sid : str
        The leg.

    Returns
    -------
    CallReport

    Raises
    ------
    StoreError
        When the store knows no leg ``call_sid``.
    """
    sid = str(call_sid).strip()
    leg_rows = store.calls(call_sid=sid)
    if leg_rows.empty:
        raise StoreError(
            f"no call {sid!r} in the store; list known legs with `voiceinsights calls`"
        )
    legs_frame = store.call_family(sid)
    family = [str(s) for s in legs_frame["call_sid"]]
    tree = calltree.build(legs_frame)
    samples = _for(store.samples, family)
    warnings = _for(store.warnings, family)
    events = _for(store.events, family)
    feedback = _for(store.feedback, family)
    summary = _summary(sid, samples, legs_frame, warnings, feedback)
    insights = store.summaries(call_sid=sid)
    return CallReport(
        call_sid=sid,
        leg=dict(leg_rows.iloc[0]),
        summary=summary,
        legs=tree.legs,
        samples=samples,
        warnings=warnings,
        events=events,
        feedback=feedback,
        insights=dict(insights.iloc[0]) if not insights.empty else None,
    )


def _for(accessor: Any, sids: list[str]) -> pd.DataFrame:
    """Rows of a store accessor (``store.samples``, ...) for each leg of ``sids``."""
    frames: list[pd.DataFrame] = [accessor(call_sid=s) for s in sids]
    frames = [f for f in frames if not f.empty]
    if not frames:
        first: pd.DataFrame = accessor(call_sid=sids[0]) if sids else pd.DataFrame()
        return first
    return pd.concat(frames, ignore_index=True)


def _summary(
    sid: str,
    samples: pd.DataFrame,
    legs: pd.DataFrame,
    warnings: pd.DataFrame,
    feedback: pd.DataFrame,
) -> dict[str, Any] | None:
    """The ``summary.calls`` row of this leg, else of the tree's leg with samples."""
    from voiceinsights.analysis import summary

    frame = summary.calls(
        samples if not samples.empty else None,
        legs,
        warnings=warnings if not warnings.empty else None,
        feedback=feedback if not feedback.empty else None,
    )
    if frame.empty:
        return None
    with_samples = [str(s) for s in samples.get("call_sid", pd.Series([], dtype=object)).unique()]
    own = frame[frame["call_sid"] == sid]
    if sid in with_samples or not with_samples:
        return dict(own.iloc[0]) if not own.empty else None
    # A root leg (the PSTN side of an SDK call) shows the quality its SDK child measured.
    is_root = own.empty or pd.isna(own.iloc[0].get("parent_call_sid"))
    if is_root:
        sdk = frame[frame["call_sid"] == with_samples[0]]
        if not sdk.empty:
            return dict(sdk.iloc[0])
    return dict(own.iloc[0]) if not own.empty else None

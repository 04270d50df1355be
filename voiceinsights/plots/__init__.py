"""Plotly figures of calls, call trees, the fleet and probes, in one theme.

Every function takes a DataFrame (or pyarrow Table / DuckDB relation) with the schema's
column names first and returns a :class:`plotly.graph_objects.Figure` whose axis titles
carry units.

============================  ==========================================================
function                      shows
============================  ==========================================================
:func:`call_timeline`         MOS, jitter, RTT, loss per second; warning spans; milestones
:func:`call_tree`             the legs of a call on a time axis with parent/child links
:func:`quality_heatmap`       a quality measure by day × dimension
:func:`mos_distribution`      per-call MOS distribution for each value of a dimension
:func:`feedback_vs_mos`       user feedback score against MOS
:func:`probe_waterfall`       one probe's networkTiming waterfall and per-second series
:func:`probe_history`         probe quality over time per target and label
============================  ==========================================================
"""

from __future__ import annotations

from voiceinsights.plots import _theme as theme
from voiceinsights.plots.calltree import call_tree
from voiceinsights.plots.fleet import feedback_vs_mos, mos_distribution, quality_heatmap
from voiceinsights.plots.probe import network_timing, probe_history, probe_waterfall
from voiceinsights.plots.timeline import call_timeline

__all__ = [
    "call_timeline",
    "call_tree",
    "feedback_vs_mos",
    "mos_distribution",
    "network_timing",
    "probe_history",
    "probe_waterfall",
    "quality_heatmap",
    "theme",
]

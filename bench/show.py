"""Figure and report benchmarks.

- ``call_timeline`` of one call (one hour of per-second samples, warnings, milestones)
  rendered to an HTML div, against a bare plotly figure of the same four series in four
  stacked panels rendered the same way: the theme, spans and milestones should cost little.
- A whole self-contained call report (``CallReport`` from a DuckDB store: queries, summary,
  call tree, two figures, tables; plotly.js inlined) against plotly's own
  ``write_html(include_plotlyjs=True)`` of that bare figure.

``python -m bench --only show`` (3600 samples) or ``--short`` (600).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from bench._result import Result
from bench._timing import best as _best
from voiceinsights.analysis import mos
from voiceinsights.plots import call_timeline
from voiceinsights.reports import get_call_report

T0 = pd.Timestamp("2026-11-20 14:00:00", tz="UTC")
SERIES = ("mos", "jitter_ms", "rtt_ms", "packets_lost_pct")


def _call(n: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(11)
    jitter = rng.gamma(2.0, 2.5, n)
    rtt = 80 + rng.normal(0, 6, n)
    loss = np.where(rng.random(n) < 0.05, rng.uniform(1, 8, n), 0.0)
    samples = pd.DataFrame(
        {
            "call_sid": "CAbench",
            "identity": "bench",
            "timestamp": T0 + pd.to_timedelta(np.arange(n) + 3, unit="s"),
            "mos": np.asarray(mos.twilio_sdk(rtt, jitter, loss), dtype=float),
            "jitter_ms": jitter,
            "rtt_ms": rtt,
            "packets_lost_pct": loss,
            "packets_received": 50,
            "packets_lost": 0,
            "bytes_received": 8000,
            "bytes_sent": 8000,
            "codec_name": "opus",
        }
    )
    starts = np.arange(60, n - 60, max(n // 12, 30))
    warnings = pd.DataFrame(
        [
            {
                "call_sid": "CAbench",
                "timestamp": T0 + pd.Timedelta(seconds=float(s + d)),
                "name": name,
                "event": event,
            }
            for s in starts
            for name, event, d in (("high-jitter", "raised", 0), ("high-jitter", "cleared", 20))
        ]
    )
    events = pd.DataFrame(
        [
            {
                "call_sid": "CAbench",
                "parent_call_sid": None,
                "sequence_number": i,
                "callback_source": "call-progress-events",
                "call_status": status,
                "direction": "inbound",
                "timestamp": T0 + pd.Timedelta(seconds=off),
            }
            for i, (status, off) in enumerate(
                (("initiated", 0), ("ringing", 1), ("in-progress", 3), ("completed", n + 4))
            )
        ]
    )
    return samples, warnings, events


def _bare(samples: pd.DataFrame) -> go.Figure:
    fig = make_subplots(rows=4, cols=1, shared_xaxes=True)
    for row, column in enumerate(SERIES, start=1):
        fig.add_trace(go.Scatter(x=samples["timestamp"], y=samples[column]), row=row, col=1)
    return fig


def run(short: bool) -> list[Result]:
    n = 600 if short else 3600
    repeat = 3
    samples, warnings, events = _call(n)

    def ours() -> None:
        call_timeline(samples, warnings, events).to_html(full_html=False, include_plotlyjs=False)

    def bare() -> None:
        _bare(samples).to_html(full_html=False, include_plotlyjs=False)

    ours()  # warm-up: imports, template registration
    t_ours, t_bare = _best(ours, repeat), _best(bare, repeat)

    import voiceinsights as vi

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        with vi.open(db) as store:
            store.write_rows("call_events", events, source="bench")
            store.write_rows("samples", samples, source="bench")
            store.write_rows("warnings", warnings.assign(identity="bench"), source="bench")
            out = Path(tmp) / "call.html"
            t_report = _best(lambda: get_call_report(store, "CAbench").write_html(out), repeat)
            size = out.stat().st_size
        plain = Path(tmp) / "plain.html"
        t_plain = _best(
            lambda: pio.write_html(_bare(samples), plain, include_plotlyjs=True), repeat
        )
        plain_size = plain.stat().st_size
    return [
        Result(
            f"call_timeline to HTML div ({n} samples)",
            t_ours * 1000,
            "ms",
            baseline=t_bare * 1000,
            baseline_name="bare 4-panel plotly figure",
        ),
        Result(
            f"call report written as self-contained HTML ({n} samples)",
            t_report * 1000,
            "ms",
            baseline=t_plain * 1000,
            baseline_name="plotly write_html of the bare figure",
            notes={"report_bytes": size, "plain_bytes": plain_size},
        ),
    ]

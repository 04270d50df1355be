"""Plot functions: what each figure contains, checked against independent computations."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from tests.show import synth
from voiceinsights import AnalysisError, plots
from voiceinsights.analysis import calltree
from voiceinsights.plots._frames import warning_spans
from voiceinsights.plots._theme import TEMPLATE_NAME


def _naive(t: pd.Timestamp) -> pd.Timestamp:
    return t.tz_convert("UTC").tz_localize(None)


def _yaxis_titles(fig: go.Figure) -> list[str]:
    names = sorted((n for n in fig.layout if n.startswith("yaxis")), key=lambda n: int(n[5:] or 1))
    return [fig.layout[n].title.text for n in names if fig.layout[n].title.text]


def test_warning_spans_pair_raised_and_cleared() -> None:
    t = synth.T0
    w = pd.DataFrame(
        {
            "timestamp": [t + pd.Timedelta(seconds=s) for s in (10, 30, 5, 12, 40, 41)],
            "name": ["high-rtt", "high-rtt", "low-mos", "low-mos", "high-jitter", "low-mos"],
            "event": ["raised", "cleared", "cleared", "raised", "raised", "cleared"],
        }
    )
    end = _naive(t + pd.Timedelta(seconds=60))
    spans = warning_spans(w, end=end)
    got = {(n, (s - _naive(t)).seconds, (e - _naive(t)).seconds) for n, s, e in spans.values}
    # low-mos cleared before any raise is ignored; high-jitter never clears -> ends at `end`.
    assert got == {("high-rtt", 10, 30), ("low-mos", 12, 41), ("high-jitter", 40, 60)}


def test_call_timeline_panels_spans_and_milestones() -> None:
    samples = synth.samples()
    fig = plots.call_timeline(samples, synth.warnings(), synth.events())
    assert fig.layout.template.layout.font.family == plots.theme.FONT
    data = [t for t in fig.data if t.x is not None and len(t.x) > 1]
    assert len(data) == 4  # MOS, jitter, RTT, loss
    np.testing.assert_allclose(
        np.asarray(data[1].y, dtype=float), samples["jitter_ms"].to_numpy(), rtol=1e-12
    )
    assert _yaxis_titles(fig) == ["MOS (1–4.5)", "jitter (ms)", "RTT (ms)", "loss (%)"]
    legend = {t.name for t in fig.data if t.showlegend}
    assert legend == {"warning: high-jitter", "warning: high-rtt", "warning: high-packet-loss"}
    # One shaded span per warning (x4 panels: vrects span every row); the open
    # high-packet-loss span ends at the last sample.
    rects = [s for s in fig.layout.shapes if s.type == "rect" and s.fillcolor != "#15803d"]
    spans = {(pd.Timestamp(s.x0), pd.Timestamp(s.x1)) for s in rects if s.xref != "paper"}
    w = synth.warnings()
    start = _naive(w.loc[w["name"] == "high-packet-loss", "timestamp"].iloc[0])
    assert (start, _naive(samples["timestamp"].max())) in spans
    jit = w[w["name"] == "high-jitter"]["timestamp"].map(_naive).tolist()
    assert (jit[0], jit[1]) in spans
    texts = {a.text: pd.Timestamp(a.x) for a in fig.layout.annotations if a.text}
    ev = synth.events().set_index("call_status")["timestamp"].map(_naive)
    assert texts["ringing"] == ev["ringing"]
    assert texts["answered"] == ev["in-progress"]  # the answered event arrives as in-progress
    assert texts["completed"] == ev["completed"]


def test_call_timeline_filters_by_call_and_handles_no_samples() -> None:
    two = pd.concat([synth.samples("CA1"), synth.samples("CA2", seed=9)])
    fig = plots.call_timeline(two, call_sid="CA2")
    line = next(t for t in fig.data if t.x is not None and len(t.x) > 1)
    assert len(line.x) == len(synth.samples("CA2"))
    assert "CA2" in fig.layout.title.text
    empty = plots.call_timeline(synth.samples().iloc[0:0], None, synth.events())
    assert any("no per-second samples" in (a.text or "") for a in empty.layout.annotations)


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(AnalysisError, match="samples is missing column"):
        plots.call_timeline(synth.samples().drop(columns=["rtt_ms"]))
    with pytest.raises(AnalysisError, match="must be a pandas DataFrame"):
        plots.call_timeline([1, 2, 3])
    with pytest.raises(AnalysisError, match="legs is missing column"):
        plots.call_tree(pd.DataFrame({"call_sid": ["CA1"]}))
    with pytest.raises(AnalysisError, match="needs at least one call"):
        plots.quality_heatmap(synth.call_summaries().iloc[0:0])
    with pytest.raises(AnalysisError, match="one probe run, got 2"):
        plots.probe_waterfall(synth.probe_runs().iloc[:2])


def test_call_tree_bars_and_links() -> None:
    legs = synth.legs()
    fig = plots.call_tree(legs)
    bars = [t for t in fig.data if isinstance(t, go.Bar)]
    assert sum(len(b.y) for b in bars) == 4
    assert {b.name for b in bars} == {"completed", "no-answer", "busy"}
    durations = {b.customdata[i][0]: b.x[i] for b in bars for i in range(len(b.y))}
    assert durations["CAchild1"] == pytest.approx(20_000)  # ms
    (links,) = [t for t in fig.data if t.name == "parent → child"]
    assert sum(y is not None for y in links.y) == 2 * 3  # three children, two points each
    order = list(fig.layout.yaxis.categoryarray)
    assert [o.split()[-3] for o in order] == ["CAroot", "CAchild1", "CAchild2", "CAgrand"]
    marked = plots.call_tree(legs, highlight="CAchild2")
    assert [o for o in marked.layout.yaxis.categoryarray if "▶" in o] == [
        order[2].replace("└ ", "└ ▶ ")
    ]
    # From a CallTree, and from raw legs (built with analysis.calltree), the same bars.
    raw = legs.drop(columns=["depth", "path", "root_call_sid"]).iloc[::-1]
    for other in (plots.call_tree(calltree.build(raw)), plots.call_tree(raw)):
        assert list(other.layout.yaxis.categoryarray) == order


def test_quality_heatmap_cells_are_the_group_means() -> None:
    calls = synth.call_summaries()
    fig = plots.quality_heatmap(calls, "direction")
    (hm,) = fig.data
    expected = calls.assign(day=calls["start_time"].dt.strftime("%Y-%m-%d")).pivot_table(
        index="direction", columns="day", values="mos_mean", aggfunc="mean"
    )
    np.testing.assert_allclose(np.asarray(hm.z, dtype=float), expected.to_numpy(), rtol=1e-12)
    assert list(hm.x) == list(expected.columns)
    counts = calls.groupby(["direction", calls["start_time"].dt.strftime("%Y-%m-%d")]).size()
    assert f"n={counts.iloc[0]}" in hm.text[0][0]
    assert hm.colorbar.title.text == "mos_mean (1–4.5)"
    # Legs without a MOS (PSTN, SIP) do not make empty rows.
    extra = calls.iloc[:5].assign(direction="trunking-originating", mos_mean=float("nan"))
    (again,) = plots.quality_heatmap(pd.concat([calls, extra]), "direction").data
    assert list(again.y) == list(hm.y)
    with pytest.raises(AnalysisError, match="no call has a mos_mean"):
        plots.quality_heatmap(extra, "direction")


def test_quality_heatmap_takes_fleet_rows() -> None:
    from voiceinsights.analysis import summary

    samples = pd.concat(
        [
            synth.samples(f"CA{i}", seconds=40, seed=i).assign(
                codec_name="opus" if i % 2 else "pcmu"
            )
            for i in range(6)
        ]
    )
    per_call = summary.calls(samples)
    fleet = summary.fleet(per_call, by=["day", "codec_name"])
    (hm,) = plots.quality_heatmap(fleet, "codec_name").data
    (direct,) = plots.quality_heatmap(per_call, "codec_name", time_column="first_sample_at").data
    np.testing.assert_allclose(np.asarray(hm.z, dtype=float), np.asarray(direct.z, dtype=float))
    assert hm.text == direct.text  # same counts: calls with samples
    calls = synth.call_summaries()
    jitter = plots.quality_heatmap(calls.assign(jitter_p95_ms=5.0), value="jitter_p95_ms")
    assert jitter.data[0].reversescale  # higher jitter is worse: red at the top


def test_mos_distribution_and_feedback() -> None:
    calls = synth.call_summaries()
    fig = plots.mos_distribution(calls, "codec_name")
    boxes = {t.name: np.asarray(t.y, dtype=float) for t in fig.data}
    assert set(boxes) == {"opus", "pcmu"}
    np.testing.assert_allclose(
        np.sort(boxes["pcmu"]), np.sort(calls.loc[calls["codec_name"] == "pcmu", "mos_mean"])
    )
    fb = plots.feedback_vs_mos(calls)
    (means,) = [t for t in fb.data if t.name == "mean MOS per score"]
    expected = calls.dropna(subset=["feedback_score"]).groupby("feedback_score")["mos_mean"]
    np.testing.assert_allclose(np.asarray(means.x, dtype=float), expected.mean().to_numpy())
    n_points = sum(len(t.x) for t in fb.data if isinstance(t, go.Box))
    assert n_points == calls["feedback_score"].notna().sum()  # declined feedback left out


def test_network_timing_from_report_and_from_durations() -> None:
    run = synth.probe_runs().iloc[0].to_dict()
    t = plots.network_timing(run).set_index("phase")
    assert t.loc["ICE", "start_ms"] == 12.0
    assert t.loc["DTLS", "end_ms"] == 61.0
    assert t.loc["first echoed audio", "start_ms"] == 0.0
    assert t.loc["first echoed audio", "end_ms"] == 95.0
    # Epoch-ms spans (as the probe reports them) are shifted to the offer.
    spans = {
        k: {"start": 1e12 + v["start"], "end": 1e12 + v["end"]}
        for k, v in json.loads(run["report"])["networkTiming"].items()
    }
    shifted = plots.network_timing({**run, "report": {"networkTiming": spans}})
    pd.testing.assert_frame_equal(shifted, plots.network_timing(run))
    no_report = plots.network_timing({**run, "report": None}).set_index("phase")
    assert no_report.loc["DTLS", "start_ms"] == 12.0 + 28.0  # after signaling and ICE
    assert no_report.loc["peer connection", "start_ms"] == 12.0  # spans ICE and DTLS


def test_probe_history_groups_and_failures() -> None:
    runs = synth.probe_runs()
    fig = plots.probe_history(runs)
    names = {t.name for t in fig.data if t.showlegend is not False}
    assert len([n for n in names if n.startswith(("office", "home"))]) == 4
    (failed,) = [t for t in fig.data if (t.name or "").startswith("failed run")]
    assert len(failed.x) == (runs["status"] == "failed").sum()
    assert all("ice: ICE timed out" in h for h in failed.text)
    assert _yaxis_titles(fig) == [
        "mean MOS (1–4.5)",
        "mean jitter (ms)",
        "mean RTT (ms)",
        "loss (%)",
    ]


def test_every_figure_uses_the_theme() -> None:
    calls = synth.call_summaries()
    runs = synth.probe_runs()
    figs = [
        plots.call_timeline(synth.samples()),
        plots.call_tree(synth.legs()),
        plots.quality_heatmap(calls),
        plots.mos_distribution(calls),
        plots.feedback_vs_mos(calls),
        plots.probe_waterfall(runs.iloc[0], synth.probe_samples()),
        plots.probe_history(runs),
    ]
    import plotly.io as pio

    theme = pio.templates[TEMPLATE_NAME]
    for fig in figs:
        assert fig.layout.template == theme
        assert fig.layout.title.text
        xs = [fig.layout[n].title.text for n in fig.layout if n.startswith("xaxis")]
        assert any(xs), fig.layout.title.text  # the x axis says what (and which unit)


def test_probe_waterfall_takes_a_probe_report() -> None:
    from voiceinsights.probe import ProbeReport

    t0 = 1_763_700_000_000.0  # ms epoch, as the probe reports times
    report = ProbeReport(
        run_id="r1",
        target="http://127.0.0.1:8080",
        codec_name="opus",
        network_timing={
            "signaling": {"start": t0 + 5, "end": t0 + 40, "duration": 35},
            "ice": {"start": t0 + 40, "end": t0 + 65, "duration": 25},
            "dtls": {"start": t0 + 65, "end": t0 + 70, "duration": 5},
            "peerConnection": {"start": t0, "end": t0 + 70, "duration": 70},
        },
        samples=[
            {
                "timestamp": t0 + 1000 * (i + 1),
                "jitter": 2.0 + i,
                "rtt": 1.0,
                "mos": 4.4,
                "packetsLostFraction": 0.0,
                "totals": {},
            }
            for i in range(4)
        ],
    )
    fig = plots.probe_waterfall(report)
    bars = {t.name: (t.base[0], t.x[0]) for t in fig.data if isinstance(t, go.Bar)}
    assert bars["signaling"] == (5.0, 35.0)
    assert bars["ICE"] == (40.0, 25.0)
    (jitter,) = [t for t in fig.data if t.name == "jitter (ms)"]
    assert list(jitter.y) == [2.0, 3.0, 4.0, 5.0]


def test_call_timeline_with_replayed_warnings() -> None:
    from voiceinsights.analysis import warnings

    # A muted microphone: a constant input level, a varying output level.
    samples = synth.samples().assign(
        audio_input_level=1000, audio_output_level=lambda f: 2000 + 700 * (f.index % 7)
    )
    replayed = warnings.detect(samples)
    assert set(replayed["name"]) >= {"high-jitter", "high-rtt", "constant-audio-input-level"}
    fig = plots.call_timeline(samples, replayed)
    legend = {t.name for t in fig.data if t.showlegend}
    assert "warning: high-jitter" in legend
    flagged = set(replayed.loc[replayed["approximate"], "name"])
    assert flagged == {"constant-audio-input-level"}
    assert "warning: constant-audio-input-level (approximate)" in legend

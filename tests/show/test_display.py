"""Notebook display: readable __repr__ and well-formed _repr_html_ for the four objects
analysts meet (call report, probe report, ingest report, call tree)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

import voiceinsights as vi
from tests.show import synth
from voiceinsights.analysis import calltree
from voiceinsights.reports import CallReport, get_call_report, get_probes_report

_VOID = {"br", "meta", "img", "hr", "input", "link", "col", "wbr"}


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: object) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        assert self.stack, f"</{tag}> closes nothing"
        assert self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1]}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _well_formed(markup: str) -> str:
    parser = _Balance()
    parser.feed(markup)
    parser.close()
    assert parser.stack == [], f"unclosed: {parser.stack}"
    return " ".join(parser.text)


@pytest.fixture
def store(demo_db: Path) -> vi.Store:
    s = vi.open(demo_db)
    yield s
    s.close()


def test_call_report_display(store: vi.Store) -> None:
    report = get_call_report(store, "CAchild2")
    assert isinstance(report, CallReport)
    text = repr(report)
    assert text.startswith("<CallReport CAchild2 completed legs=4 samples=80 mos=")
    assert "high_jitter" in text
    markup = report._repr_html_()
    visible = _well_formed(markup)
    for needle in ("Call CAchild2", "client:alice", "MOS mean", "high_latency", "CAgrand"):
        assert needle in visible, needle
    # A small timeline: one SVG sparkline per measure, drawn from the samples.
    assert markup.count("<svg") == 4
    assert markup.count("<polyline") >= 4
    assert "<script" not in markup  # light: no plotly.js in a notebook cell
    plain = str(report)
    assert "▶ CAchild2" in plain  # the tree marks the leg reported on
    assert "feedback score (1–5)" in plain


def test_call_report_of_a_leg_without_samples(store: vi.Store) -> None:
    grand = get_call_report(store, "CAgrand")
    assert grand.summary is not None
    assert grand.tags == []
    assert "busy" in repr(grand)
    # The timeline still shows the SDK leg of the same tree.
    assert grand.sample_call_sid == "CAchild2"
    _well_formed(grand._repr_html_())


def test_probes_report_display(store: vi.Store) -> None:
    report = get_probes_report(store)
    assert repr(report) == "<ProbesReport 30 runs, 2 failed>"
    visible = _well_formed(report._repr_html_())
    assert "ICE timed out" in visible
    assert "runs      30" in str(report)


def test_probe_report_display() -> None:
    from voiceinsights.probe import ProbeReport

    report = ProbeReport(run_id="r1", target="http://127.0.0.1:9/echo", codec_name="opus")
    report.fail("ice", "no candidate pair succeeded")
    assert "failed phase=ice" in repr(report)
    visible = _well_formed(report._repr_html_())
    assert "no candidate pair succeeded" in visible


def test_ingest_report_display(tmp_path: Path) -> None:
    with vi.open(tmp_path / "x.duckdb") as s:
        report = s.ingest([Path(__file__).resolve().parents[2] / "data" / "fixtures"])
    assert "inserted" in repr(report) or "IngestReport" in repr(report)
    visible = _well_formed(report._repr_html_())
    assert "sdk-sample" in visible


def test_call_tree_display() -> None:
    tree = calltree.build(synth.legs())
    assert "CAroot" in repr(tree)
    visible = _well_formed(tree._repr_html_())
    for sid in ("CAroot", "CAchild1", "CAchild2", "CAgrand"):
        assert sid in visible

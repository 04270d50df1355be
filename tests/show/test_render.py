"""Seen as a person sees it: every figure rendered to PNG by a real browser (kaleido with
Debian's chromium), decoded and checked to be a real, non-blank picture."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
import pytest

from tests.conftest import require_tool
from tests.show import synth
from tests.show.png import decode
from voiceinsights import plots
from voiceinsights.plots._theme import BAND_COLORS, METRIC_COLORS, STATUS_COLORS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _hex(color: str) -> tuple[int, int, int]:
    return (int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16))


def _figures() -> dict[str, tuple[go.Figure, str]]:
    calls = synth.call_summaries()
    runs = synth.probe_runs()
    # name -> (figure, a colour that must be drawn in quantity)
    return {
        "timeline": (
            plots.call_timeline(synth.samples(), synth.warnings(), synth.events()),
            METRIC_COLORS["mos"],
        ),
        "call_tree": (plots.call_tree(synth.legs()), STATUS_COLORS["completed"]),
        "quality_heatmap": (plots.quality_heatmap(calls, "direction"), "#000000"),
        "mos_distribution": (plots.mos_distribution(calls, "codec_name"), "#2563eb"),
        "feedback_vs_mos": (plots.feedback_vs_mos(calls), BAND_COLORS["great"]),
        "probe_waterfall": (
            plots.probe_waterfall(runs.iloc[0], synth.probe_samples()),
            "#2563eb",
        ),
        "probe_history": (plots.probe_history(runs), "#dc2626"),
    }


def test_every_figure_renders_to_a_non_blank_png(tmp_path: Path) -> None:
    require_tool("chromium")
    figures = _figures()
    paths = [tmp_path / f"{name}.png" for name in figures]
    figs = [f for f, _ in figures.values()]
    pio.write_images(figs, paths, width=900, height=[f.layout.height or 500 for f in figs])
    keep = os.environ.get("VI_PNG_DIR")
    for (name, (fig, colour)), path in zip(figures.items(), paths, strict=True):
        data = path.read_bytes()
        image = decode(data)
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(keep) / path.name)
        assert image.width == 900, name
        assert image.height == fig.layout.height, name
        # A blank or error page is one or two colours on white; a figure has axes,
        # text (anti-aliased: many shades), traces and shading.
        assert image.colours() > 200, f"{name}: only {image.colours()} colours"
        covered = image.non_background_fraction()
        assert 0.04 < covered < 0.95, f"{name}: {covered:.1%} of pixels drawn"
        if name != "quality_heatmap":
            assert image.count_near(_hex(colour), tolerance=40) > 150, (
                f"{name}: the {colour} traces were not drawn"
            )


def test_heatmap_cells_take_the_band_colours(tmp_path: Path) -> None:
    require_tool("chromium")
    calls = synth.call_summaries()
    # Force one direction's calls into the degraded band: its row must be drawn red.
    calls.loc[calls["direction"] == "outbound-dial", "mos_mean"] = 2.0
    calls.loc[calls["direction"] != "outbound-dial", "mos_mean"] = 4.5
    image = decode(plots.quality_heatmap(calls, "direction").to_image("png", width=800))
    red = image.count_near(_hex(BAND_COLORS["degraded"]), tolerance=20)
    green = image.count_near(_hex(BAND_COLORS["excellent"]), tolerance=20)
    assert red > 5000
    assert green > 1.5 * red  # two rows of excellent cells against one degraded row

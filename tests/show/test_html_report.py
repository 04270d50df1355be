"""HTML reports: self-contained files written by the CLI, opened in headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import require_tool
from tests.show import synth
from tests.show.browser import inspect_page
from voiceinsights.cli import main


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _assert_self_contained(text: str) -> None:
    # No external script, stylesheet, image or font: everything is inline.
    assert not re.search(r"<script[^>]+src=", text)
    assert not re.search(r"<link[^>]+href=", text)
    assert not re.search(r"<img[^>]+src=['\"]?https?:", text)
    assert "@import" not in text
    assert text.count("<script type='text/javascript'>") == 1  # plotly.js inlined once


@pytest.fixture(scope="module")
def call_html(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html") / "call.html"
    main(["report", "CAchild2", "--db", str(demo_db), "--out", str(out)])
    return out


@pytest.fixture(scope="module")
def probes_html(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html") / "probes.html"
    main(["report", "--probes", "--db", str(demo_db), "--out", str(out)])
    return out


def test_call_report_content(call_html: Path) -> None:
    text = call_html.read_text()
    _assert_self_contained(text)
    # Leg, summary, tags from the analysis layer, tree, tables.
    for needle in (
        "Call CAchild2",
        "outbound-dial",
        "client:alice",
        "MOS mean",
        "high_jitter",
        "high_latency",
        "CAroot",
        "CAgrand",
        "choppy-audio",
        "Status callbacks",
    ):
        assert needle in text, needle
    assert text.count('class="plotly-graph-div"') == 2  # call tree + timeline


def test_probes_report_content(probes_html: Path) -> None:
    text = probes_html.read_text()
    _assert_self_contained(text)
    assert "30 probe runs" in text
    assert "ICE timed out" in text  # failed runs are listed with their error
    assert text.count('class="plotly-graph-div"') == 2  # history + latest waterfall


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize(("which", "figures"), [("call", 2), ("probes", 2)])
def test_report_opens_offline_in_chromium_and_draws(
    which: str,
    figures: int,
    call_html: Path,
    probes_html: Path,
    tmp_path: Path,
) -> None:
    chromium = require_tool("chromium")
    page = call_html if which == "call" else probes_html
    result = inspect_page(chromium, page, tmp_path / "profile")
    assert result["errors"] == []
    assert result["plotly"] == "object"
    plots = result["plots"]
    assert len(plots) == figures
    for plot in plots:
        assert plot["traces"] > 0, plot
        assert plot["svgs"] >= 1, plot
        assert plot["marks"] > 5, plot  # lines, bars, points really drawn
        assert plot["width"] > 300, plot
        assert plot["height"] > 200, plot


def test_the_hook_sees_errors(tmp_path: Path) -> None:
    """The browser check can fail: a page with a script error and a remote script."""
    chromium = require_tool("chromium")
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><head><script src='https://cdn.example.com/x.js'></script>"
        "</head><body><script>undefinedFunction();</script></body></html>"
    )
    result = inspect_page(chromium, page, tmp_path / "profile")
    joined = " ".join(result["errors"])
    assert "undefinedFunction" in joined
    assert "cdn.example.com" in joined
    assert result["plots"] == []


def test_cli_errors_are_messages(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["report", "--db", str(demo_db)], capsys)
    assert code == 2
    assert "error: give either a CALL_SID or --probes" in err
    code, _, err = _run(["report", "CA1", "--probes", "--db", str(demo_db)], capsys)
    assert code == 2
    code, _, err = _run(["report", "CAnope", "--db", str(demo_db)], capsys)
    assert code == 2
    assert "no call 'CAnope'" in err
    assert "Traceback" not in err
    code, _, err = _run(
        ["report", "--probes", "--db", str(demo_db), "--since", "yesterday"], capsys
    )
    assert code == 2
    assert "--since 'yesterday' is neither a duration" in err
    missing = demo_db.parent / "missing.duckdb"
    code, _, err = _run(["report", "--probes", "--db", str(missing)], capsys)
    assert code == 2
    assert f"no store at {missing}" in err
    assert not missing.exists()  # a report never creates a store


def test_probes_report_filters(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "office.html"
    code, stdout, _ = _run(
        ["report", "--probes", "--label", "office", "--db", str(demo_db), "--out", str(out)],
        capsys,
    )
    assert code == 0
    assert "<ProbesReport 20 runs" in stdout  # 2 of every 3 synthetic runs are 'office'
    assert "home" not in out.read_text().split("<h2>Runs</h2>")[1]
    # Runs are 5 minutes apart from T0: since T0 + 100 min leaves runs 20..29.
    since = (synth.T0 + pd.Timedelta(minutes=100)).isoformat()
    code, stdout, _ = _run(
        ["report", "--probes", "--since", since, "--db", str(demo_db), "--out", str(out)],
        capsys,
    )
    assert code == 0
    assert "<ProbesReport 10 runs, 0 failed>" in stdout  # runs 7 and 19 failed


def test_reports_from_a_parquet_export_match(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import voiceinsights as vi

    with vi.open(demo_db) as store:
        store.export_parquet(tmp_path / "pq")
    code, from_db, _ = _run(
        ["report", "CAchild2", "--db", str(demo_db), "--out", str(tmp_path / "a.html")], capsys
    )
    assert code == 0
    code, from_pq, _ = _run(
        [
            "report",
            "CAchild2",
            "--parquet",
            str(tmp_path / "pq"),
            "--out",
            str(tmp_path / "b.html"),
        ],
        capsys,
    )
    assert code == 0
    # The same call, summary and tags from either store.
    assert from_db.splitlines()[0] == from_pq.splitlines()[0]
    code, _, err = _run(
        ["report", "CAchild2", "--db", str(demo_db), "--parquet", str(tmp_path / "pq")], capsys
    )
    assert code == 2
    assert "not both" in err

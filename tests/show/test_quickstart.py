"""``voiceinsights quickstart``: demo store, loopback test call, summary, HTML report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import voiceinsights as vi
from tests.conftest import IN_CI, REPO


def _quickstart(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "voiceinsights", "quickstart", "--db", "qs.duckdb", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.mark.network
@pytest.mark.slow
def test_quickstart_does_all_four_steps(tmp_path: Path) -> None:
    out = _quickstart(tmp_path, "--probe-seconds", "2")
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout
    assert "Traceback" not in out.stderr
    # 1. the fixtures were ingested
    assert "sdk-sample" in text
    # 2. a real test call on loopback, stored
    try:
        import aiortc  # noqa: F401
    except ImportError:
        assert not IN_CI, "aiortc is part of the dev extra"
        assert "skipped" in text
    else:
        assert "target              http://127.0.0.1:" in text
        with vi.open(tmp_path / "qs.duckdb") as store:
            runs = store.probes(label="quickstart")
        assert len(runs) == 1
        assert runs["source"].iloc[0] == "voiceinsights-probe"
        assert runs["status"].iloc[0] == "ok", runs["error"].iloc[0]
    # 3. the quality summary names the worst call, 4. whose report was written
    assert "call legs: " in text
    worst = text.split("worst calls:\n")[1].split()[0]
    assert worst.startswith("CA")
    report = tmp_path / "voiceinsights-report.html"
    assert f"wrote {report.name} (call {worst};" in text
    html = report.read_text()
    assert f"Call {worst}" in html
    # The fixtures carry Voice Insights summaries: the report shows the leg's.
    assert "Voice Insights summary" in html
    assert "post-dial delay (ms)" in html
    assert "plotly-graph-div" in html


def test_quickstart_without_probe_and_rerun_is_idempotent(tmp_path: Path) -> None:
    first = _quickstart(tmp_path, "--no-probe", "--report", "r.html")
    assert first.returncode == 0, first.stderr[-3000:]
    assert "skipped (--no-probe)" in first.stdout
    second = _quickstart(tmp_path, "--no-probe", "--report", "r.html")
    assert second.returncode == 0
    # Re-ingesting the fixtures adds nothing: the summary is the same.
    assert (
        first.stdout.split("3. quality summary")[1] == second.stdout.split("3. quality summary")[1]
    )
    assert "0 rows inserted" in second.stdout
    assert (tmp_path / "r.html").exists()

"""``summary``, ``fleet``, ``feedback``, ``tree`` and ``warnings`` on the command line."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import voiceinsights as vi
from tests._cli import run
from tests.conftest import FIXTURES
from voiceinsights.analysis import calltree, summary
from voiceinsights.analysis import warnings as vi_warnings


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("cli") / "fixtures.duckdb"
    with vi.open(db) as store:
        store.ingest(FIXTURES, progress=False)
    return db


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12) or (math.isnan(a) and math.isnan(b))
    return bool(a == b)


def test_summary_prints_what_summary_calls_returns(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with vi.open(store_path, read_only=True) as store:
        expected = summary.calls(store).set_index("call_sid")
    code, out, _ = run(capsys, "summary", "--db", str(store_path), "--json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == len(expected)
    assert list(rows[0]) == list(summary.CALL_COLUMNS)
    for row in rows:
        want = expected.loc[row["call_sid"]]
        for col in ("mos_mean", "mos_p5", "jitter_p95_ms", "rtt_max_ms", "loss_pct"):
            got = row[col]
            if pd.isna(want[col]):
                assert got is None, col
            else:
                assert _same(float(got), float(want[col])), (row["call_sid"], col)
        assert row["tags"] == list(want["tags"])
        assert row["codec_name"] == (None if pd.isna(want["codec_name"]) else want["codec_name"])


def test_summary_filters_and_columns(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with vi.open(store_path, read_only=True) as store:
        expected = summary.calls(store)
    low = expected[expected["tags"].map(lambda t: "low_mos" in t)]
    assert 0 < len(low) < len(expected)  # the filter has something to keep and to drop
    code, out, _ = run(
        capsys,
        "summary",
        "--db",
        str(store_path),
        "--tag",
        "low_mos",
        "--columns",
        "call_sid,mos_min",
        "--csv",
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert set(rows[0]) == {"call_sid", "mos_min"}
    assert {r["call_sid"] for r in rows} == set(low["call_sid"])
    assert all(float(r["mos_min"]) < 3.5 for r in rows)
    sid = low["call_sid"].iloc[0]
    code, out, _ = run(capsys, "summary", "--db", str(store_path), "--call-sid", sid, "--json")
    assert [r["call_sid"] for r in json.loads(out)] == [sid]
    # Without percentiles the p5/p95 columns are empty and the rest is unchanged.
    code, out, _ = run(
        capsys, "summary", "--db", str(store_path), "--no-percentiles", "--call-sid", sid, "--json"
    )
    (row,) = json.loads(out)
    assert row["mos_p5"] is None
    assert row["jitter_p95_ms"] is None
    assert _same(row["mos_mean"], float(low["mos_mean"].iloc[0]))


def test_summary_reads_a_parquet_export(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with vi.open(store_path, read_only=True) as store:
        store.export_parquet(tmp_path / "export")
    code, from_db, _ = run(capsys, "summary", "--db", str(store_path), "--csv")
    assert code == 0
    code, from_parquet, _ = run(capsys, "summary", "--parquet", str(tmp_path / "export"), "--csv")
    assert code == 0
    key = ["call_sid"]
    a = pd.read_csv(io.StringIO(from_db)).sort_values(key).reset_index(drop=True)
    b = pd.read_csv(io.StringIO(from_parquet)).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_fleet_and_feedback(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with vi.open(store_path, read_only=True) as store:
        calls = summary.calls(store)
        given = store.feedback()
    by = ("--by", "direction", "--by", "codec_name")
    code, out, _ = run(capsys, "fleet", "--db", str(store_path), *by, "--json")
    assert code == 0
    rows = json.loads(out)
    assert sum(r["calls"] for r in rows) == len(calls)
    expected = summary.fleet(calls, ["direction", "codec_name"])
    assert [r["calls"] for r in rows] == expected["calls"].tolist()
    code, out, _ = run(capsys, "feedback", "--db", str(store_path), "--json")
    assert code == 0
    rows = json.loads(out)
    # Every feedback row counts once; calls without feedback do not.
    assert sum(r["calls"] for r in rows) == given["call_sid"].nunique()
    code, out, _ = run(capsys, "feedback", "--db", str(store_path))
    assert "Spearman rho" in out


def test_bad_options_are_messages(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "summary", "--db", str(store_path), "--columns", "mos,call_sid")
    assert code == 2
    assert "--columns" in err
    assert "mos_mean" in err  # the valid names are listed
    code, _, err = run(capsys, "summary", "--db", str(store_path), "--tag", "loud")
    assert code == 2
    assert "high_jitter" in err
    code, _, err = run(capsys, "fleet", "--db", str(store_path), "--by", "planet")
    assert code == 2
    assert "cannot group by ['planet']" in err
    assert "Traceback" not in err
    code, _, err = run(capsys, "summary", "--db", str(store_path.parent / "missing.duckdb"))
    assert code != 0
    assert "Traceback" not in err


def test_tree_of_one_call_and_of_all(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with vi.open(store_path, read_only=True) as store:
        built = calltree.build(store.calls(), conference_events=store.table("conference_events"))
    legs = built.legs
    child = legs[legs["depth"] == 1].iloc[0]
    family = legs[legs["root_call_sid"] == child["root_call_sid"]]
    code, out, _ = run(capsys, "tree", child["call_sid"], "--db", str(store_path))
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == len(family)
    assert lines[0].startswith(child["root_call_sid"])
    assert any(line.lstrip().startswith("└─ " + child["call_sid"]) for line in lines)
    code, out, _ = run(capsys, "tree", child["call_sid"], "--db", str(store_path), "--json")
    rows = json.loads(out)
    assert {r["call_sid"] for r in rows} == set(family["call_sid"])
    assert list(rows[0]) == list(calltree.LEG_COLUMNS)
    code, out, _ = run(capsys, "tree", "--db", str(store_path))
    assert code == 0
    assert out.rstrip("\n") == built.to_text()
    code, _, err = run(capsys, "tree", "CAnotthere", "--db", str(store_path))
    assert code == 2
    assert "voiceinsights calls" in err


def test_warnings_replay_and_compare(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with vi.open(store_path, read_only=True) as store:
        detected = vi_warnings.detect(store.samples())
        compared = vi_warnings.compare(detected, store.warnings())
    assert len(detected) > 0
    code, out, _ = run(capsys, "warnings", "--db", str(store_path), "--json")
    assert code == 0
    rows = json.loads(out)
    assert [(r["call_sid"], r["name"], r["event"]) for r in rows] == list(
        zip(detected["call_sid"], detected["name"], detected["event"], strict=True)
    )
    sid = detected["call_sid"].iloc[0]
    code, out, _ = run(capsys, "warnings", "--db", str(store_path), "--call-sid", sid, "--csv")
    mine = list(csv.DictReader(io.StringIO(out)))
    assert {r["call_sid"] for r in mine} == {sid}
    assert len(mine) == int((detected["call_sid"] == sid).sum())
    code, out, _ = run(capsys, "warnings", "--db", str(store_path), "--compare", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["status"] for r in rows] == compared["status"].tolist()
    assert {r["status"] for r in rows} <= {"match", "time-differs", "replay-only", "reported-only"}

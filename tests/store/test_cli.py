"""The store's commands: ingest, sql, calls, export, compact, migrate, quickstart."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests._cli import run
from tests.conftest import FIXTURES

SAMPLE = {"type": "sample", "call_sid": "CA1", "data": {"timestamp": 1714557600000,
                                                         "jitter": 12.5}}  # fmt: skip


def test_ingest_then_query(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "s.duckdb")
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(SAMPLE) + "\n")
    code, out, _ = run(capsys, "ingest", str(path), "--db", db)
    assert code == 0
    assert "1 rows inserted" in out
    code, out, _ = run(capsys, "ingest", str(path), "--db", db, "--json")
    assert code == 0
    assert json.loads(out)["duplicates"] == 1

    code, out, _ = run(
        capsys, "sql", "SELECT call_sid, jitter_ms FROM samples WHERE jitter_ms > ?",
        "-p", "10", "--db", db, "--csv",
    )  # fmt: skip
    assert code == 0
    assert list(csv.DictReader(io.StringIO(out))) == [{"call_sid": "CA1", "jitter_ms": "12.5"}]
    code, out, _ = run(capsys, "sql", "SELECT 1 AS x WHERE ? = 'a'", "-p", "b", "--db", db,
                       "--json")  # fmt: skip
    assert json.loads(out) == []
    code, _, err = run(capsys, "sql", "SELEC nonsense", "--db", db)
    assert code == 2
    assert err.startswith("error: query failed")


def test_rejections_set_exit_code_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(SAMPLE) + "\n{nope\n")
    code, out, _ = run(capsys, "ingest", str(path), "--db", str(tmp_path / "s.duckdb"))
    assert code == 1
    assert f"{path}:2" in out


def test_errors_are_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "calls", "--db", str(tmp_path / "missing.duckdb"))
    assert code == 2
    assert "error: no store at" in err
    code, _, err = run(capsys, "ingest", str(tmp_path / "x.json"), "--db",
                       str(tmp_path / "s.duckdb"))  # fmt: skip
    assert code == 2
    assert "x.json" in err


def test_quickstart_export_compact_migrate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "demo.duckdb")
    code, out, _ = run(capsys, "quickstart", "--db", db, "--no-probe",
                       "--report", str(tmp_path / "r.html"))  # fmt: skip
    assert code == 0
    assert "rows inserted" in out
    assert "0 rejected" in out
    truth = json.loads((FIXTURES / "ground_truth.json").read_text())["counts"]

    code, out, _ = run(capsys, "calls", "--db", db, "--json")
    assert len(json.loads(out)) == truth["legs"]

    code, out, _ = run(capsys, "export", str(tmp_path / "pq"), "--db", db)
    assert code == 0
    assert f"calls: {truth['legs']} rows" in out
    code, out, _ = run(capsys, "calls", "--parquet", str(tmp_path / "pq"), "--csv")
    assert len(list(csv.DictReader(io.StringIO(out)))) == truth["legs"]

    other = str(tmp_path / "other.duckdb")
    code, out, _ = run(capsys, "compact", str(tmp_path / "pq"), "--db", other)
    assert code == 0
    assert f"samples: {truth['samples']} inserted" in out
    code, out, _ = run(capsys, "compact", str(tmp_path / "pq"), "--db", other)
    assert "samples: 0 inserted" in out

    code, out, _ = run(capsys, "migrate", "--db", db)
    assert code == 0
    assert "up to date" in out
    code, out, _ = run(capsys, "migrate", "--db", str(tmp_path / "new.duckdb"))
    assert "migrated from schema version 0" in out

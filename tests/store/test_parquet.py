"""Parquet: export, read-only datasets, live segments, compaction; values survive."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import voiceinsights as vi
from tests.store.strategies import rows
from tests.store.test_bulk import envelopes
from voiceinsights import ReadOnlyStoreError
from voiceinsights.schema import get_table
from voiceinsights.store import write_segment

T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
ROUND_TRIP_TABLES = ["samples", "call_events", "insights_summaries", "probe_runs", "rejected"]


def _sorted(df: pd.DataFrame, table: str) -> pd.DataFrame:
    key = list(get_table(table).key)
    return df.sort_values(key, key=lambda s: s.astype(str)).reset_index(drop=True)


def _frames_equal(a: pd.DataFrame, b: pd.DataFrame, table: str) -> None:
    a, b = _sorted(a, table), _sorted(b, table)
    assert list(a.columns) == list(b.columns)
    for col in a.columns:
        left, right = a[col].tolist(), b[col].tolist()
        norm = [[None if _na(v) else (list(v) if hasattr(v, "tolist") else v) for v in x]
                for x in (left, right)]  # fmt: skip
        assert norm[0] == norm[1], col


def _na(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _round_trip(table: str, data: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with vi.open(root / "a.duckdb") as a:
            a.write_rows(table, data, source="test")
            expected = a.table(table)
            assert len(expected) == len(data)
            a.export_parquet(root / "export")
        with vi.open_parquet(root / "export") as p:
            _frames_equal(p.table(table), expected, table)
        with vi.open(root / "b.duckdb") as b:
            b.compact_from(root / "export")
            _frames_equal(b.table(table), expected, table)
            # Compacting again adds nothing.
            assert all(r.inserted == 0 for r in b.compact_from(root / "export").values())


def _make_test(table: str) -> Any:
    @settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=rows(get_table(table)))
    def test(data: list[dict[str, Any]]) -> None:
        _round_trip(table, data)

    test.__name__ = f"test_round_trip_preserves_every_value_{table}"
    return test


for _t in ROUND_TRIP_TABLES:
    globals()[f"test_round_trip_preserves_every_value_{_t}"] = _make_test(_t)


def test_export_layout_is_hive_partitioned_by_date(db_path: Path, tmp_path: Path) -> None:
    with vi.open(db_path) as store:
        store.write_rows("samples", [
            {"call_sid": "CA1", "timestamp": T0},
            {"call_sid": "CA1", "timestamp": T0 + dt.timedelta(days=1)},
        ])  # fmt: skip
        store.write_rows("call_events", [{"call_sid": "CA1", "callback_source": "x",
                                          "sequence_number": 0, "call_status": "completed",
                                          "timestamp": T0}])  # fmt: skip
        counts = store.export_parquet(tmp_path / "out")
        assert counts["samples"] == 2
        assert counts["calls"] == 1
        # Exporting twice replaces the previous export instead of adding to it.
        store.export_parquet(tmp_path / "out")
    files = sorted(p.relative_to(tmp_path / "out").parts[:2]
                   for p in (tmp_path / "out").rglob("*.parquet"))  # fmt: skip
    assert ("samples", "date=2024-05-01") in files
    assert ("samples", "date=2024-05-02") in files
    assert ("calls", "date=2024-05-01") in files
    assert len([f for f in files if f[0] == "samples"]) == 2
    # Other engines read the same files: plain pyarrow sees every schema column.
    one = next((tmp_path / "out" / "samples").rglob("*.parquet"))
    assert pq.read_schema(one).names == list(get_table("samples").column_names)


def test_segments_from_several_writers_are_deduplicated(tmp_path: Path) -> None:
    root = tmp_path / "live"
    row = {"call_sid": "CA1", "timestamp": T0, "jitter_ms": 3.0}
    paths = write_segment(root, "samples", [row])
    assert len(paths) == 1
    assert paths[0].exists()
    assert paths[0].suffix == ".parquet"
    write_segment(root, "samples", [row, {**row, "timestamp": T0 + dt.timedelta(seconds=1)}])
    assert not list(root.rglob("*.tmp"))
    with vi.open_parquet(root) as live:
        assert len(live.samples()) == 2
        # New segments are visible without reopening.
        write_segment(root, "samples", [{**row, "timestamp": T0 + dt.timedelta(seconds=2)}])
        assert len(live.samples()) == 3
        assert live.calls().empty


def test_open_parquet_applies_the_merge_rules(tmp_path: Path) -> None:
    root = tmp_path / "live"
    base = {"call_sid": "CA1", "status": "ringing", "date_updated": T0}
    write_segment(root, "rest_calls", [{**base, "status": "completed",
                                        "date_updated": T0 + dt.timedelta(minutes=5)}])  # fmt: skip
    write_segment(root, "rest_calls", [base])
    write_segment(root, "insights_summaries", [{"call_sid": "CA1", "processing_state": "complete",
                                                "duration_s": 9.0}])  # fmt: skip
    write_segment(root, "insights_summaries", [{"call_sid": "CA1", "processing_state": "partial",
                                                "duration_s": 1.0}])  # fmt: skip
    with vi.open_parquet(root) as live:
        assert live.rest_calls()["status"].tolist() == ["completed"]
        assert live.summaries()["duration_s"].tolist() == [9.0]
        assert live.calls()["status"].tolist() == ["completed"]


def test_parquet_store_is_read_only(tmp_path: Path) -> None:
    write_segment(tmp_path, "feedback", [{"call_sid": "CA1", "score": 4}])
    with vi.open_parquet(tmp_path) as p:
        with pytest.raises(ReadOnlyStoreError, match="read-only"):
            p.write_rows("feedback", [{"call_sid": "CA2"}])
        with pytest.raises(ReadOnlyStoreError):
            p.ingest([tmp_path])
        assert p.feedback()["score"].tolist() == [4]
        df = p.sql("SELECT count(*) AS n FROM feedback WHERE call_sid = ?", ["CA1"])
        assert df["n"].tolist() == [1]


def test_compact_from_folds_segments_idempotently(tmp_path: Path, db_path: Path) -> None:
    root = tmp_path / "live"
    write_segment(root, "samples", [{"call_sid": "CA1", "timestamp": T0}])
    write_segment(root, "samples", [{"call_sid": "CA1", "timestamp": T0}])  # a retry
    write_segment(root, "warnings", [{"call_sid": "CA1", "name": "high-rtt", "event": "raised",
                                      "timestamp": T0}])  # fmt: skip
    with vi.open(db_path) as store:
        first = store.compact_from(root)
        assert first["samples"].inserted == 1
        assert first["warnings"].inserted == 1
        assert store.compact_from(root, delete=True)["samples"].inserted == 0
        assert len(store.samples()) == 1
    assert not list(root.rglob("*.parquet"))


def test_open_parquet_needs_a_directory(tmp_path: Path) -> None:
    with pytest.raises(vi.StoreError, match="not a directory"):
        vi.open_parquet(tmp_path / "nope")


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=st.lists(envelopes(), min_size=1, max_size=10))
def test_model_rows_survive_store_parquet_store(records: list[dict[str, Any]]) -> None:
    """Wire model -> store -> Parquet -> store keeps every value, extras included."""
    from voiceinsights.models import parse_record

    expected: dict[tuple[Any, Any], dict[str, Any]] = {}
    for record in records:
        try:
            rows = parse_record(record, source="wire", received_at=T0)
        except vi.ValidationError:
            continue
        for table, row in rows:
            if table == "samples":
                expected.setdefault((row["call_sid"], row["timestamp"]), row)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with vi.open(root / "a.duckdb") as a:
            a.write_rows("samples", list(expected.values()))
            a.export_parquet(root / "pq")
        with vi.open(root / "b.duckdb") as b:
            b.compact_from(root / "pq")
            got = b.relation("samples").to_arrow_table().to_pylist()
    assert len(got) == len(expected)
    for row in got:
        assert row == expected[(row["call_sid"], row["timestamp"])]

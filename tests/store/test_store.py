"""The DuckDB store: idempotent writes, merge rules, the calls view, accessors, cursors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

import voiceinsights as vi
from voiceinsights import ReadOnlyStoreError, StoreError

T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


def cb(sid: str, seq: int, status: str, **extra: object) -> dict[str, object]:
    row: dict[str, object] = {
        "call_sid": sid,
        "callback_source": "call-progress-events",
        "sequence_number": seq,
        "call_status": status,
        "timestamp": T0 + dt.timedelta(seconds=seq),
    }
    row.update(extra)
    return row


def test_default_path_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICEINSIGHTS_DB", str(tmp_path / "env.duckdb"))
    with vi.open() as store:
        assert store.path == str(tmp_path / "env.duckdb")
    assert (tmp_path / "env.duckdb").exists()
    monkeypatch.delenv("VOICEINSIGHTS_DB")
    monkeypatch.chdir(tmp_path)
    with vi.open() as store:
        assert Path(store.path).name == "voiceinsights.duckdb"
    assert (tmp_path / "voiceinsights.duckdb").exists()


def test_write_rows_is_idempotent_on_the_natural_key(db_path: Path) -> None:
    with vi.open(db_path) as store:
        first = store.write_rows(
            "call_events", [cb("CA1", 0, "initiated"), cb("CA1", 1, "ringing")]
        )
        assert (first.inserted, first.duplicates) == (2, 0)
        # The same delivery again, and a duplicate inside one batch: nothing new.
        again = store.write_rows("call_events", [cb("CA1", 1, "ringing"), cb("CA1", 1, "ringing")])
        assert (again.inserted, again.duplicates) == (0, 2)
        assert len(store.events()) == 2
    # Reopening the file keeps the rows.
    with vi.open(db_path) as store:
        assert store.events()["sequence_number"].tolist() == [0, 1]


def test_out_of_order_and_duplicate_callbacks_end_in_the_final_state(db_path: Path) -> None:
    deliveries = [
        cb("CA1", 3, "completed", call_duration_s=42.0),
        cb("CA1", 0, "initiated", direction="outbound-api", from_address="+15550001"),
        cb("CA1", 2, "in-progress"),
        cb("CA1", 3, "completed", call_duration_s=42.0),
        cb("CA1", 1, "ringing"),
    ]
    with vi.open(db_path) as store:
        for d in deliveries:  # one by one, as webhooks arrive
            store.write_rows("call_events", [d])
        calls = store.calls()
    assert len(calls) == 1
    leg = calls.iloc[0]
    assert leg["status"] == "completed"
    assert leg["duration_s"] == 42.0
    assert leg["direction"] == "outbound-api"
    assert leg["start_time"] == T0
    assert leg["end_time"] == T0 + dt.timedelta(seconds=3)
    assert list(leg["sources"]) == ["callbacks"]


def test_a_terminal_status_outranks_a_later_non_terminal_sequence(db_path: Path) -> None:
    # A leg canceled at sequence 1 and a stray ringing event numbered later (seen with
    # separate callback subscriptions): the terminal status is the leg's final state.
    with vi.open(db_path) as store:
        store.write_rows("call_events", [cb("CA2", 2, "ringing"), cb("CA2", 1, "canceled")])
        assert store.calls()["status"].tolist() == ["canceled"]


def test_rest_beats_summary_beats_callbacks_and_one_row_per_leg(db_path: Path) -> None:
    with vi.open(db_path) as store:
        store.write_rows(
            "call_events",
            [cb("CA1", 0, "initiated", from_address="cb-from"), cb("CA1", 1, "completed")],
        )
        assert store.calls()["from_address"].tolist() == ["cb-from"]
        store.write_rows(
            "insights_summaries",
            [{"call_sid": "CA1", "call_state": "completed", "from_address": "sum-from",
              "call_type": "client", "processing_state": "complete"}],
        )  # fmt: skip
        assert store.calls()["from_address"].tolist() == ["sum-from"]
        store.write_rows(
            "rest_calls",
            [{"call_sid": "CA1", "status": "completed", "from_address": "rest-from",
              "parent_call_sid": "CA0", "price": -0.01, "date_updated": T0}],
        )  # fmt: skip
        calls = store.calls()
    assert len(calls) == 1
    leg = calls.iloc[0]
    assert leg["from_address"] == "rest-from"
    assert leg["parent_call_sid"] == "CA0"
    assert leg["call_type"] == "client"
    assert leg["price"] == -0.01
    assert sorted(leg["sources"]) == ["callbacks", "rest", "summary"]


def test_rest_calls_keep_the_newest_date_updated(db_path: Path) -> None:
    def rest(status: str, minutes: int) -> dict[str, object]:
        return {"call_sid": "CA9", "status": status,
                "date_updated": T0 + dt.timedelta(minutes=minutes)}  # fmt: skip

    with vi.open(db_path) as store:
        r = store.write_rows("rest_calls", [rest("in-progress", 1), rest("ringing", 0)])
        assert (r.inserted, r.duplicates) == (1, 1)
        assert store.rest_calls()["status"].tolist() == ["in-progress"]
        older = store.write_rows("rest_calls", [rest("queued", -5)])
        assert (older.inserted, older.updated, older.duplicates) == (0, 0, 1)
        newer = store.write_rows("rest_calls", [rest("completed", 9)])
        assert (newer.inserted, newer.updated) == (0, 1)
        assert store.rest_calls()["status"].tolist() == ["completed"]
        assert store.calls()["status"].tolist() == ["completed"]


def test_summaries_prefer_complete_over_partial(db_path: Path) -> None:
    def summary(state: str, duration: float) -> dict[str, object]:
        return {"call_sid": "CA5", "processing_state": state, "duration_s": duration}

    with vi.open(db_path) as store:
        store.write_rows("insights_summaries", [summary("partial", 1.0)])
        assert store.write_rows("insights_summaries", [summary("complete", 2.0)]).updated == 1
        late_partial = store.write_rows("insights_summaries", [summary("partial", 3.0)])
        assert (late_partial.updated, late_partial.duplicates) == (0, 1)
        got = store.summaries()
    assert got["processing_state"].tolist() == ["complete"]
    assert got["duration_s"].tolist() == [2.0]


def test_samples_filters_are_bound_parameters(db_path: Path) -> None:
    rows = [
        {"call_sid": sid, "timestamp": T0 + dt.timedelta(seconds=i), "jitter_ms": float(i)}
        for sid in ("CA1", "CA2")
        for i in range(10)
    ]
    with vi.open(db_path) as store:
        store.write_rows("samples", rows)
        one = store.samples(call_sid="CA1", since=T0 + dt.timedelta(seconds=2),
                            until="2024-05-01T12:00:05Z")  # fmt: skip
        assert one["jitter_ms"].tolist() == [2.0, 3.0, 4.0]
        # A hostile value is only ever a value.
        assert store.samples(call_sid="CA1' OR '1'='1").empty
        assert len(store.samples()) == 20
        df = store.sql("SELECT count(*) AS n FROM samples WHERE call_sid = ?", ["CA2"])
        assert df["n"].tolist() == [10]
        with pytest.raises(StoreError, match="query failed"):
            store.sql("SELECT * FROM no_such_table")


def test_accessors_return_schema_columns_with_utc_timestamps(db_path: Path) -> None:
    with vi.open(db_path) as store:
        store.write_rows("samples", [{"call_sid": "CA1", "timestamp": T0}])
        for name in ("calls", "events", "samples", "warnings", "feedback", "probes",
                     "probe_samples", "conference_events", "recordings", "summaries",
                     "insights_events", "insights_metrics", "rejected", "conferences",
                     "participants", "rest_calls", "cloudevents"):  # fmt: skip
            df = getattr(store, name)()
            assert isinstance(df, pd.DataFrame)
        samples = store.samples()
    assert list(samples.columns) == list(vi.schema.get_table("samples").column_names)
    assert str(samples["timestamp"].dtype) == "datetime64[us, UTC]"
    assert samples["received_at"].notna().all()  # filled on write


def test_unknown_columns_and_views_are_refused(db_path: Path) -> None:
    with vi.open(db_path) as store:
        with pytest.raises(vi.ValidationError, match="not in the schema"):
            store.write_rows("samples", [{"call_sid": "CA1", "bogus": 1}])
        with pytest.raises(StoreError, match="view"):
            store.write_rows("calls", [{"call_sid": "CA1"}])
        with pytest.raises(KeyError):
            store.write_rows("nope", [])


def test_read_only_store_refuses_writes(db_path: Path) -> None:
    vi.open(db_path).close()
    with vi.open(db_path, read_only=True) as store:
        with pytest.raises(ReadOnlyStoreError):
            store.write_rows("samples", [{"call_sid": "CA1", "timestamp": T0}])
        assert store.samples().empty
    with pytest.raises(StoreError, match="no store"):
        vi.open(db_path.parent / "missing.duckdb", read_only=True)


def test_cursors_persist(db_path: Path) -> None:
    with vi.open(db_path) as store:
        assert store.get_cursor("calls") is None
        store.set_cursor("calls", "2024-05-01T00:00:00Z")
        store.set_cursor("calls", "2024-05-02T00:00:00Z")
        assert store.get_cursor("calls") == "2024-05-02T00:00:00Z"
    with vi.open(db_path) as store:
        assert store.get_cursor("calls") == "2024-05-02T00:00:00Z"


def test_one_store_shared_by_threads(db_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def work(worker: int) -> int:
        for i in range(15):
            row = {"call_sid": f"CA{worker}", "timestamp": T0 + dt.timedelta(seconds=i)}
            store.write_rows("samples", [row])
            store.samples(call_sid=f"CA{worker}")
        return len(store.samples(call_sid=f"CA{worker}"))

    with vi.open(db_path) as store, ThreadPoolExecutor(4) as pool:
        assert list(pool.map(work, range(4))) == [15, 15, 15, 15]
        assert len(store.samples()) == 60

"""File ingest: every format, kind detection, idempotency, and bad input kept with reasons."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

import voiceinsights as vi
from tests.conftest import FIXTURES
from voiceinsights import IngestError
from voiceinsights.store import write_segment

SAMPLE = {
    "type": "sample",
    "call_sid": "CA0001",
    "data": {"timestamp": 1714557600000, "jitter": 3.5, "rtt": 40, "mos": 4.3,
             "packetsLostFraction": 0, "codecName": "opus"},
}  # fmt: skip
CALLBACK = {
    "CallSid": "CA0002", "AccountSid": "AC1", "CallStatus": "completed", "SequenceNumber": "2",
    "Timestamp": "Wed, 01 May 2024 10:00:05 +0000", "CallbackSource": "call-progress-events",
    "Direction": "inbound", "From": "+15550001", "To": "client:alice", "CallDuration": "5",
    "Called": "client:alice",
}  # fmt: skip


def _ground_truth_legs() -> list[dict[str, Any]]:
    truth = json.loads((FIXTURES / "ground_truth.json").read_text())
    return [leg for call in truth["call_list"] for leg in call["legs"]]


@pytest.fixture(scope="module")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("fx") / "fixtures.duckdb"
    with vi.open(path) as store:
        first = store.ingest([FIXTURES])
        second = store.ingest([FIXTURES])
        yield store, first, second


def test_fixtures_ingest_cleanly_and_once(fixture_store: Any) -> None:
    store, first, second = fixture_store
    assert first.rejected == []
    kinds = set(first.kinds)
    assert {"call-status", "sdk-sample", "sdk-warning", "rest-call", "insights-summary",
            "cloudevent", "preflight-report"} <= kinds  # fmt: skip
    assert first.inserted > 0
    # Re-ingesting the same files adds nothing.
    assert second.inserted == 0
    assert second.duplicates == first.inserted + first.duplicates
    truth = json.loads((FIXTURES / "ground_truth.json").read_text())["counts"]
    counts = store.counts()
    assert counts["samples"] == truth["samples"]
    assert counts["warnings"] == truth["warnings"]
    assert counts["rest_calls"] == truth["rest_calls"]


def test_calls_view_matches_the_ground_truth(fixture_store: Any) -> None:
    store, _, _ = fixture_store
    calls = store.calls().set_index("call_sid")
    legs = _ground_truth_legs()
    assert len(calls) == len(legs)  # one row per leg, whichever sources know it
    for leg in legs:
        row = calls.loc[leg["sid"]]
        parent = row["parent_call_sid"]
        assert (None if parent != parent else parent) == leg["parent_call_sid"], leg["sid"]
        assert row["direction"] == leg["direction"], leg["sid"]


def test_out_of_order_callbacks_reach_each_legs_final_status(tmp_path: Path) -> None:
    # Only the status callbacks (duplicated and out of order as delivered), nothing else.
    with vi.open(tmp_path / "cb.duckdb") as store:
        report = store.ingest([FIXTURES / "callbacks.jsonl", FIXTURES / "callbacks.csv"])
        assert report.rejected == []
        calls = store.calls().set_index("call_sid")
    for leg in _ground_truth_legs():
        if leg["callbacks"]:
            assert calls.loc[leg["sid"], "status"] == leg["status"], leg["sid"]


def test_bad_records_are_kept_with_file_line_and_field(tmp_path: Path, db_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    bad_type = {**SAMPLE, "data": {**SAMPLE["data"], "jitter": "very high"}}
    lines = [
        json.dumps(SAMPLE),  # 1 good
        '{"type": "sample", "call_sid": ',  # 2 malformed JSON
        json.dumps({"hello": "world"}),  # 3 unknown kind
        json.dumps(bad_type),  # 4 wrong type
        json.dumps(CALLBACK),  # 5 good, another kind
        "",  # 6 blank: ignored
    ]
    path.write_text("\n".join(lines) + "\n")
    with vi.open(db_path) as store:
        report = store.ingest(path)
        assert len(store.samples()) == 1
        assert store.events()["call_sid"].tolist() == ["CA0002"]
        by_line = {r.line: r for r in report.rejected}
        assert sorted(by_line) == [2, 3, 4]
        assert all(r.source == str(path) for r in report.rejected)
        assert "malformed JSON" in by_line[2].reason
        assert "kind" in by_line[3].reason
        assert by_line[4].field == "data.jitter"
        assert by_line[4].kind == "sdk-sample"
        text = str(report)
        assert f"{path}:4" in text
        assert "data.jitter" in text
        stored = store.rejected().set_index("line")
        assert sorted(stored.index.tolist()) == [2, 3, 4]
        assert stored.loc[4, "field"] == "data.jitter"
        assert json.loads(stored.loc[4, "raw"])["data"]["jitter"] == "very high"
        # Ingesting the same file again stores no second copy of anything.
        again = store.ingest(path)
        assert again.inserted == 0
        assert len(store.rejected()) == 3


def test_a_json_lines_file_of_cloudevent_deliveries(tmp_path: Path, db_path: Path) -> None:
    events = json.loads((FIXTURES / "cloudevents.json").read_text())[:4]
    path = tmp_path / "deliveries.jsonl"
    path.write_text(json.dumps(events[:2]) + "\n" + json.dumps(events[2:]) + "\n")
    with vi.open(db_path) as store:
        report = store.ingest(path)
        assert report.rejected == []
        assert report.kinds["cloudevent"].records == 4
        assert len(store.cloudevents()) == 4


def test_csv_callbacks(tmp_path: Path, db_path: Path) -> None:
    path = tmp_path / "callbacks.csv"
    rows = [
        {**CALLBACK, "SequenceNumber": "2", "CallStatus": "completed"},
        {**CALLBACK, "SequenceNumber": "0", "CallStatus": "ringing", "CallDuration": ""},
        {**CALLBACK, "SequenceNumber": "x", "CallStatus": "ringing"},
        {**CALLBACK, "SequenceNumber": "1", "CallStatus": "in-progress", "CallDuration": ""},
    ]
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(CALLBACK))
        writer.writeheader()
        writer.writerows(rows)
    with vi.open(db_path) as store:
        report = store.ingest(path)
        assert [(r.line, r.field) for r in report.rejected] == [(4, "SequenceNumber")]
        events = store.events()
        assert events["sequence_number"].tolist() == [0, 1, 2]
        assert json.loads(events["extra"].iloc[0]) == {"Called": "client:alice"}
        assert store.calls()["status"].tolist() == ["completed"]


def test_json_pages_cloudevents_and_gzip(tmp_path: Path, db_path: Path) -> None:
    rest_page = {"calls": [{"sid": "CA0003", "status": "busy", "date_created":
                            "Wed, 01 May 2024 10:00:00 +0000", "uri": "/x"}],
                 "page": 0, "next_page_uri": None}  # fmt: skip
    (tmp_path / "rest.json").write_text(json.dumps(rest_page))
    cloudevents = json.loads((FIXTURES / "cloudevents.json").read_text())[:3]
    (tmp_path / "events.json").write_text(json.dumps(cloudevents))
    with gzip.open(tmp_path / "sdk.jsonl.gz", "wt") as fh:
        fh.write(json.dumps(SAMPLE) + "\n")
    (tmp_path / "notes.txt").write_text("not data")  # skipped in a directory
    with vi.open(db_path) as store:
        report = store.ingest([tmp_path])
        assert report.rejected == []
        assert report.kinds["rest-call"].inserted == 1
        assert report.kinds["cloudevent"].records == 3
        assert report.kinds["sdk-sample"].inserted == 1
        assert len(store.cloudevents()) == 3
        assert store.calls("CA0003")["status"].tolist() == ["busy"]


def test_parquet_canonical_and_raw(tmp_path: Path, db_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    seg = write_segment(tmp_path / "segs", "feedback", [{"call_sid": "CA9", "score": 2}])
    pq.write_table(pa.Table.from_pylist([CALLBACK]), tmp_path / "raw.parquet")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 this is not parquet")
    with vi.open(db_path) as store:
        report = store.ingest([*seg, tmp_path / "raw.parquet", tmp_path / "broken.parquet"])
        assert store.feedback()["score"].tolist() == [2]
        assert store.events()["call_sid"].tolist() == ["CA0002"]
        assert [r.source for r in report.rejected] == [str(tmp_path / "broken.parquet")]
        assert "Parquet" in report.rejected[0].reason


def test_missing_paths_and_unknown_kinds_fail_before_anything_is_read(
    tmp_path: Path, db_path: Path
) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(SAMPLE) + "\n")
    with vi.open(db_path) as store:
        with pytest.raises(IngestError, match=r"nope\.jsonl"):
            store.ingest([good, tmp_path / "nope.jsonl"])
        with pytest.raises(IngestError, match="unknown kind"):
            store.ingest([good], kind="sdk-everything")
        assert store.samples().empty


def test_unknown_file_types_and_corrupt_gzip_are_reported(tmp_path: Path, db_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.jsonl.gz").write_bytes(b"\x1f\x8b not really gzip")
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(SAMPLE) + "\n")
    with vi.open(db_path) as store:
        report = store.ingest([tmp_path / "notes.txt", tmp_path / "broken.jsonl.gz", good])
        assert len(store.samples()) == 1
    reasons = {Path(r.source).name: r.reason for r in report.rejected}
    assert "unknown file type" in reasons["notes.txt"]
    assert "cannot read" in reasons["broken.jsonl.gz"]


def test_a_malformed_json_document_names_the_line(tmp_path: Path, db_path: Path) -> None:
    path = tmp_path / "page.json"
    path.write_text('{\n  "calls": [\n    {"sid": "CA1",,}\n  ]\n}\n')
    with vi.open(db_path) as store:
        report = store.ingest(path)
    assert [(r.source, r.line) for r in report.rejected] == [(str(path), 3)]


def test_ingest_records_is_idempotent_for_retried_deliveries(db_path: Path) -> None:
    with vi.open(db_path) as store:
        first = store.ingest_records([CALLBACK, SAMPLE], source="collector:/callbacks")
        retry = store.ingest_records([CALLBACK, SAMPLE], source="collector:/callbacks")
        assert first.inserted == 2
        assert retry.inserted == 0
        assert retry.duplicates == 2
        bad = store.ingest_records([{"CallSid": "CA1"}], source="collector:/callbacks")
        assert len(bad.rejected) == 1
        assert bad.rejected[0].line == 1
        assert store.events()["ingest_source"].tolist() == ["collector:/callbacks"]


def test_report_renders(db_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(SAMPLE) + "\n{oops\n")
    with vi.open(db_path) as store:
        report = store.ingest(path, progress=False)
    assert "sdk-sample" in str(report)
    assert "1 rejected" in str(report)
    assert "rejected=1" in repr(report)
    assert "<table>" in report._repr_html_()
    assert "oops" not in report._repr_html_()
    assert report.to_dict()["rejected"][0]["line"] == 2

"""The background writer: spool lines -> canonical rows -> Parquet, checkpoints, orphans."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

import voiceinsights
from voiceinsights.collector import Metrics, SegmentWriter, Spool, records_to_rows
from voiceinsights.collector._spool import read_checkpoint
from voiceinsights.collector._writer import encode_form, encode_record

NOW = datetime(2026, 11, 21, 10, 0, 5, tzinfo=UTC)


def _form(sid: str, status: str = "completed") -> dict[str, str]:
    return {
        "CallSid": sid,
        "CallStatus": status,
        "SequenceNumber": "1",
        "Timestamp": "Sat, 21 Nov 2026 10:00:00 +0000",
    }


def test_records_that_no_longer_parse_go_to_rejected() -> None:
    line = encode_record(
        "collector:/twilio/voice/status",
        NOW,
        None,
        [("call-status", _form("CAw1")), ("call-status", _form("CAw2", "odd"))],
    )
    rows, rejected, count = records_to_rows([line])
    assert count == 2
    assert [r["call_sid"] for r in rows["call_events"]] == ["CAw1"]
    assert rows["call_events"][0]["received_at"] == NOW
    assert len(rejected) == 1
    assert rejected[0]["field"] == "CallStatus"
    assert rejected[0]["kind"] == "call-status"
    assert '"CAw2"' in rejected[0]["raw"]


def test_flush_writes_parquet_and_checkpoints(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    metrics = Metrics()
    writer = SegmentWriter(spool, tmp_path / "parquet", metrics)
    for i in range(3):
        spool.append_sync(
            encode_record(
                "collector:/twilio/voice/status", NOW, None, [("call-status", _form(f"CAf{i}"))]
            )
        )
    spool.append_sync(
        encode_record(
            "collector:/twilio/voice/status", NOW, None, [("call-status", _form("CAbad", "odd"))]
        )
    )
    assert writer.flush() == 4
    assert read_checkpoint(spool.path) == spool.committed
    assert writer.flush() == 0  # nothing new: nothing written twice
    store = voiceinsights.open_parquet(tmp_path / "parquet")
    assert sorted(store.events()["call_sid"]) == ["CAf0", "CAf1", "CAf2"]
    rejected = store.rejected()
    assert list(rejected["field"]) == ["CallStatus"]
    assert metrics.get("rows_written_total", table="call_events") == 3
    assert metrics.total("records_failed_total") == 1
    spool.close()


def test_orphaned_spool_is_replayed_from_its_checkpoint(tmp_path: Path) -> None:
    root = tmp_path / "spool"
    dead = Spool(root)
    for i in range(4):
        dead.append_sync(
            encode_record(
                "collector:/twilio/voice/status", NOW, None, [("call-status", _form(f"CAo{i}"))]
            )
        )
    # The dead process had written and checkpointed everything before it died.
    SegmentWriter(dead, tmp_path / "other", Metrics()).flush()
    dead.close()
    dead.dir.release()  # what the kernel does when the process dies

    live = Spool(root)
    writer = SegmentWriter(live, tmp_path / "parquet", Metrics())
    assert writer.adopt_orphans() == 0  # everything was checkpointed already
    assert not dead.path.exists()

    dead2 = Spool(root)
    for i in range(4, 7):
        dead2.append_sync(
            encode_record(
                "collector:/twilio/voice/status", NOW, None, [("call-status", _form(f"CAo{i}"))]
            )
        )
    dead2.close()
    dead2.dir.release()
    assert writer.adopt_orphans() == 3
    assert not dead2.path.exists()
    assert live.path.exists()  # a live spool is never adopted
    sids = sorted(voiceinsights.open_parquet(tmp_path / "parquet").events()["call_sid"])
    assert sids == ["CAo4", "CAo5", "CAo6"]
    live.close()


def test_writer_uses_rows_handed_off_and_parses_the_rest(tmp_path: Path) -> None:
    from voiceinsights.models import parse_record

    spool = Spool(tmp_path / "spool")
    writer = SegmentWriter(spool, tmp_path / "parquet", Metrics())
    form = _form("CAh1")
    line = encode_record("collector:/twilio/voice/status", NOW, None, [("call-status", form)])
    rows = parse_record(
        form, kind="call-status", source="collector:/twilio/voice/status", received_at=NOW
    )
    # What the writer would parse from the line is exactly what the collector hands off.
    assert records_to_rows([line])[0] == {"call_events": [rows[0][1]]}
    # A marked hand-off proves the writer took it instead of parsing the line again.
    marked = [("call_events", {**rows[0][1], "caller_name": "from-handoff"})]
    spool.append_sync(line, handoff=(1, marked))
    spool.append_sync(
        encode_record("collector:/twilio/voice/status", NOW, None, [("call-status", _form("CAh2"))])
    )  # no hand-off
    assert writer.flush() == 2
    df = voiceinsights.open_parquet(tmp_path / "parquet").events().set_index("call_sid")
    assert df.loc["CAh1", "caller_name"] == "from-handoff"
    assert pd.isna(df.loc["CAh2", "caller_name"])
    assert spool.take_handoff(spool.committed) is None  # nothing left behind
    spool.close()


def test_parse_form_is_strict() -> None:
    from voiceinsights.collector._app import parse_form

    assert parse_form("a=1&b=x+y&c=%E2%82%AC&&d=") == [
        ("a", "1"),
        ("b", "x y"),
        ("c", "€"),
        ("d", ""),
    ]
    with pytest.raises(ValueError, match="no '='"):
        parse_form("a=1&b")
    with pytest.raises(UnicodeDecodeError):
        parse_form("a=%FF")


def test_form_bodies_spooled_raw_replay_to_the_same_rows() -> None:
    from urllib.parse import urlencode

    from voiceinsights.collector._form import form_record, parse_form

    fields = [
        *_form("CAraw1").items(),
        ("Called", "+1 (415) 555-0100"),
        ("SipHeader_X", "a"),
        ("SipHeader_X", "b&c=d"),  # repeated: kept as a list, escapes decoded
        ("Note", 'caf\u00e9 "q" \\'),
    ]
    body = urlencode(fields)
    record = form_record(parse_form(body))
    assert record["SipHeader_X"] == ["a", "b&c=d"]
    endpoint = "collector:/twilio/voice/status"
    raw_line = encode_form(endpoint, NOW, "call-status", body)
    assert body in raw_line.decode()  # the body as received, not re-encoded fields
    odd = 'k=caf\u00e9+"\\\n\u2028'  # not form-escaped: still valid JSON, kept exactly
    doc = {"e": endpoint, "t": NOW.isoformat(), "i": None, "f": ["call-status", odd]}
    assert json.loads(encode_form(endpoint, NOW, "call-status", odd)) == doc
    from_raw = records_to_rows([raw_line])
    from_record = records_to_rows([encode_record(endpoint, NOW, None, [("call-status", record)])])
    assert from_raw == from_record
    assert from_raw[2] == 1
    row = from_raw[0]["call_events"][0]
    assert row["call_sid"] == "CAraw1"
    assert '"SipHeader_X":["a","b&c=d"]' in row["extra"]
    # A body that no longer parses as a record is kept in rejected, not dropped.
    bad = encode_form(endpoint, NOW, "call-status", urlencode([("CallSid", "CAraw2")]))
    rows, rejected, count = records_to_rows([bad])
    assert (rows, count) == ({}, 1)
    assert rejected[0]["field"] == "CallStatus"

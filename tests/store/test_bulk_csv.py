"""The CSV bulk path agrees with parse_record, row for row."""

from __future__ import annotations

import csv
import datetime as dt
import io
from email.utils import format_datetime
from typing import Any

import duckdb
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import voiceinsights as vi
from voiceinsights.models import parse_record
from voiceinsights.store._bulk import line_blocks
from voiceinsights.store._bulk_csv import map_callbacks, parse_block, read_header

SOURCE = "callbacks.csv"
_ascii = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=10)
_odd_text = st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=6)
_times = st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2090, 1, 1)).map(
    lambda t: format_datetime(t.replace(microsecond=0, tzinfo=dt.UTC))
)


def _value(draw: st.DrawFn, odd: bool, normal: Any, weird: Any) -> str:
    return str(draw(st.one_of(normal, weird) if odd else normal))


@st.composite
def callback_files(draw: st.DrawFn) -> tuple[list[str], list[dict[str, str]]]:
    optional = ["ParentCallSid", "AccountSid", "CallbackSource", "SequenceNumber", "Timestamp",
                "Direction", "From", "To", "CallDuration", "Duration", "SipResponseCode",
                "SipCallId", "AnsweredBy", "RecordingSid", "RecordingDuration"]  # fmt: skip
    extras = draw(st.lists(st.sampled_from(["Called", "ApiVersion", "FromCity",
                                            "SipHeader_X-Tenant", "CallToken"]),
                           unique=True, max_size=3))  # fmt: skip
    header = ["CallSid", "CallStatus", *draw(st.lists(st.sampled_from(optional), unique=True)),
              *extras]  # fmt: skip
    rows = []
    for _ in range(draw(st.integers(1, 12))):
        odd = draw(st.integers(0, 3)) == 0
        row = {
            "CallSid": _value(draw, odd, st.just("CA" + "f" * 32), st.sampled_from(["", "C"])),
            "CallStatus": _value(draw, odd, st.sampled_from(["ringing", "completed", "busy"]),
                                 st.sampled_from(["", "Ringing"])),
            "ParentCallSid": draw(st.sampled_from(["", "CA" + "e" * 32])),
            "AccountSid": "AC1",
            "CallbackSource": draw(st.sampled_from(["", "call-progress-events"])),
            "SequenceNumber": _value(draw, odd, st.integers(0, 10**6),
                                     st.sampled_from(["", "-1", "01", "1.0", " 3", "x"])),
            "Timestamp": _value(draw, odd, _times, st.sampled_from(
                ["", "2024-01-01T00:00:00Z", "Mon, 31 Feb 2026 08:00:00 +0000",
                 "Mon, 2 Mar 2026 08:00:00 +0000"])),
            "Direction": _value(draw, odd, st.sampled_from(["inbound", "outbound-dial", ""]),
                                st.just("Inbound")),
            "From": draw(_ascii),
            "To": draw(st.one_of(_ascii, _odd_text)),
            "CallDuration": _value(draw, odd, st.one_of(st.integers(0, 9999), st.just("1.25")),
                                   st.sampled_from(["1e3", "-1", "nan"])),
            "Duration": _value(draw, odd, st.integers(0, 99), st.just("1.5")),
            "SipResponseCode": _value(draw, odd, st.sampled_from(["200", "486", ""]),
                                      st.sampled_from(["99", "700"])),
            "SipCallId": draw(_ascii),
            "AnsweredBy": draw(st.sampled_from(["", "human"])),
            "RecordingSid": "",
            "RecordingDuration": _value(draw, odd, st.sampled_from(["", "12", "3.5"]),
                                        st.just("-2")),
        }  # fmt: skip
        for name in extras:
            row[name] = draw(st.one_of(_ascii, _odd_text) if odd else _ascii)
        rows.append({h: row[h] for h in header})
    return header, rows


def _csv(header: list[str], rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _expected(row: dict[str, str]) -> dict[str, Any] | None:
    try:
        return parse_record(row, source=SOURCE)[0][1]
    except vi.ValidationError:
        return None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=callback_files())
def test_csv_rows_equal_parse_record_rows(data: tuple[list[str], list[dict[str, str]]]) -> None:
    header, rows = data
    payload = _csv(header, rows)
    fh = io.BytesIO(payload)
    assert read_header(fh.readline()) == header
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    seen = 0
    for first, block in line_blocks(fh):
        parsed = parse_block(header, first + 1, block)
        if parsed is None:  # quoted line breaks: handled record by record
            event("block read record by record")
            continue
        rel, leftovers = map_callbacks(conn, parsed[0], header, SOURCE, None)
        mapped = conn.sql("SELECT * FROM _vi_csv_mapped WHERE ok").to_arrow_table().to_pylist()
        event(f"rows on the SQL path: {'some' if mapped else 'none'}")
        for row in mapped:
            line = row.pop("line")
            row.pop("ok")
            expected = _expected(rows[line - 2])
            assert expected is not None, rows[line - 2]
            assert row == expected, (rows[line - 2], row, expected)
            seen += 1
        for line, record in leftovers:
            assert record == rows[line - 2]  # leftovers carry the right line
            seen += 1
        assert len(rel.to_arrow_table()) == len(mapped)
    assert seen in (0, len(rows))


def test_blocks_with_quoted_line_breaks_keep_line_numbers(tmp_path: Any) -> None:
    header = ["CallSid", "CallStatus", "SequenceNumber", "Called"]
    rows = [
        {"CallSid": "CA1", "CallStatus": "ringing", "SequenceNumber": "0", "Called": "a\nb"},
        {"CallSid": "CA1", "CallStatus": "nope", "SequenceNumber": "1", "Called": "c"},
    ]
    path = tmp_path / "multi.csv"
    path.write_bytes(_csv(header, rows))
    with vi.open(tmp_path / "s.duckdb") as store:
        report = store.ingest(path)
        assert [(r.line, r.field) for r in report.rejected] == [(4, "CallStatus")]
        assert store.events()["extra"].tolist() == ['{"Called":"a\\nb"}']

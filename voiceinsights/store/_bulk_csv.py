"""The bulk path for CSV status callbacks: Arrow batches mapped to ``call_events`` in SQL.

A CSV of call-progress callbacks (Twilio's form fields in the header) is read in blocks of
whole lines; each block is parsed by Arrow's CSV reader (every column as text) and DuckDB
maps the rows to ``call_events`` with the wire model's checks, building ``extra`` from the
columns the model does not know. Rows the SQL mapping does not take (values in unusual
formats, non-ASCII or quoted text in extras, bad values) go to
:func:`voiceinsights.models.parse_record`, so the rows are exactly the parser's and
rejections name their line and field; a test holds the two paths to that. Blocks with a
line break inside a quoted value or a malformed row are handled record by record.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Literal

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from voiceinsights.schema import get_table
from voiceinsights.store._ddl import TERMINAL_STATUSES

__all__ = ["CALLBACK_FIELDS", "callback_sql", "map_callbacks", "parse_block", "read_header"]

# Wire field -> (column, check). Checks: "str", "sid" (2+ characters), "int" (0 and up),
# "float" (0 and up), "sip" (100..699), "time" (RFC 2822 in UTC), "status", "direction".
CALLBACK_FIELDS: dict[str, tuple[str, str]] = {
    "CallSid": ("call_sid", "sid"),
    "ParentCallSid": ("parent_call_sid", "str"),
    "AccountSid": ("account_sid", "str"),
    "CallbackSource": ("callback_source", "source"),
    "SequenceNumber": ("sequence_number", "int"),
    "Timestamp": ("timestamp", "time"),
    "CallStatus": ("call_status", "status"),
    "Direction": ("direction", "direction"),
    "From": ("from_address", "str"),
    "To": ("to_address", "str"),
    "CallDuration": ("call_duration_s", "float"),
    "Duration": ("billed_duration_min", "int"),
    "SipResponseCode": ("sip_response_code", "sip"),
    "SipCallId": ("sip_call_id", "str"),
    "AnsweredBy": ("answered_by", "str"),
    "ForwardedFrom": ("forwarded_from", "str"),
    "CallerName": ("caller_name", "str"),
    "RecordingSid": ("recording_sid", "str"),
    "RecordingDuration": ("recording_duration_s", "float"),
}
_STATUSES = ("queued", "initiated", "ringing", "in-progress", *TERMINAL_STATUSES)
_DIRECTIONS = (
    "inbound", "outbound-api", "outbound-dial", "trunking-terminating", "trunking-originating",
)  # fmt: skip
_DAYS = "Mon|Tue|Wed|Thu|Fri|Sat|Sun"
_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
_RFC2822 = (
    rf"({_DAYS}), [0-3][0-9] ({_MONTHS}) [1-9][0-9]{{3}} [0-2][0-9]:[0-5][0-9]:[0-5][0-9] \+0000"
)
_INT = r"0|[1-9][0-9]{0,8}"
_FLOAT = r"(0|[1-9][0-9]{0,14})(\.[0-9]{1,15})?"
# Text kept verbatim in ``extra``: printable ASCII without quotes or backslashes, which
# Python's json.dumps and DuckDB's to_json write identically.
_PLAIN = r"[ !#-\[\]-~]*"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def callback_sql(header: list[str]) -> str:
    """SQL over ``$rows`` (the header's columns, text, plus ``line``) -> call_events rows."""
    cols: dict[str, str] = {}
    ok: list[str] = []
    for field, (column, check) in CALLBACK_FIELDS.items():
        if field not in header:
            cols[column] = "'call-progress-events'" if check == "source" else "NULL"
            if check in ("sid", "status"):
                ok.append("false")  # required by the model
            continue
        v = f"nullif({_q(field)}, '')"
        if check == "source":
            # An absent or empty CallbackSource is a call-progress callback, as in the model.
            cols[column] = f"coalesce({v}, 'call-progress-events')"
        elif check in ("str", "sid"):
            cols[column] = v
            if check == "sid":
                ok.append(f"length({v}) >= 2")
        elif check == "int":
            cols[column] = f"TRY_CAST({v} AS BIGINT)"
            ok.append(f"({v} IS NULL OR regexp_full_match({v}, '{_INT}'))")
        elif check == "float":
            cols[column] = f"TRY_CAST({v} AS DOUBLE)"
            ok.append(f"({v} IS NULL OR regexp_full_match({v}, '{_FLOAT}'))")
        elif check == "sip":
            cols[column] = f"TRY_CAST({v} AS INTEGER)"
            ok.append(f"({v} IS NULL OR regexp_full_match({v}, '[1-6][0-9][0-9]'))")
        elif check == "time":
            parsed = f"try_strptime({v}, '%a, %d %b %Y %H:%M:%S %z')"
            cols[column] = parsed
            ok.append(f"({v} IS NULL OR (regexp_full_match({v}, '{_RFC2822}') "
                      f"AND {parsed} IS NOT NULL))")  # fmt: skip
        elif check == "status":
            cols[column] = v
            ok.append(f"{v} IN {_in(_STATUSES)}")
        elif check == "direction":
            cols[column] = v
            ok.append(f"({v} IS NULL OR {v} IN {_in(_DIRECTIONS)})")
    extras = sorted(h for h in header if h not in CALLBACK_FIELDS)
    if extras:
        entries = ", ".join(f"{{'k': '{h.replace(chr(39), chr(39) * 2)}', "
                            f"'v': nullif({_q(h)}, '')}}" for h in extras)  # fmt: skip
        kept = f"list_filter([{entries}], lambda e: e.v IS NOT NULL)"
        cols["extra"] = (
            f"CASE WHEN len({kept}) = 0 THEN NULL ELSE to_json(map_from_entries({kept})) END"
        )
        ok += [f"regexp_full_match({_q(h)}, '{_PLAIN}')" for h in extras]
        ok += [f"regexp_full_match('{h.replace(chr(39), chr(39) * 2)}', '{_PLAIN}')"
               for h in extras]  # fmt: skip
    else:
        cols["extra"] = "NULL"
    cols["received_at"] = "$now"
    cols["ingest_source"] = "$source"
    table = get_table("call_events")
    select = ",\n    ".join(
        f"{cols.get(c.name, 'NULL')}::{c.type} AS {_q(c.name)}" for c in table.columns
    )
    return f"SELECT line, coalesce({' AND '.join(ok)}, false) AS ok,\n    {select}\nFROM $rows"


def parse_block(header: list[str], first_line: int, block: bytes) -> tuple[pa.Table, bool] | None:
    """Arrow rows of a CSV block (text columns and each row's line), or None when the
    block needs the record-by-record reader (a line break inside quotes, a malformed row,
    text that is not UTF-8)."""
    if not block.isascii():
        try:
            block.decode("utf-8")
        except UnicodeDecodeError:
            return None
    data = np.frombuffer(block, dtype=np.uint8)
    quotes = np.cumsum(data == ord('"'))
    newlines = np.flatnonzero(data == 10)
    if newlines.size and bool((quotes[newlines] % 2).any()):
        return None  # a quoted value spans lines
    starts = np.concatenate(([0], newlines[:-1] + 1)) if newlines.size else np.array([0])
    lengths = newlines - starts if newlines.size else np.array([len(block)])
    blank = lengths - (data[np.maximum(newlines - 1, 0)] == 13) == 0 if newlines.size else None
    line_numbers = first_line + np.arange(len(lengths))
    if blank is not None:
        line_numbers = line_numbers[~blank]
    bad: list[Any] = []

    def skip(row: Any) -> Literal["skip"]:
        bad.append(row)
        return "skip"

    options = pacsv.ReadOptions(column_names=header, use_threads=False)
    parse = pacsv.ParseOptions(invalid_row_handler=skip)
    convert = pacsv.ConvertOptions(
        column_types={h: pa.string() for h in header}, strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )  # fmt: skip
    try:
        table = pacsv.read_csv(io.BytesIO(block), read_options=options, parse_options=parse,
                               convert_options=convert)  # fmt: skip
    except (pa.ArrowInvalid, ValueError):
        return None
    if bad or table.num_rows != len(line_numbers):
        return None
    return table.append_column("line", pa.array(line_numbers, type=pa.int64())), True


def map_callbacks(
    conn: duckdb.DuckDBPyConnection,
    rows: pa.Table,
    header: list[str],
    source: str,
    now: Any,
) -> tuple[duckdb.DuckDBPyRelation, list[tuple[int, dict[str, str]]]]:
    """``call_events`` rows done in SQL, and the leftover rows as ``(line, form fields)``."""
    name = "_vi_csv_rows"
    conn.register(name, rows)
    try:
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE _vi_csv_mapped AS "
            + callback_sql(header).replace("$rows", name).replace("$now", "$2")
            .replace("$source", "$1"),
            [source, now],
        )  # fmt: skip
        left = conn.execute("SELECT line FROM _vi_csv_mapped WHERE NOT ok").fetchall()
    finally:
        conn.unregister(name)
    leftovers = []
    if left:
        wanted = {int(r[0]) for r in left}
        lines = rows.column("line").to_pylist()
        records = rows.drop_columns(["line"]).to_pylist()
        leftovers = [(ln, rec) for ln, rec in zip(lines, records, strict=True) if ln in wanted]
    cols = ", ".join(_q(c) for c in get_table("call_events").column_names)
    return conn.sql(f"SELECT {cols} FROM _vi_csv_mapped WHERE ok"), leftovers


def read_header(line: bytes) -> list[str]:
    """Field names of a CSV header line (a UTF-8 byte-order mark is dropped)."""
    text = line.decode("utf-8-sig")
    return next(csv.reader([text]))

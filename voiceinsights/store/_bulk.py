"""The bulk path for JSON Lines: blocks of lines as Arrow, mapped to rows in DuckDB SQL.

A large JSON Lines file is read in blocks of whole lines. Each block becomes an Arrow
string column without a Python loop over lines (newline offsets found with numpy), and
DuckDB maps it to canonical columns in SQL. The records the SQL mapping handles
(``sdk-sample`` envelopes, by far the largest volume) are checked there and written
without any per-record Python; every other line (other kinds, malformed JSON, wrong
types, unmodelled fields, unusual timestamp formats) goes to
:func:`voiceinsights.models.parse_record`, so rejections carry the file, line and field
and the rows are exactly those of the single-record parser (a Hypothesis test holds the
two paths to that).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import duckdb
import numpy as np
import pyarrow as pa

from voiceinsights.schema import get_table

__all__ = ["BLOCK_BYTES", "SAMPLE_SQL", "line_blocks", "lines_table", "map_samples"]

#: Bytes of JSON Lines handled per block (whole lines; a longer line makes a bigger block).
BLOCK_BYTES = 32 * 1024 * 1024

# (column, wire name, SQL type, minimum, maximum) of the SDK sample fields.
_INTS = (
    ("audio_input_level", "audioInputLevel", "INTEGER", 0, 32767),
    ("audio_output_level", "audioOutputLevel", "INTEGER", 0, 32767),
    ("bytes_received", "bytesReceived", "BIGINT", 0, None),
    ("bytes_sent", "bytesSent", "BIGINT", 0, None),
    ("packets_received", "packetsReceived", "BIGINT", 0, None),
    ("packets_sent", "packetsSent", "BIGINT", 0, None),
    ("packets_lost", "packetsLost", "BIGINT", 0, None),
)
_FLOATS = (
    ("packets_lost_pct", "packetsLostFraction", 0, 100),
    ("jitter_ms", "jitter", 0, None),
    ("rtt_ms", "rtt", 0, None),
    ("mos", "mos", 0, 5),
)
_TOTAL_INTS = (
    ("total_bytes_received", "bytesReceived"),
    ("total_bytes_sent", "bytesSent"),
    ("total_packets_received", "packetsReceived"),
    ("total_packets_sent", "packetsSent"),
    ("total_packets_lost", "packetsLost"),
)
_TOTAL_FLOAT = ("total_packets_lost_pct", "packetsLostFraction")

_ENVELOPE_KEYS = ("type", "call_sid", "data", "identity", "received_at")
_DATA_KEYS = (
    "timestamp",
    *(w for _, w, *_ in _INTS),
    *(w for _, w, *_ in _FLOATS),
    "codecName",
    "totals",
)
_TOTAL_KEYS = (*(w for _, w in _TOTAL_INTS), _TOTAL_FLOAT[1])

# An ISO 8601 instant both Python's fromisoformat and DuckDB read the same way.
_ISO = (
    r"^[1-9]\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d"
    r"(\.\d{1,6})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$"
)


def _str_list(items: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(f"'{i}'" for i in items) + "]"


def _null(ty: str) -> str:
    return f"({ty} IS NULL OR {ty} = 'NULL')"


def _build_sample_sql() -> str:
    # One parse gives the JSON type of every path, one the keys of the three objects, one
    # the typed values; type, key and range checks then run on plain columns.
    paths = [
        "$.type",
        "$.call_sid",
        "$.identity",
        "$.received_at",
        "$.data",
        "$.specversion",
        "$.data.totals",
        "$.data.codecName",
        "$.data.timestamp",
        *(f"$.data.{w}" for _, w, *_ in _INTS),
        *(f"$.data.{w}" for _, w, *_ in _FLOATS),
        *(f"$.data.totals.{w}" for _, w in _TOTAL_INTS),
        f"$.data.totals.{_TOTAL_FLOAT[1]}",
    ]
    ty = {p: f"y{i + 1}" for i, p in enumerate(paths)}
    flat_types = ", ".join(f"ty[{i + 1}] AS y{i + 1}" for i in range(len(paths)))
    structure = {
        "type": "VARCHAR",
        "call_sid": "VARCHAR",
        "identity": "VARCHAR",
        "received_at": "VARCHAR",
        "data": {
            "timestamp": "BIGINT",
            **{w: sql_type for _, w, sql_type, _, _ in _INTS},
            **{w: "DOUBLE" for _, w, _, _ in _FLOATS},
            "codecName": "VARCHAR",
            "totals": {
                **{w: "BIGINT" for _, w in _TOTAL_INTS},
                _TOTAL_FLOAT[1]: "DOUBLE",
            },
        },
    }
    import json

    struct_json = json.dumps(structure).replace("'", "''")
    ok = [
        f"{ty['$.type']} = 'VARCHAR' AND f_type = 'sample'",
        f"{ty['$.specversion']} IS NULL",
        f"{ty['$.data']} = 'OBJECT'",
        f"list_has_all({_str_list(_ENVELOPE_KEYS)}, ks[1])",
        f"list_has_all({_str_list(_DATA_KEYS)}, ks[2])",
        f"(ks[3] IS NULL OR list_has_all({_str_list(_TOTAL_KEYS)}, ks[3]))",
        f"{ty['$.call_sid']} = 'VARCHAR' AND length(call_sid) >= 2",
        f"({_null(ty['$.identity'])} OR {ty['$.identity']} = 'VARCHAR')",
        f"({_null(ty['$.received_at'])} OR ({ty['$.received_at']} = 'VARCHAR' "
        f"AND regexp_full_match(f_received_at, '{_ISO}') "
        "AND TRY_CAST(f_received_at AS TIMESTAMPTZ) IS NOT NULL))",
        f"({_null(ty['$.data.totals'])} OR {ty['$.data.totals']} = 'OBJECT')",
        f"({_null(ty['$.data.codecName'])} OR {ty['$.data.codecName']} = 'VARCHAR')",
        f"{ty['$.data.timestamp']} = 'UBIGINT'",
        "f_timestamp BETWEEN 100000000000 AND 99999999999999",
    ]

    def int_ok(path: str, value: str, lo: int | None, hi: int | None) -> str:
        checks = [f"{ty[path]} IN ('UBIGINT', 'BIGINT')", f"{value} IS NOT NULL"]
        if lo is not None:
            checks.append(f"{value} >= {lo}")
        if hi is not None:
            checks.append(f"{value} <= {hi}")
        return f"({_null(ty[path])} OR ({' AND '.join(checks)}))"

    def float_ok(path: str, value: str, lo: int | None, hi: int | None) -> str:
        checks = [f"{ty[path]} IN ('UBIGINT', 'BIGINT', 'DOUBLE')", f"{value} IS NOT NULL"]
        if lo is not None:
            checks.append(f"{value} >= {lo}")
        if hi is not None:
            checks.append(f"{value} <= {hi}")
        return f"({_null(ty[path])} OR ({' AND '.join(checks)}))"

    # Struct fields pulled out once, as plain columns.
    fields = {
        "f_type": "j.type",
        "call_sid": "j.call_sid",
        "identity": "j.identity",
        "f_received_at": "j.received_at",
        "f_timestamp": "j.data.timestamp",
        "codec_name": 'j.data."codecName"',
    }
    for c, w, _, lo, hi in _INTS:
        ok.append(int_ok(f"$.data.{w}", c, lo, hi))
        fields[c] = f'j.data."{w}"'
    for c, w, lo, hi in _FLOATS:
        ok.append(float_ok(f"$.data.{w}", c, lo, hi))
        fields[c] = f'j.data."{w}"'
    for c, w in _TOTAL_INTS:
        ok.append(int_ok(f"$.data.totals.{w}", c, 0, None))
        fields[c] = f'j.data.totals."{w}"'
    c, w = _TOTAL_FLOAT
    ok.append(float_ok(f"$.data.totals.{w}", c, 0, 100))
    fields[c] = f'j.data.totals."{w}"'
    flat_fields = ", ".join(f'{expr} AS "{name}"' for name, expr in fields.items())
    cols = {name: f'"{name}"' for name in fields}
    cols["timestamp"] = "epoch_ms(f_timestamp)::TIMESTAMPTZ"
    cols["received_at"] = "TRY_CAST(f_received_at AS TIMESTAMPTZ)"
    cols["ingest_source"] = "$source"
    cols["extra"] = "NULL"
    table = get_table("samples")
    missing = set(table.column_names) - set(cols)
    assert not missing, missing  # every samples column is mapped
    select = ",\n    ".join(f'{cols[c.name]}::{c.type} AS "{c.name}"' for c in table.columns)
    blank = "regexp_full_match(raw, '\\s*')"
    type_cols = ", ".join(f"y{i + 1}" for i in range(len(paths)))
    return f"""
WITH e AS (
    SELECT line, raw, TRY(json_type(raw, {_str_list(paths)})) AS ty
    FROM $lines WHERE NOT {blank}
), p AS (
    SELECT line, raw, {flat_types},
        CASE WHEN ty IS NOT NULL AND ty[5] = 'OBJECT'
            THEN json_keys(raw, ['$', '$.data', '$.data.totals']) END AS ks,
        CASE WHEN ty IS NOT NULL AND ty[5] = 'OBJECT'
            THEN json_transform(raw, '{struct_json}') END AS j
    FROM e
), f AS (
    SELECT line, raw, ks, j IS NOT NULL AS parsed, {type_cols},
        {flat_fields}
    FROM p
), k AS (
    SELECT *, parsed AND coalesce({" AND ".join(ok)}, false) AS ok FROM f
)
SELECT line, ok, CASE WHEN ok THEN NULL ELSE raw END AS raw,
    {select}
FROM k
"""


#: SQL mapping a table ``$lines(line, raw)`` to ``samples`` rows (``ok``) or leftovers.
SAMPLE_SQL = _build_sample_sql()


def line_blocks(fh: IO[bytes], block_bytes: int = BLOCK_BYTES) -> Iterator[tuple[int, bytes]]:
    """Yield ``(first_line_number, block)`` of whole lines (1-based line numbers)."""
    carry = b""
    line_no = 1
    while True:
        chunk = fh.read(block_bytes)
        if not chunk:
            if carry:
                yield line_no, carry + b"\n"
            return
        buf = carry + chunk if carry else chunk
        cut = buf.rfind(b"\n")
        if cut < 0:
            carry = buf
            continue
        block, carry = buf[: cut + 1], buf[cut + 1 :]
        yield line_no, block
        line_no += block.count(b"\n")


def lines_table(first_line: int, block: bytes) -> tuple[pa.Table, list[tuple[int, bytes]]]:
    """The lines of ``block`` as an Arrow table ``(line, raw)``, built without a Python loop.

    Each ``raw`` value keeps its trailing newline (JSON ignores it). Lines that are not
    valid UTF-8 are returned separately as ``(line, bytes)`` and left empty in the table.
    """
    data = np.frombuffer(block, dtype=np.uint8)
    newlines = np.flatnonzero(data == 10)
    n = len(newlines)
    offsets = np.empty(n + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = newlines + 1
    raw: Any = pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(block)
    )
    bad: list[tuple[int, bytes]] = []
    try:
        raw.validate(full=True)
    except pa.ArrowInvalid:
        values: list[str] = []
        for i in range(n):
            piece = block[offsets[i] : offsets[i + 1]]
            try:
                values.append(piece.decode("utf-8"))
            except UnicodeDecodeError:
                bad.append((first_line + i, piece))
                values.append("")
        raw = pa.array(values, type=pa.large_string())
    lines = pa.array(np.arange(first_line, first_line + n, dtype=np.int64))
    return pa.table({"line": lines, "raw": raw}), bad


def map_samples(
    conn: duckdb.DuckDBPyConnection, lines: pa.Table, source: str
) -> tuple[duckdb.DuckDBPyRelation, list[tuple[int, str]]]:
    """Map a block: a relation of the ``samples`` rows done in SQL, and leftover lines.

    Leftovers are ``(line, text)`` for :func:`voiceinsights.models.parse_record` (blank
    lines are dropped).
    """
    name = "_vi_lines"
    conn.register(name, lines)
    try:
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE _vi_mapped AS "
            + SAMPLE_SQL.replace("$lines", name).replace("$source", "$1"),
            [source],
        )
    finally:
        conn.unregister(name)
    leftovers = conn.execute(
        "SELECT line, raw FROM _vi_mapped WHERE NOT ok ORDER BY line"
    ).fetchall()
    cols = ", ".join(f'"{c}"' for c in get_table("samples").column_names)
    rel = conn.sql(f"SELECT {cols} FROM _vi_mapped WHERE ok")
    return rel, [(int(line), str(raw)) for line, raw in leftovers]

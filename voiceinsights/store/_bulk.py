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

import datetime as dt
import functools
import io
import itertools
from collections.abc import Iterator
from typing import IO, Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from voiceinsights.schema import get_table

_names = itertools.count()

__all__ = ["BLOCK_BYTES", "SAMPLE_SQL", "line_blocks", "lines_table", "map_samples", "skip_bom"]

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


# An ISO 8601 instant both Python's fromisoformat and DuckDB read the same way.
_ISO = (
    r"^[1-9]\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d"
    r"(\.\d{1,6})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$"
)


# Literal patterns of a "clean" line: the shapes the SQL mapping takes. Anything else
# (escapes in strings, numbers as strings, unknown keys, ...) goes to parse_record.
_WS = r"[ \t\r\n]*"
_STR = r'"[^"\\\x00-\x1f]*"'
_INT = r"-?(?:0|[1-9][0-9]{0,17})"  # fits BIGINT
_NUM = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"


def _member(keys: tuple[str, ...] | list[str], value: str) -> str:
    names = "|".join(keys)
    return f'"(?:{names})"{_WS}:{_WS}(?:{value}|null)'


def _object(members: list[str]) -> str:
    member = "(?:" + "|".join(members) + ")"
    return rf"\{{{_WS}(?:{member}(?:{_WS},{_WS}{member})*)?{_WS}\}}"


def _clean_line_regex() -> str:
    totals = _object([_member([w for _, w in _TOTAL_INTS], _INT), _member([_TOTAL_FLOAT[1]], _NUM)])
    data = _object(
        [
            _member(["timestamp", *(w for _, w, *_ in _INTS)], _INT),
            _member([w for _, w, *_ in _FLOATS], _NUM),
            _member(["codecName"], _STR),
            _member(["totals"], totals),
        ]
    )
    envelope = _object(
        [
            f'"type"{_WS}:{_WS}"sample"',
            _member(["call_sid", "identity", "received_at"], _STR),
            f'"data"{_WS}:{_WS}{data}',
        ]
    )
    return f"{_WS}{envelope}{_WS}"


_RECEIVED_AT = "TRY_CAST(f_received_at AS TIMESTAMPTZ)"

# No object of the line names a key twice. DuckDB's JSON reader keeps a repeated key's
# first value where JSON.parse (ECMA-262) and Python's json.loads keep the last: such
# lines go to parse_record, so every path keeps the last. (The regex cannot see repeats;
# the rebuild test can: a line with a repeated key is longer than its rebuild.) One parse
# of the line gives the keys of the three objects.
_UNIQUE_KEYS = (
    "list_bool_and([coalesce(len(list_distinct(k)) = len(k), true) "
    "FOR k IN json_keys(raw, ['$', '$.data', '$.data.totals'])])"
)
# That parse costs as much as the regex; most lines are cleared without it. In a line the
# regex passed (only modelled keys, no quote inside a string), every `":` ends a key, so
# `":` counts the keys written when no key is followed by space before its colon. Each
# key whose (first) value DuckDB read as non-null is written at least once: when the two
# counts are equal, no key is written twice (nor with a null value).
_KEYS_WRITTEN = "(length(raw) - length(replace(raw, '\":', ''))) // 2"
_SPACED_COLON = "regexp_matches(raw, '\"[ \\t\\r\\n]+:')"


def _unique_keys_sql(fields: dict[str, str]) -> str:
    """True where no object of the line names a key twice (``fields``: the flat columns)."""
    valued = " + ".join(
        [f'("{name}" IS NOT NULL)::INTEGER' for name in fields]
        + ["has_data::INTEGER", "has_totals::INTEGER"]
    )
    return (
        "CASE WHEN fast OR NOT parsed THEN true "
        f"WHEN {_KEYS_WRITTEN} = {valued} AND NOT {_SPACED_COLON} THEN true "
        f"ELSE {_UNIQUE_KEYS} END"
    )


#: The wire structure of a sample envelope: key -> SQL type, or a nested structure.
_STRUCTURE: dict[str, Any] = {
    "type": "VARCHAR",
    "call_sid": "VARCHAR",
    "identity": "VARCHAR",
    "received_at": "VARCHAR",
    "data": {
        "timestamp": "BIGINT",
        **{w: "BIGINT" for _, w, *_ in _INTS},
        **{w: "DOUBLE" for _, w, *_ in _FLOATS},
        "codecName": "VARCHAR",
        "totals": {
            **{w: "BIGINT" for _, w in _TOTAL_INTS},
            _TOTAL_FLOAT[1]: "DOUBLE",
        },
    },
}

#: The keys of one envelope as written, in order: top level, ``data``, ``data.totals``;
#: and whether the writer prints a whole-number double without a fraction (JavaScript's
#: ``JSON.stringify`` writes 80, Python's ``json.dumps`` of a float 80.0).
Layout = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], bool]

# A whole-number double as JavaScript prints it (below 1e15, where BIGINT holds it and
# JavaScript prints digits only); -0 prints as 0 in both.
_JS_DOUBLE = (
    "CASE WHEN {x} = trunc({x}) AND abs({x}) < 1e15 THEN {x}::BIGINT::VARCHAR ELSE {x}::VARCHAR END"
)


def _rebuilt_sql(layout: Layout) -> str:
    """SQL text of the line a writer of ``layout`` would write for the parsed values ``t``.

    Compact JSON (no spaces), the keys of ``layout`` only, in its order, each value as
    DuckDB prints it (strings quoted as they are, SQL NULL as ``null``; whole-number
    doubles without a fraction for a JavaScript-style writer).
    """
    top, data_keys, totals_keys, js_numbers = layout

    def obj(structure: dict[str, Any], keys: tuple[str, ...], base: str) -> list[str]:
        parts = ["'{'"]
        for i, key in enumerate(keys):
            expr = f'{base}."{key}"'
            sub = structure[key]
            parts.append(f"'{',' if i else ''}\"{key}\":'")
            if isinstance(sub, dict):
                inner = obj(sub, data_keys if key == "data" else totals_keys, expr)
                parts.append(
                    f"CASE WHEN {expr} IS NULL THEN 'null' ELSE concat({', '.join(inner)}) END"
                )
            elif sub == "VARCHAR":
                parts.append(f"coalesce('\"' || {expr} || '\"', 'null')")
            elif sub == "DOUBLE" and js_numbers:
                parts.append(f"coalesce({_JS_DOUBLE.format(x=expr)}, 'null')")
            else:
                parts.append(f"coalesce({expr}::VARCHAR, 'null')")
        parts.append("'}'")
        return parts

    return f"concat({', '.join(obj(_STRUCTURE, top, 't'))}, chr(10))"


def _build_sample_sql(layout: Layout | None = None) -> str:
    """SQL mapping clean ``sample`` lines to ``samples`` rows.

    A line is mapped in SQL when it is clean (only modelled keys, each value a literal of
    the model's JSON type) and passes the model's checks (call_sid of two characters or
    more, ranges, an epoch-ms timestamp, an ISO 8601 ``received_at``). Clean is decided by
    the clean-line regex (one regex pass and one JSON parse per line) or, with ``layout``,
    first by a cheaper exact test: the line is parsed, and rebuilt from the parsed values
    as a writer of that layout writes it (:func:`_rebuilt_sql`); when the rebuilt line is
    the line itself (spaces after ``":`` and before ``,"`` aside), it holds only modelled
    keys, once each, with literals that Python's ``json.loads`` reads as the same values
    (a numeric string, ``true``, ``1.0`` for an integer, an unknown key, a key given twice,
    a trailing comma or an escape all make it differ). Lines that differ take the regex
    test, which also requires every key of an object to be distinct: a repeated key's
    value is the last one given (ECMA-262 ``JSON.parse``, Python's ``json.loads``), which
    only :func:`voiceinsights.models.parse_record` reads that way.
    """
    structure = _STRUCTURE
    import json

    struct_json = json.dumps(structure).replace("'", "''")
    regex = _clean_line_regex().replace("'", "''")
    fields = {
        "f_type": "j.type",
        "call_sid": "j.call_sid",
        "identity": "j.identity",
        "f_received_at": "j.received_at",
        "f_timestamp": "j.data.timestamp",
        "codec_name": 'j.data."codecName"',
    }
    ok = [
        "f_type = 'sample'",
        "length(call_sid) >= 2",
        "f_timestamp BETWEEN 100000000000 AND 99999999999999",
        f"(f_received_at IS NULL OR (regexp_full_match(f_received_at, '{_ISO}') "
        "AND TRY_CAST(f_received_at AS TIMESTAMPTZ) IS NOT NULL))",
    ]

    def bounded(column: str, lo: int | None, hi: int | None) -> str:
        checks = [f"{column} >= {lo}" if lo is not None else "true"]
        if hi is not None:
            checks.append(f"{column} <= {hi}")
        return f"({column} IS NULL OR ({' AND '.join(checks)}))"

    for c, w, _, lo, hi in _INTS:
        fields[c] = f'j.data."{w}"'
        ok.append(bounded(c, lo, hi))
    for c, w, lo, hi in _FLOATS:
        fields[c] = f'j.data."{w}"'
        ok.append(bounded(c, lo, hi))
    for c, w in _TOTAL_INTS:
        fields[c] = f'j.data.totals."{w}"'
        ok.append(bounded(c, 0, None))
    c, w = _TOTAL_FLOAT
    fields[c] = f'j.data.totals."{w}"'
    ok.append(bounded(c, 0, 100))
    flat_fields = ", ".join(f'{expr} AS "{name}"' for name, expr in fields.items())
    unique = _unique_keys_sql(fields)
    cols = {name: f'"{name}"' for name in fields}
    cols["timestamp"] = "epoch_ms(f_timestamp)::TIMESTAMPTZ"
    cols["received_at"] = _RECEIVED_AT
    cols["ingest_source"] = "$source"
    cols["extra"] = "NULL"
    table = get_table("samples")
    missing = set(table.column_names) - set(cols)
    assert not missing, missing  # every samples column is mapped
    select = ",\n    ".join(f'{cols[c.name]}::{c.type} AS "{c.name}"' for c in table.columns)
    if layout is None:
        lines_cte = f"l AS (SELECT line, raw FROM $lines WHERE NOT regexp_full_match(raw, '{_WS}'))"
        fast, taken = "false", ""
    else:
        lines_cte = f"""l AS (
    SELECT line, raw, coalesce({_rebuilt_sql(layout)} = CASE WHEN strpos(lf, '": ') > 0
            THEN replace(replace(lf, '": ', '":'), ', "', ',"') ELSE lf END, false) AS ok1,
        t
    FROM (
        SELECT line, raw, CASE WHEN NOT contains(raw, '\\')
            THEN TRY(json_transform(raw, '{struct_json}')) END AS t,
            -- A line ending in CR LF (Windows) is compared as if it ended in LF.
            CASE WHEN suffix(raw, chr(13) || chr(10))
                THEN left(raw, -2) || chr(10) ELSE raw END AS lf
        FROM $lines WHERE NOT regexp_full_match(raw, '{_WS}')
    )
)"""
        fast, taken = "ok1", "WHEN ok1 THEN t"
    return f"""
WITH {lines_cte}, p AS (
    SELECT line, raw, {fast} AS fast,
        CASE {taken} WHEN regexp_full_match(raw, '{regex}')
            THEN TRY(json_transform(raw, '{struct_json}')) END AS j
    FROM l
), f AS (
    SELECT line, raw, fast, j IS NOT NULL AS parsed, {flat_fields},
        j.data IS NOT NULL AS has_data, j.data.totals IS NOT NULL AS has_totals
    FROM p
), k AS (
    SELECT *, parsed AND {unique} AND coalesce({" AND ".join(ok)}, false) AS ok
    FROM f
)
SELECT line, ok, fast, CASE WHEN ok THEN NULL ELSE raw END AS raw,
    {select}
FROM k
"""


#: SQL mapping a table ``$lines(line, raw)`` to ``samples`` rows (``ok``) or leftovers.
SAMPLE_SQL = _build_sample_sql()


@functools.lru_cache(maxsize=32)
def sample_sql(layout: Layout | None = None) -> str:
    """:data:`SAMPLE_SQL`, with the rebuild test for lines written in ``layout`` first."""
    return _build_sample_sql(layout)


def layout_of(lines: pa.Table, probe: int = 16) -> Layout | None:
    """The layout of the first sample envelope among the first ``probe`` lines, if any.

    A block is usually written by one program, in one key order and one way of printing
    numbers: the rebuild test is built for that layout (other lines take the regex test,
    with the same rows). Whole-number doubles in the probed lines say how the writer
    prints them; without any, JavaScript's way (the SDK's own) is assumed.
    """
    import json

    def keys(known: dict[str, Any], obj: Any) -> tuple[str, ...]:
        return tuple(k for k in obj if k in known) if isinstance(obj, dict) else ()

    def whole_doubles(known: dict[str, Any], obj: Any) -> list[Any]:
        # The values of DOUBLE fields that are whole numbers: int as written 80, float 80.0.
        if not isinstance(obj, dict):
            return []
        return [
            v
            for k, v in obj.items()
            if known.get(k) == "DOUBLE"
            and (type(v) is int or (type(v) is float and v.is_integer()))
        ]

    first: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] | None = None
    whole: list[Any] = []
    for raw in lines.column("raw").slice(0, probe).to_pylist():
        try:
            env = json.loads(raw) if raw and raw.strip() else None
        except ValueError:
            continue
        if not (isinstance(env, dict) and env.get("type") == "sample"):
            continue
        data = env.get("data")
        totals = data.get("totals") if isinstance(data, dict) else None
        if first is None:
            first = (
                keys(_STRUCTURE, env),
                keys(_STRUCTURE["data"], data),
                keys(_STRUCTURE["data"]["totals"], totals),
            )
        whole += whole_doubles(_STRUCTURE["data"], data)
        whole += whole_doubles(_STRUCTURE["data"]["totals"], totals)
    if first is None:
        return None
    as_int = sum(type(v) is int for v in whole)
    return (*first, 2 * as_int >= len(whole))


_BOM = b"\xef\xbb\xbf"


def skip_bom(fh: IO[bytes]) -> None:
    """Step over a UTF-8 byte order mark at the stream's position (Windows tools open
    files with one; JSON readers may ignore it, RFC 8259 section 8.1)."""
    peek = getattr(fh, "peek", None)
    if peek is not None:
        if peek(len(_BOM))[: len(_BOM)] == _BOM:
            fh.read(len(_BOM))
    elif fh.seekable():
        head = fh.read(len(_BOM))
        if head != _BOM:
            fh.seek(-len(head), io.SEEK_CUR)


def line_blocks(fh: IO[bytes], block_bytes: int = BLOCK_BYTES) -> Iterator[tuple[int, bytes]]:
    """Yield ``(first_line_number, block)`` of whole lines (1-based line numbers)."""
    if isinstance(fh, io.BufferedReader | io.BytesIO):
        yield from _seek_blocks(fh, block_bytes)
        return
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


def _seek_blocks(
    fh: io.BufferedReader | io.BytesIO, block_bytes: int
) -> Iterator[tuple[int, bytes]]:
    # A plain file: the partial last line is read again with the next block (a seek back)
    # instead of being carried over and concatenated, so a block is copied at most once.
    line_no = 1
    size = block_bytes
    while True:
        chunk = fh.read(size)
        if not chunk:
            return
        cut = chunk.rfind(b"\n")
        if cut < 0:
            if len(chunk) < size:  # the end of the file: a last line without a newline
                yield line_no, chunk + b"\n"
                return
            fh.seek(-len(chunk), io.SEEK_CUR)
            size *= 2  # a line longer than the block
            continue
        size = block_bytes
        block = chunk if cut == len(chunk) - 1 else chunk[: cut + 1]
        if len(block) < len(chunk):
            fh.seek(len(block) - len(chunk), io.SEEK_CUR)
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
        if not block.isascii():  # ASCII needs no UTF-8 check
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
    conn: duckdb.DuckDBPyConnection,
    lines: pa.Table,
    source: str,
    now: dt.datetime | None = None,
    *,
    rebuild: bool = True,
) -> tuple[pa.Table, list[tuple[int, str]]]:
    """Map a block: the ``samples`` rows done in SQL, and leftover lines.

    The rows come as one Arrow table (the ``samples`` columns, plus ``line`` and ``fast``:
    whether the rebuild test took the line; ``rebuild=False`` skips that test, for blocks
    where it rarely succeeds). Leftovers
    are ``(line, text)`` for :func:`voiceinsights.models.parse_record` (blank lines are
    dropped). ``now`` fills ``received_at`` where the envelope has none.
    """
    name = f"_vi_lines_{next(_names)}"
    sql = (
        sample_sql(layout_of(lines) if rebuild else None)
        .replace("$lines", name)
        .replace("$source", "$1")
    )
    if now is not None:
        sql = sql.replace(_RECEIVED_AT, f"coalesce({_RECEIVED_AT}, $2)")
    conn.register(name, lines)
    try:
        # Straight to Arrow: no temporary table, one copy of the rows.
        out = conn.sql(sql, params=[source] if now is None else [source, now]).to_arrow_table()
    finally:
        conn.unregister(name)
    ok = out.column("ok")
    if out.num_rows and pc.all(ok).as_py():
        left: list[tuple[int, str]] = []
    else:
        rest = out.filter(pc.invert(ok)).select(["line", "raw"]).sort_by("line")
        left = [
            (int(line), str(raw))
            for line, raw in zip(
                rest.column("line").to_pylist(), rest.column("raw").to_pylist(), strict=True
            )
        ]
        out = out.filter(ok)
    cols = ["line", "fast", *get_table("samples").column_names]
    return out.select(cols), left

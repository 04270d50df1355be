"""The JSON Lines bulk path agrees with parse_record, record for record."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
from pathlib import Path
from typing import Any

import duckdb
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import voiceinsights as vi
from voiceinsights.models import parse_record
from voiceinsights.store._bulk import line_blocks, lines_table, map_samples

SOURCE = "file.jsonl"
_MISSING = object()


def _opt(strategy: st.SearchStrategy[Any], *, odd: st.SearchStrategy[Any] | None = None) -> Any:
    choices = [st.just(_MISSING), st.none(), strategy, strategy, strategy]
    if odd is not None and _ODD[0]:
        choices.append(odd)
    return st.one_of(*choices)


# Whether the record being drawn may carry irregular values (set per record).
_ODD = [False]


_odd_number = st.one_of(
    st.booleans(), st.just("5"), st.just("1.5"), st.just(-1), st.just(1.5), st.just(10**20),
    st.just([1]),
)  # fmt: skip
_levels = st.integers(0, 32767)
_counts = st.integers(0, 10**12)
_pct = st.one_of(st.integers(0, 100), st.floats(0, 100))
_ms = st.one_of(st.integers(0, 5000), st.floats(0, 5000))
_text = st.text(st.characters(exclude_categories=("Cs",)), min_size=0, max_size=8)
_iso = st.builds(
    lambda t, off, z: (t.replace(tzinfo=dt.timezone(dt.timedelta(minutes=off))).isoformat()
                       .replace("+00:00", "Z" if z else "+00:00")),
    st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2090, 1, 1)),
    st.integers(-12 * 60, 14 * 60), st.booleans(),
)  # fmt: skip


@st.composite
def envelopes(draw: st.DrawFn) -> dict[str, Any]:
    # About one record in three is irregular somewhere; the rest are what SDKs send.
    odd = _ODD[0] = draw(st.integers(0, 2)) == 0
    timestamps = [st.integers(10**11, 10**14 - 1)]
    if odd:
        timestamps += [st.just("2024-01-01T00:00:00Z"), st.just(1.7e12 + 0.5)]
    data: dict[str, Any] = {
        "timestamp": draw(st.one_of(*timestamps)),
        "audioInputLevel": draw(_opt(_levels, odd=_odd_number)),
        "audioOutputLevel": draw(_opt(_levels)),
        "bytesReceived": draw(_opt(_counts)),
        "bytesSent": draw(_opt(_counts, odd=_odd_number)),
        "packetsReceived": draw(_opt(_counts)),
        "packetsSent": draw(_opt(_counts)),
        "packetsLost": draw(_opt(_counts, odd=_odd_number)),
        "packetsLostFraction": draw(_opt(_pct, odd=st.just(101))),
        "jitter": draw(_opt(_ms, odd=_odd_number)),
        "rtt": draw(_opt(_ms)),
        "mos": draw(_opt(st.floats(1, 4.5), odd=st.just(7))),
        "codecName": draw(_opt(st.sampled_from(["opus", "pcmu"]), odd=st.just(5))),
    }
    if draw(st.booleans()):
        data["totals"] = draw(st.one_of(st.none(), st.fixed_dictionaries({
            "bytesReceived": _opt(_counts), "bytesSent": _opt(_counts),
            "packetsLost": _opt(_counts), "packetsLostFraction": _opt(_pct),
            "packetsReceived": _opt(_counts), "packetsSent": _opt(_counts, odd=_odd_number),
        })))  # fmt: skip
    env: dict[str, Any] = {
        "type": draw(st.sampled_from(["sample", "warning"])) if odd else "sample",
        "call_sid": draw(
            st.one_of(st.just("CA" + "a" * 32), _text, st.just(7))
            if odd
            else st.text("CAabcdef0123456789", min_size=2, max_size=34)
        ),
        "data": data,
        "identity": draw(_opt(_text, odd=st.just(3))),
        "received_at": draw(_opt(_iso, odd=st.sampled_from([1700000000000, "yesterday"]))),
    }
    if odd and draw(st.booleans()):
        env[draw(st.sampled_from(["forwarder", "data.inputVolume"]))] = draw(_text)
    return _strip(env)


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if v is not _MISSING}
    return value


def _expected(record: dict[str, Any]) -> dict[str, Any] | None:
    try:
        rows = parse_record(record, source=SOURCE)
    except vi.ValidationError:
        return None
    return rows[0][1] if rows[0][0] == "samples" else None


def _bulk(
    lines: list[str], fast: set[int] | None = None
) -> tuple[dict[int, dict[str, Any]], set[int]]:
    """Rows mapped in SQL by line, and leftover lines; ``fast`` collects rebuild-test lines."""
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    block = "".join(line + "\n" for line in lines).encode()
    table, bad = lines_table(1, block)
    assert not bad
    rows, leftovers = map_samples(conn, table, SOURCE)
    mapped = {}
    for row in rows.to_pylist():
        line = row.pop("line")
        if row.pop("fast") and fast is not None:
            fast.add(line)
        mapped[line] = row
    assert len(mapped) == rows.num_rows
    return mapped, {line for line, _ in leftovers}


def _shuffled(value: Any, rnd: Any) -> Any:
    if isinstance(value, dict):
        items = [(k, _shuffled(v, rnd)) for k, v in value.items()]
        rnd.shuffle(items)
        return dict(items)
    return value


#: How writers serialise: Python's default, compact (JavaScript's JSON.stringify), raw UTF-8.
_STYLES = [
    {},
    {"separators": (",", ":")},
    {"separators": (",", ":"), "ensure_ascii": False},
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records=st.lists(envelopes(), min_size=1, max_size=25),
    style=st.sampled_from(_STYLES),
    shuffle=st.booleans(),
    rnd=st.randoms(use_true_random=False),
)
def test_bulk_rows_equal_parse_record_rows(
    records: list[dict[str, Any]], style: dict[str, Any], shuffle: bool, rnd: Any
) -> None:
    if shuffle:  # key orders vary from line to line
        records = [_shuffled(r, rnd) for r in records]
    lines = [json.dumps(r, **style) for r in records]
    fast: set[int] = set()
    mapped, leftovers = _bulk(lines, fast)
    event(f"records on the SQL path: {'some' if mapped else 'none'}")
    event(f"records taken by the rebuild test: {'some' if fast else 'none'}")
    assert set(mapped) | leftovers == set(range(1, len(lines) + 1))
    assert not set(mapped) & leftovers
    for line, row in mapped.items():
        expected = _expected(records[line - 1])
        # The SQL mapping never accepts a record the parser rejects, and agrees on every value.
        assert expected is not None, records[line - 1]
        assert row == expected, (records[line - 1], row, expected)


def test_clean_samples_take_the_sql_path() -> None:
    clean = {"type": "sample", "call_sid": "CA1234", "identity": "alice",
             "received_at": "2024-05-01T12:00:00.250+02:00",
             "data": {"timestamp": 1714557600123, "audioInputLevel": 120, "jitter": 4,
                      "rtt": 80.5, "mos": 4.31, "packetsLostFraction": 0, "codecName": "opus",
                      "totals": {"packetsLost": 3, "packetsLostFraction": 0.25}}}  # fmt: skip
    odd = [
        {**clean, "forwarder": "v2"},  # unmodelled field: kept in extra by the parser
        {**clean, "data": {**clean["data"], "jitter": "4"}},  # numeric string
        {"type": "warning", "call_sid": "CA1", "data": {"name": "high-rtt"}},
    ]
    lines = [json.dumps(clean), "", "   ", "{broken", *map(json.dumps, odd)]
    mapped, leftovers = _bulk(lines)
    assert set(mapped) == {1}
    assert leftovers == {4, 5, 6, 7}  # blank lines are neither
    row = mapped[1]
    assert row == _expected(clean)
    assert row["timestamp"] == dt.datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=dt.UTC)
    assert row["received_at"] == dt.datetime(2024, 5, 1, 10, 0, 0, 250000, tzinfo=dt.UTC)
    assert row["total_packets_lost_pct"] == 0.25


def test_sql_path_takes_only_lines_python_reads_the_same() -> None:
    data = (
        '"timestamp":1714557600123,"jitter":4.5,"rtt":null,"packetsLost":2,'
        '"codecName":"opus","totals":{"packetsLost":3,"packetsLostFraction":0.25}'
    )
    good = '{"type":"sample","call_sid":"CA1234","identity":"alice","data":{' + data + "}}"
    python_style = json.dumps(json.loads(good))  # spaces after ':' and ','
    odd = [
        good.replace('"identity"', '"extra":null,"identity"'),  # unknown key, null value
        good.replace('"opus"', '"opus",'),  # trailing comma (DuckDB accepts it, Python not)
        good.replace("4.5", "NaN"),  # NaN (both read it; the model rejects it)
        good.replace('"packetsLost":2', '"packetsLost":2.0'),  # float for an integer
        good.replace('"packetsLost":2', '"packetsLost":-0'),  # -0 for an integer
        good.replace('"packetsLost":2', '"packetsLost":"2"'),  # numeric string
        good.replace('"alice"', '"al\\u0069ce"'),  # escape
        good.replace('"alice"', "7"),  # number for a string
        good.replace("4.5", "4.50"),  # same value, other spelling
        good.replace('"rtt":null,', ""),  # absent instead of null
        good.replace('"alice"', '"ali, "'),  # separator-like text in a string
        python_style.replace('"alice"', '"ali, "'),  # ... with Python's spacing
    ]
    lines = [good, python_style, *odd]
    fast: set[int] = set()
    mapped, leftovers = _bulk(lines, fast)
    assert fast == {1, 2, 13}  # written as the first line is, values printed alike
    assert {1, 2, 11, 12, 13, 14} <= set(mapped)  # what SDKs and Python write
    assert not {3, 4, 5, 6, 8, 9, 10} & set(mapped)  # each is parse_record's to judge
    assert set(mapped) | leftovers == set(range(1, len(lines) + 1))
    for line, row in mapped.items():
        assert row == _expected(json.loads(lines[line - 1])), lines[line - 1]


def test_a_repeated_key_keeps_its_last_value_on_every_path(tmp_path: Path, db_path: Path) -> None:
    # JSON leaves repeated names to the reader; JSON.parse (ECMA-262) and json.loads keep
    # the last value, DuckDB's reader the first. Every ingest path must keep the last.
    good = (
        '{"type":"sample","call_sid":"CA1234","identity":"alice","data":{"timestamp":'
        '1714557600123,"jitter":4.5,"rtt":80,"packetsLost":2,"codecName":"opus",'
        '"totals":{"packetsLost":3,"packetsLostFraction":0.25}}}'
    )
    repeated = [
        good.replace('"call_sid":"CA1234"', '"call_sid":"CAfirst","call_sid":"CA1234"'),
        good.replace('"jitter":4.5', '"jitter":99,"jitter":4.5'),
        good.replace('"packetsLost":3', '"packetsLost":7,"packetsLost":3'),
        good.replace('"rtt":80', '"rtt":80,"rtt":null'),
        good.replace('"jitter":4.5', '"jitter" :99,"jitter":4.5'),  # space before a colon
        good.replace('"data":{', '"data":{"jitter":1},"data":{'),  # an object twice
        good.replace('"identity":"alice"', '"identity":null,"identity":"alice"'),
    ]
    # The same lines with keys reordered: not the first line's layout, so the regex test
    # (not the rebuild test) judges them.
    reordered = [
        line.replace('"type":"sample","call_sid"', '"call_sid"', 1).replace(
            '"identity":"alice"', '"identity":"alice","type":"sample"', 1
        )
        for line in repeated
    ]
    # Lines without a repeated key, in the other layout, with spaces and nulls, are the
    # SQL path's: the repeat test must not send them all to parse_record.
    unrepeated = [
        reordered[0].replace('"call_sid":"CAfirst",', ""),
        reordered[0].replace('"call_sid":"CAfirst",', "").replace('"rtt":80', '"rtt" : null'),
    ]
    lines = [good, *repeated, *reordered, *unrepeated]
    mapped, leftovers = _bulk(lines)
    assert set(mapped) == {1, len(lines) - 1, len(lines)}
    assert leftovers == set(range(2, len(lines) - 1))  # each is parse_record's to read
    for line in mapped:
        assert mapped[line] == _expected(json.loads(lines[line - 1]))
    last = [json.loads(line) for line in lines]
    assert last[1]["call_sid"] == "CA1234"
    assert last[4]["data"]["rtt"] is None
    # Through a file, stored rows are the last values: one row per distinct key.
    path = tmp_path / "repeated.jsonl"
    path.write_text("".join(line.replace("CA1234", f"CA{i:04d}") + "\n"
                            for i, line in enumerate(lines)))  # fmt: skip
    array = tmp_path / "repeated.json"
    array.write_text("[" + ",".join(repeated).replace("CA1234", "CA9999") + "]")
    with vi.open(db_path) as store:
        report = store.ingest([path, array], progress=False)
        assert not report.rejected
        rows = store.sql("SELECT call_sid, jitter_ms, rtt_ms, total_packets_lost FROM samples "
                         "ORDER BY call_sid").to_dict("records")  # fmt: skip
    expected = []
    for i, line in enumerate(lines):
        record = json.loads(line.replace("CA1234", f"CA{i:04d}"))
        expected.append(record)
    by_sid = {r["call_sid"]: r for r in rows}
    for record in expected:
        row = by_sid[record["call_sid"]]
        data = record["data"]
        assert row["jitter_ms"] == data["jitter"]
        assert (row["rtt_ms"] if row["rtt_ms"] == row["rtt_ms"] else None) == data["rtt"]
        assert row["total_packets_lost"] == data["totals"]["packetsLost"]
    # The JSON array's four records share call_sid and timestamp: the natural key keeps one.
    assert "CA9999" in by_sid
    assert "CAfirst" not in by_sid  # the first value of a repeated call_sid is never used


def test_whole_number_doubles_as_each_writer_prints_them() -> None:
    # JSON.stringify prints the double 80 as 80, json.dumps prints 80.0: either way the
    # rebuild test takes the writer's lines; a line printed the other way is still read
    # right (by the regex test).
    records = [
        {"type": "sample", "call_sid": "CAnum", "data": {
            "timestamp": 1714557600000 + 1000 * i, "jitter": float(i % 3), "rtt": 80.0,
            "mos": 4.25, "packetsLostFraction": 0.0, "totals": {"packetsLostFraction": 0.0}}}
        for i in range(6)
    ]  # fmt: skip
    python_lines = [json.dumps(r) for r in records]
    js_lines = [line.replace(".0,", ",").replace(".0}", "}") for line in python_lines]
    assert '"rtt": 80,' in js_lines[0]
    for lines in (python_lines, js_lines):
        fast: set[int] = set()
        mapped, leftovers = _bulk(lines, fast)
        assert fast == set(range(1, 7))
        assert not leftovers
        for line, row in mapped.items():
            assert row == _expected(records[line - 1])
    mixed = [*js_lines[:4], python_lines[4], js_lines[5]]
    fast = set()
    mapped, _ = _bulk(mixed, fast)
    assert fast == {1, 2, 3, 4, 6}
    assert mapped[5] == _expected(records[4])


def test_windows_line_ends_and_a_byte_order_mark(tmp_path: Path, db_path: Path) -> None:
    # Windows tools end lines with CR LF and may open the file with a UTF-8 BOM: the
    # lines are the same records, on the fast path, with their own line numbers.
    records = [
        {"type": "sample", "call_sid": "CAwin", "identity": "alice",
         "data": {"timestamp": 1714557600000 + 1000 * i, "jitter": 4.5, "rtt": 80,
                  "codecName": "opus", "totals": {"packetsLost": i}}}
        for i in range(4)
    ]  # fmt: skip
    lines = [json.dumps(r, separators=(",", ":")) for r in records]
    fast: set[int] = set()
    mapped, leftovers = _bulk([line + "\r" for line in lines], fast)
    assert fast == {1, 2, 3, 4}
    assert not leftovers
    for line, row in mapped.items():
        assert row == _expected(records[line - 1])
    body = "\r\n".join([*lines[:2], '{"type": "sample", "call_sid": 7}', *lines[2:]])
    data = b"\xef\xbb\xbf" + body.encode() + b"\r\n"
    plain, packed = tmp_path / "windows.jsonl", tmp_path / "windows-copy.jsonl.gz"
    plain.write_bytes(data)
    packed.write_bytes(gzip.compress(data))  # a stream that cannot seek back
    for path, inserted in ((plain, 4), (packed, 0)):  # the copy's rows are all there already
        with vi.open(db_path) as store:
            report = store.ingest(path, progress=False)
            got = store.sql("SELECT timestamp FROM samples WHERE call_sid = 'CAwin'")
        assert [r.line for r in report.rejected] == [3]  # the BOM is not a line
        assert report.kind("sdk-sample").inserted == inserted
        assert len(got) == 4


def test_blocks_split_on_line_boundaries(tmp_path: Path) -> None:
    text = b"".join(b'{"n": %d}\n' % i for i in range(1000)) + b'{"n": "last, no newline"}'
    path = tmp_path / "x.jsonl"
    path.write_bytes(text)
    seen: list[str] = []
    firsts = []
    with path.open("rb") as fh:
        for first, block in line_blocks(fh, block_bytes=777):
            firsts.append(first)
            table, _ = lines_table(first, block)
            assert table.column("line").to_pylist()[0] == first
            seen.extend(v.rstrip("\n") for v in table.column("raw").to_pylist())
    assert seen == text.decode().split("\n")
    assert firsts[0] == 1
    assert len(firsts) > 5


def test_lines_that_are_not_utf8_are_reported() -> None:
    table, bad = lines_table(10, b'{"a": 1}\n\xff\xfe{"b"}\n{"c": 3}\n')
    assert [line for line, _ in bad] == [11]
    assert table.column("raw").to_pylist()[1] == ""


@settings(max_examples=50, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=60).map(lambda b: b.replace(b"\n", b"")), max_size=30),
    final_newline=st.booleans(),
    block=st.integers(1, 80),
)
def test_blocks_of_plain_and_gzip_files_agree(
    lines: list[bytes], final_newline: bool, block: int
) -> None:
    # Plain files re-read a partial last line (seek back); other streams carry it over.
    data = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    expected = data if not data or data.endswith(b"\n") else data + b"\n"
    for fh in (io.BytesIO(data), gzip.GzipFile(fileobj=io.BytesIO(gzip.compress(data)))):
        blocks = list(line_blocks(fh, block_bytes=block))
        assert b"".join(b for _, b in blocks) == expected
        line = 1
        for first, b in blocks:
            assert first == line
            assert b.endswith(b"\n")
            line += b.count(b"\n")


def test_ingest_of_several_writers_styles_matches_parse_record(
    tmp_path: Path, db_path: Path
) -> None:
    # JavaScript writes integral numbers without ".0", Python with spaces, others sort keys:
    # whichever test takes a line, the stored rows are parse_record's.
    records = []
    for i in range(300):
        records.append({
            "type": "sample", "call_sid": f"CA{i % 7:032x}", "identity": f"agent{i % 3}",
            "data": {"timestamp": 1_767_225_600_000 + 1000 * i, "jitter": i % 5,
                     "packetsLostFraction": 0 if i % 4 else 1.5, "rtt": None if i % 9 else 80,
                     "mos": 4.2, "codecName": "opus", "packetsLost": i % 3,
                     "totals": {"packetsLost": i, "packetsLostFraction": 0.25}},
        })  # fmt: skip
    styles = [{"separators": (",", ":")}, {}, {"separators": (",", ":"), "sort_keys": True}]
    text = "".join(json.dumps(r, **styles[(i // 50) % 3]) + "\n" for i, r in enumerate(records))
    path = tmp_path / "mixed.jsonl"
    path.write_text(text)
    with vi.open(db_path) as store:
        report = store.ingest(path, progress=False)
        assert not report.rejected
        again = store.ingest(path, progress=False)
        got = store.sql("SELECT * FROM samples ORDER BY timestamp").to_dict("records")
    assert again.kind("sdk-sample").inserted == 0  # re-ingest adds nothing
    assert len(got) == len(records)
    skip = {"received_at", "ingest_source"}
    for row, record in zip(got, records, strict=True):
        expected = parse_record(record, source=str(path))[0][1]
        for key, value in expected.items():
            if key in skip:
                continue
            stored = row[key]
            if stored is None or stored != stored:  # pandas gives NaN / NaT for nulls
                stored = None if value is None else stored
            assert stored == value, (key, stored, value, record)

"""File ingest: JSON, JSON Lines, CSV and Parquet files and directories into the store."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from voiceinsights._exceptions import IngestError, ValidationError
from voiceinsights._progress import ProgressTask, progress
from voiceinsights.schema import TABLES, get_table
from voiceinsights.store._bulk import line_blocks, lines_table, map_samples, skip_bom
from voiceinsights.store._report import IngestReport, Rejection
from voiceinsights.store._types import to_arrow
from voiceinsights.store._write import transaction, write_arrow

if TYPE_CHECKING:
    from voiceinsights.store._store import Store

__all__ = ["SUFFIXES", "collect_files", "ingest_paths", "ingest_record_iter"]

#: File types ingested, by suffix (a trailing ``.gz`` is read through gzip).
SUFFIXES = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
}
#: JSON Lines input committed per transaction (bounds the transaction's memory).
COMMIT_BYTES = 128 * 1024 * 1024
#: Files that sit beside data but are not records (fixture answers, docs).
_NOT_DATA = {"ground_truth.json"}
_FLUSH_ROWS = 20_000
_RAW_MAX = 65536


def _format(path: Path) -> str | None:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return SUFFIXES.get(suffixes[-1]) if suffixes else None


def collect_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Expand directories (recursively, known suffixes only, hidden files skipped).

    Raises IngestError naming every path that does not exist, before anything is read.
    """
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise IngestError("no such file or directory: " + ", ".join(missing), path=missing[0])
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p).parts
                if any(part.startswith((".", "_")) for part in rel) or not f.is_file():
                    continue
                if f.name in _NOT_DATA or _format(f) is None:
                    continue
                files.append(f)
        else:
            files.append(p)
    return files


def _open(path: Path) -> IO[bytes]:
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _raw_text(record: Any) -> str:
    try:
        text = json.dumps(record, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(record)
    return text[:_RAW_MAX]


class _Writer:
    """Buffers parsed rows per (kind, table) and writes them in batches."""

    def __init__(
        self, store: Store, report: IngestReport, source: str, *, in_tx: bool = False
    ) -> None:
        self.in_tx = in_tx
        self.store = store
        self.report = report
        self.source = source
        self.now = dt.datetime.now(dt.UTC)
        self.buffers: dict[tuple[str, str], list[tuple[int | None, dict[str, Any]]]] = {}
        self.pending = 0

    def add(self, kind: str, line: int | None, rows: list[tuple[str, dict[str, Any]]]) -> None:
        for table, row in rows:
            self.buffers.setdefault((kind, table), []).append((line, row))
        self.pending += len(rows)
        if self.pending >= _FLUSH_ROWS:
            self.flush()

    def reject(self, r: Rejection) -> None:
        self.report.reject(r)

    def flush(self) -> None:
        conn = self.store.connection
        for (kind, table), items in self.buffers.items():
            t = get_table(table)
            rows = [row for _, row in items]
            try:
                data = to_arrow(t, rows)
            except ValidationError:
                # Find the rows that do not fit (e.g. an integer beyond BIGINT), keep the rest.
                good = []
                for line, row in items:
                    try:
                        to_arrow(t, [row])
                    except ValidationError as exc:
                        self.reject(Rejection(self.source, line, kind, exc.field, str(exc), None))
                    else:
                        good.append(row)
                data = to_arrow(t, good)
            data = _fill(data, self.source, self.now)
            _write_tx(conn, t, data, self.report, kind, in_tx=self.in_tx)
        self.buffers.clear()
        self.pending = 0


def _fill(data: pa.Table, source: str, now: dt.datetime) -> pa.Table:
    from voiceinsights.store._store import _fill_defaults

    filled: pa.Table = _fill_defaults(data, source, now=now)
    return filled


def _write_tx(
    conn: duckdb.DuckDBPyConnection,
    t: Any,
    data: pa.Table | duckdb.DuckDBPyRelation,
    report: IngestReport,
    kind: str | None,
    *,
    in_tx: bool = False,
) -> None:
    if in_tx:  # the caller commits
        report.add_write(write_arrow(conn, t, data), kind)
        return
    with transaction(conn):
        result = write_arrow(conn, t, data)
    report.add_write(result, kind)


def _handle(
    writer: _Writer,
    line: int | None,
    record: Any,
    *,
    kind: str | None,
    received_at: dt.datetime | None,
) -> None:
    from voiceinsights.models import detect_kind, parse_record

    source = writer.source
    try:
        k = kind or detect_kind(record)
    except ValidationError as exc:
        writer.reject(Rejection(source, line, None, exc.field, str(exc), _raw_text(record)))
        return
    writer.report.kind(k).records += 1
    try:
        rows = parse_record(record, kind=k, source=source, received_at=received_at)
    except ValidationError as exc:
        writer.reject(Rejection(source, line, k, exc.field, str(exc), _raw_text(record)))
        return
    except (TypeError, ValueError, KeyError, OverflowError, AttributeError) as exc:
        reason = f"cannot parse: {type(exc).__name__}: {exc}"
        writer.reject(Rejection(source, line, k, None, reason, _raw_text(record)))
        return
    writer.add(k, line, rows)


def ingest_record_iter(
    store: Store,
    records: Iterable[tuple[int | None, Any]],
    *,
    source: str,
    kind: str | None = None,
    received_at: dt.datetime | None = None,
    report: IngestReport | None = None,
) -> IngestReport:
    """Parse ``(line, record)`` pairs with ``models.parse_record`` and store the rows."""
    report = report if report is not None else IngestReport()
    writer = _Writer(store, report, source)
    for line, record in records:
        _handle(writer, line, record, kind=kind, received_at=received_at)
    writer.flush()
    _store_rejections(store, report)
    return report


def _store_rejections(store: Store, report: IngestReport) -> None:
    new = report.rejected[report.saved :]
    if not new:
        return
    data = to_arrow(get_table("rejected"), [r.row() for r in new])
    with transaction(store.connection):
        write_arrow(store.connection, get_table("rejected"), data)
    report.saved = len(report.rejected)


# -- formats ----------------------------------------------------------------------------
def _ingest_json(store: Store, path: Path, report: IngestReport, kind: str | None) -> None:
    from voiceinsights.models import iter_page_items

    source = str(path)
    with _open(path) as fh:
        data = fh.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        report.reject(Rejection(source, None, None, None, f"not UTF-8 text: {exc}"))
        return
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # several documents, one per line: JSON Lines
            _ingest_jsonl(store, path, report, kind, io.BytesIO(data))
            return
        report.reject(
            Rejection(
                source,
                exc.lineno,
                None,
                None,
                f"malformed JSON: {exc.msg} (line {exc.lineno} column {exc.colno})",
                text[:_RAW_MAX],
            )
        )
        return
    items = ((i + 1, item) for i, item in enumerate(iter_page_items(doc)))
    ingest_record_iter(store, items, source=source, kind=kind, report=report)


def _ingest_jsonl(
    store: Store,
    path: Path,
    report: IngestReport,
    kind: str | None,
    fh: IO[bytes] | None = None,
    task: ProgressTask | None = None,
) -> None:
    """JSON Lines through the bulk path: SDK samples in SQL, other lines per record."""
    with transaction(store.connection):
        _jsonl_blocks(store, path, report, kind, fh, task)


_Block = tuple[int, int, pa.Table, list[tuple[int, bytes]], pa.Table | None, list[tuple[int, str]]]


def _blocks(
    conn: duckdb.DuckDBPyConnection,
    f: IO[bytes],
    source: str,
    now: dt.datetime,
    bulk: bool,
) -> Iterator[_Block]:
    """``(first line, size, lines, bad lines, mapped samples, leftovers)`` per block.

    With ``bulk`` the SQL mapping of the next blocks runs in two worker threads, each on
    its own cursor (DuckDB releases the GIL), while the caller writes the current one:
    writes stay in order on the caller's connection, so de-duplication is unchanged.
    """
    if not bulk:
        for first, block in line_blocks(f):
            lines, bad = lines_table(first, block)
            yield first, len(block), lines, bad, None, []
        return
    local = threading.local()
    rebuild = [True]
    cursors: list[duckdb.DuckDBPyConnection] = []

    def work(first: int, block: bytes) -> _Block:
        cur = getattr(local, "cursor", None)
        if cur is None:
            cur = conn.cursor()
            cur.execute("SET TimeZone = 'UTC'")
            local.cursor = cur
            cursors.append(cur)
        lines, bad = lines_table(first, block)
        mapped, leftovers = map_samples(cur, lines, source, now, rebuild=rebuild[0])
        fast = pc.sum(mapped.column("fast")).as_py() or 0
        if rebuild[0] and 2 * fast < lines.num_rows:
            # The rebuild test rarely succeeds for this writer: the regex test alone is
            # cheaper for the rest of the file.
            rebuild[0] = False
        return first, len(block), lines, bad, mapped, leftovers

    in_flight: deque[Future[_Block]] = deque()
    try:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="vi-ingest") as pool:
            for first, block in line_blocks(f):
                in_flight.append(pool.submit(work, first, block))
                if len(in_flight) >= 2:
                    yield in_flight.popleft().result()
            while in_flight:
                yield in_flight.popleft().result()
    finally:
        for future in in_flight:
            future.cancel()
        for cur in cursors:
            cur.close()


def _jsonl_blocks(
    store: Store,
    path: Path,
    report: IngestReport,
    kind: str | None,
    fh: IO[bytes] | None,
    task: ProgressTask | None,
) -> None:
    from voiceinsights.models import iter_page_items

    source = str(path)
    conn = store.connection
    writer = _Writer(store, report, source, in_tx=True)
    bulk = kind in (None, "sdk-sample")
    pending = 0
    samples = get_table("samples")
    with fh if fh is not None else _open(path) as f:
        skip_bom(f)
        for first, block_len, lines, bad, mapped, leftovers in _blocks(
            conn, f, source, writer.now, bulk
        ):
            for line, piece in bad:
                writer.reject(
                    Rejection(
                        source,
                        line,
                        None,
                        None,
                        "line is not UTF-8 text",
                        piece[:_RAW_MAX].decode("utf-8", "replace"),
                    )
                )
            if mapped is not None:
                result = write_arrow(conn, samples, mapped)
                report.add_write(result, "sdk-sample")
                report.kind("sdk-sample").records += (
                    result.inserted + result.duplicates + result.updated
                )
                todo: Iterator[tuple[int, str]] = iter(leftovers)
            else:
                todo = iter(
                    (ln, str(raw))
                    for ln, raw in zip(
                        range(first, first + lines.num_rows),
                        lines.column("raw").to_pylist(),
                        strict=True,
                    )
                    if str(raw).strip()
                )
            for line, text in todo:
                try:
                    record = json.loads(text)
                except json.JSONDecodeError as exc:
                    writer.reject(
                        Rejection(
                            source,
                            line,
                            None,
                            None,
                            f"malformed JSON: {exc.msg} (column {exc.colno})",
                            text[:_RAW_MAX].rstrip("\n"),
                        )
                    )
                    continue
                # A line may hold a page or an array (a logged CloudEvents delivery).
                for item in iter_page_items(record):
                    _handle(writer, line, item, kind=kind, received_at=None)
            if task is not None:
                task.advance(block_len)
            # Commit every COMMIT_BYTES of input: the transaction's local storage would
            # otherwise grow with the file (re-ingesting after an interruption adds only
            # what is missing).
            pending += block_len
            if pending >= COMMIT_BYTES:
                writer.flush()
                conn.execute("COMMIT")
                conn.execute("BEGIN TRANSACTION")
                pending = 0
    writer.flush()


def _ingest_csv(store: Store, path: Path, report: IngestReport, kind: str | None) -> None:
    from voiceinsights.store._csv import ingest_csv

    ingest_csv(store, path, report, kind)


def _parquet_table(path: Path, columns: list[str]) -> str | None:
    """The schema table a Parquet file holds canonical rows of, if it does."""
    names = set(columns)
    by_dir = [t for t in TABLES if t.name in path.parts]
    candidates = by_dir or [t for t in TABLES if set(t.column_names) == names]
    for t in candidates:
        if names <= set(t.column_names) and set(t.key) <= names:
            return t.name
    return None


def _ingest_parquet(store: Store, path: Path, report: IngestReport, kind: str | None) -> None:
    import pyarrow.parquet as pq

    source = str(path)
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        report.reject(Rejection(source, None, None, None, f"not a readable Parquet file: {exc}"))
        return
    table = None if kind else _parquet_table(path, pf.schema_arrow.names)
    conn = store.connection
    if table is not None:
        t = get_table(table)
        now = dt.datetime.now(dt.UTC)
        for batch in pf.iter_batches(batch_size=65536):
            try:
                data = to_arrow(t, batch)
            except ValidationError as exc:
                report.reject(Rejection(source, None, table, exc.field, str(exc)))
                continue
            report.kind(table).records += data.num_rows
            _write_tx(conn, t, _fill(data, source, now), report, table)
        return

    def records() -> Iterator[tuple[int | None, Any]]:
        i = 0
        for batch in pf.iter_batches(batch_size=8192):
            for rec in batch.to_pylist():
                i += 1
                yield i, {k: v for k, v in rec.items() if v is not None}

    ingest_record_iter(store, records(), source=source, kind=kind, report=report)


_READERS = {"json": _ingest_json, "csv": _ingest_csv, "parquet": _ingest_parquet}


def ingest_paths(
    store: Store,
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    kind: str | None = None,
    progress: bool | None = None,
) -> IngestReport:
    """Ingest files and directories into ``store`` (see :meth:`Store.ingest`)."""
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    if kind is not None:
        from voiceinsights.models import KINDS

        if kind not in KINDS:
            raise IngestError(f"unknown kind {kind!r}; kinds are {', '.join(KINDS)}")
    files = collect_files(list(paths))
    report = IngestReport()
    if store.path == ":memory:":  # nowhere to spill: the data lives in memory anyway
        _ingest_files(store, files, report, kind, progress)
    else:
        with _memory_limit(store.connection, INGEST_MEMORY_LIMIT):
            _ingest_files(store, files, report, kind, progress)
    return report


#: DuckDB's memory limit while ingesting: beyond it DuckDB evicts and spills, so the peak
#: memory of an ingest does not grow with the size of the input or of the store.
INGEST_MEMORY_LIMIT = "512MB"


@contextmanager
def _memory_limit(conn: duckdb.DuckDBPyConnection, limit: str) -> Iterator[None]:
    previous = conn.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    conn.execute(f"SET memory_limit = '{limit}'")
    try:
        yield
    finally:
        conn.execute(f"SET memory_limit = '{str(previous).replace(chr(39), '')}'")


def _ingest_files(
    store: Store,
    files: list[Path],
    report: IngestReport,
    kind: str | None,
    progress: bool | None,
) -> None:
    total = sum(f.stat().st_size for f in files)
    with _progress_bar(total, progress) as task:
        for f in files:
            report.files.append(str(f))
            fmt = _format(f)
            try:
                if fmt is None:
                    report.reject(
                        Rejection(
                            str(f),
                            None,
                            None,
                            None,
                            "unknown file type (expected .json, .jsonl, "
                            ".ndjson, .csv or .parquet, optionally .gz)",
                        )
                    )
                elif fmt == "jsonl":
                    _ingest_jsonl(store, f, report, kind, task=task)
                    continue
                else:
                    _READERS[fmt](store, f, report, kind)
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                report.reject(Rejection(str(f), None, None, None, f"cannot read file: {exc}"))
            task.advance(f.stat().st_size)
    _store_rejections(store, report)


def _progress_bar(total: int, enabled: bool | None) -> Any:
    return progress("ingest", total=total or None, enabled=enabled)

"""Parquet: hive-partitioned export, live segments, and read-only datasets.

Layout, shared by :meth:`Store.export_parquet`, :func:`write_segment` (the collector's
live segments) and :func:`open_parquet`::

    DIR/<table>/date=YYYY-MM-DD/<name>.parquet

``date`` is the UTC date of the table's time column (``date=unknown`` when it is null).
The files hold every schema column, so the partition directory is only a convenience for
other engines (Spark, Trino, BigQuery external tables); voiceinsights reads the columns.
Several writers may add files to one directory: readers de-duplicate on the natural key.
"""

from __future__ import annotations

import contextlib
import glob
import os
import threading
import uuid
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from voiceinsights._exceptions import ReadOnlyStoreError, StoreError
from voiceinsights.schema import TABLES, VIEWS, Table, get_table
from voiceinsights.store._ddl import CALLS_VIEW_SQL, preference_order, quote
from voiceinsights.store._read import Reader
from voiceinsights.store._report import WriteResult
from voiceinsights.store._types import to_arrow
from voiceinsights.store._write import transaction, write_arrow

__all__ = ["ParquetStore", "export_parquet", "open_parquet", "write_segment"]

_UNKNOWN_DATE = "unknown"


def _literal(text: str) -> str:
    """A SQL string literal (for paths in COPY, which takes no bound parameters)."""
    return "'" + text.replace("'", "''") + "'"


def table_files(root: Path, table: str) -> list[str]:
    """Every finished Parquet file of ``table`` under ``root`` (temporary files excluded)."""
    pattern = str(root / glob.escape(table) / "**" / "*.parquet")
    return sorted(glob.glob(pattern, recursive=True))


# -- writing ----------------------------------------------------------------------------
def export_parquet(conn: duckdb.DuckDBPyConnection, directory: Path) -> dict[str, int]:
    """Write every table and the ``calls`` view under ``directory`` (see module doc).

    A previous export's files (``export-*.parquet``) are replaced; other files in the
    directory (collector segments) are left alone.
    """
    directory.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for t in (*TABLES, *VIEWS):
        target = directory / t.name
        for old in glob.glob(str(target / "**" / "export-*.parquet"), recursive=True):
            os.unlink(old)
        row = conn.execute(f"SELECT count(*) FROM {quote(t.name)}").fetchall()[0]
        n = int(row[0]) if row else 0
        counts[t.name] = n
        if n == 0:
            continue
        cols = ", ".join(quote(c) for c in t.column_names)
        date = (
            f"coalesce(strftime({quote(t.time_column)}, '%Y-%m-%d'), '{_UNKNOWN_DATE}')"
            if t.time_column
            else f"'{_UNKNOWN_DATE}'"
        )
        try:
            conn.execute(
                f"COPY (SELECT {cols}, {date} AS date FROM {quote(t.name)}) "
                f"TO {_literal(str(target))} (FORMAT parquet, PARTITION_BY (date), "
                "FILENAME_PATTERN 'export-{uuid}', OVERWRITE_OR_IGNORE true, "
                "WRITE_PARTITION_COLUMNS false)"
            )
        except duckdb.Error as exc:
            raise StoreError(f"cannot export {t.name} to {target}: {exc}") from None
    return counts


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_segment(root: str | os.PathLike[str], table: str, rows: Any) -> list[Path]:
    """Write canonical rows as new Parquet segment files of ``table`` under ``root``.

    One file per ``date=`` partition the rows touch, each with a unique name, written to a
    temporary name, fsynced and renamed into place, so readers never see half a file.
    Safe to call from several processes on one ``root``.

    Parameters
    ----------
    root : path
        The dataset directory (what :func:`open_parquet` reads).
    table : str
        A table of :data:`voiceinsights.schema.TABLES`.
    rows : iterable of dict, DataFrame or pyarrow.Table
        Canonical rows (see :meth:`Store.write_rows`).

    Returns
    -------
    list of Path
        The files written (empty when ``rows`` is empty).
    """
    t = get_table(table)
    if t not in TABLES:
        raise StoreError(f"{table} is a view; segments hold tables")
    data = to_arrow(t, rows)
    if data.num_rows == 0:
        return []
    dates: Any
    if t.time_column:
        times: Any = data.column(t.time_column)
        dates = pc.fill_null(pc.strftime(times, "%Y-%m-%d"), _UNKNOWN_DATE)
    else:
        dates = pa.array([_UNKNOWN_DATE] * data.num_rows)
    written = []
    for date in pc.unique(dates).to_pylist():
        part = data.filter(pc.equal(dates, date))
        folder = Path(root) / t.name / f"date={date}"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"seg-{uuid.uuid4().hex}"
        tmp = folder / f".{name}.parquet.tmp"
        final = folder / f"{name}.parquet"
        pq.write_table(part, tmp, compression="zstd")
        _fsync(tmp)
        os.replace(tmp, final)
        written.append(final)
    for folder in {p.parent for p in written}:
        _fsync(folder)
    return written


# -- reading ----------------------------------------------------------------------------
def _select_sql(conn: duckdb.DuckDBPyConnection, t: Table, files: list[str]) -> str:
    """SELECT of ``t``'s schema columns from ``files``, typed, nulls for absent columns."""
    source = (
        "read_parquet([" + ", ".join(_literal(f) for f in files) + "], union_by_name = true, "
        "hive_partitioning = false)"
    )
    present = {str(r[0]) for r in conn.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    cols = ", ".join(
        (f"CAST({quote(c.name)} AS {c.type})" if c.name in present else f"NULL::{c.type}")
        + f" AS {quote(c.name)}"
        for c in t.columns
    )
    return f"SELECT {cols} FROM {source}"


def _dedup_sql(t: Table, select: str) -> str:
    keys = ", ".join(quote(k) for k in t.key)
    cols = ", ".join(quote(c) for c in t.column_names)
    return (
        f"SELECT {cols} FROM (SELECT *, row_number() OVER (PARTITION BY {keys} "
        f"ORDER BY {preference_order(t)}) AS _vi_rn FROM ({select})) WHERE _vi_rn = 1"
    )


class ParquetStore(Reader):
    """The store's read API over a Parquet directory; read-only, live.

    Every query sees the files present when it runs (new collector segments appear
    without reopening), de-duplicated on each table's natural key with the store's merge
    rules. Writes raise :class:`~voiceinsights.ReadOnlyStoreError`.
    """

    read_only = True

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.path = Path(directory)
        if not self.path.is_dir():
            raise StoreError(f"{self.path} is not a directory of Parquet datasets")
        self._label = str(self.path)
        self._lock = threading.RLock()
        self._files: dict[str, list[str]] = {}
        self._conn = duckdb.connect(":memory:")
        self._conn.execute("SET TimeZone = 'UTC'")
        # In Jupyter, DuckDB refuses any progress-bar setting unless ipywidgets is
        # installed (and leaves the bar off there): that must not break open().
        with contextlib.suppress(duckdb.InvalidInputException):
            self._conn.execute("SET enable_progress_bar = false")
        self.refresh()

    def __repr__(self) -> str:
        return f"<voiceinsights.ParquetStore {self.path} (read-only)>"

    def __enter__(self) -> ParquetStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the in-memory engine."""
        self._conn.close()

    def refresh(self) -> None:
        """Re-list the files (done before every read)."""
        with self._lock:
            self._refresh()

    def _refresh(self) -> None:
        changed = False
        for t in TABLES:
            files = table_files(self.path, t.name)
            if files == self._files.get(t.name):
                continue
            changed = True
            self._files[t.name] = files
            if files:
                try:
                    body = _dedup_sql(t, _select_sql(self._conn, t, files))
                except duckdb.Error as exc:
                    raise StoreError(f"cannot read {t.name} under {self.path}: {exc}") from None
            else:
                cols = ", ".join(f"NULL::{c.type} AS {quote(c.name)}" for c in t.columns)
                body = f"SELECT {cols} WHERE false"
            self._conn.execute(f"CREATE OR REPLACE VIEW {quote(t.name)} AS {body}")
        if changed:
            self._conn.execute(CALLS_VIEW_SQL)

    # Every read goes through the connection: list the files first.
    def sql(self, query: str, params: list[Any] | dict[str, Any] | None = None) -> Any:
        self.refresh()
        return super().sql(query, params)

    def _select(self, t: Table, where: list[tuple[str, str, Any]] | None = None) -> Any:
        self.refresh()
        return super()._select(t, where)

    def relation(self, table: str) -> duckdb.DuckDBPyRelation:
        self.refresh()
        return super().relation(table)

    def counts(self) -> dict[str, int]:
        self.refresh()
        return super().counts()

    def export_parquet(self, directory: str | os.PathLike[str]) -> dict[str, int]:
        """Write the de-duplicated tables as a fresh export (see ``Store.export_parquet``)."""
        self.refresh()
        return export_parquet(self._conn, Path(directory))

    # -- writes are refused -------------------------------------------------------------
    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise ReadOnlyStoreError(
            f"{self.path} is a read-only Parquet dataset: write into a DuckDB store "
            "(voiceinsights.open) or add segment files with write_segment"
        )

    write_rows = ingest = ingest_records = set_cursor = compact_from = migrate = _refuse

    def get_cursor(self, name: str) -> str | None:
        """Parquet datasets keep no cursors."""
        return None


def open_parquet(directory: str | os.PathLike[str]) -> ParquetStore:
    """Open a Parquet directory (an export or live collector segments) read-only.

    Parameters
    ----------
    directory : path
        The dataset root holding ``<table>/date=YYYY-MM-DD/*.parquet``.
    """
    return ParquetStore(directory)


def compact_into(store: Any, directory: Path, *, delete: bool = False) -> dict[str, WriteResult]:
    """Fold the segment files under ``directory`` into ``store`` (idempotent)."""
    if not directory.is_dir():
        raise StoreError(f"{directory} is not a directory of Parquet segments")
    conn: duckdb.DuckDBPyConnection = store.connection
    results: dict[str, WriteResult] = {}
    folded: list[str] = []
    for t in TABLES:
        files = table_files(directory, t.name)
        if not files:
            continue
        try:
            with transaction(conn):
                rel = conn.sql(_select_sql(conn, t, files))
                results[t.name] = write_arrow(conn, t, rel)
        except duckdb.Error as exc:
            raise StoreError(f"cannot compact {t.name} from {directory}: {exc}") from None
        folded.extend(files)
    if delete:
        for f in folded:
            Path(f).unlink(missing_ok=True)
    return results

"""The DuckDB store: open, write canonical rows, cursors, and the read API."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb

from voiceinsights._exceptions import StoreError, StoreLockedError
from voiceinsights.schema import SCHEMA_VERSION, get_table
from voiceinsights.store._ddl import CALLS_VIEW_SQL
from voiceinsights.store._migrations import check_version, current_version, migrate
from voiceinsights.store._read import Reader
from voiceinsights.store._report import IngestReport, WriteResult
from voiceinsights.store._types import to_arrow
from voiceinsights.store._write import transaction, write_arrow

__all__ = ["DEFAULT_PATH", "Store", "default_path", "open"]

#: Store used when neither a path nor ``$VOICEINSIGHTS_DB`` is given.
DEFAULT_PATH = "voiceinsights.duckdb"

_LOCK_PID = re.compile(r"PID (\d+)")


def default_path() -> Path:
    """``$VOICEINSIGHTS_DB`` when set, else ``./voiceinsights.duckdb``."""
    return Path(os.environ.get("VOICEINSIGHTS_DB") or DEFAULT_PATH)


def _connect(path: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    if read_only and path != ":memory:" and not Path(path).exists():
        raise StoreError(f"no store at {path}: open it writable once to create it")
    try:
        return duckdb.connect(path, read_only=read_only)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            pid = _LOCK_PID.search(text)
            who = f"process {pid.group(1)}" if pid else "another process"
            raise StoreLockedError(
                f"{path} is locked: {who} has it open for writing, and DuckDB lets only "
                "one process use a database file while it writes. Stop that process (or "
                "close its store) and retry; to read live data meanwhile, read its Parquet "
                "export or collector segments with voiceinsights.open_parquet(DIR)"
            ) from None
        raise StoreError(f"cannot open {path}: {text}") from None
    except duckdb.Error as exc:
        raise StoreError(f"cannot open {path}: {exc}") from None


class Store(Reader):
    """A voiceinsights DuckDB store. Create it with :func:`voiceinsights.open`.

    Reads return pandas DataFrames with the column names of
    :mod:`voiceinsights.schema`; writes are idempotent on each table's natural key.
    Use it as a context manager, or call :meth:`close`, to release the file lock.
    """

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False) -> None:
        self.path = str(path)
        self.read_only = read_only
        self._label = self.path
        self._lock = threading.RLock()
        self._conn = _connect(self.path, read_only)
        try:
            self._conn.execute("SET TimeZone = 'UTC'")
            # In Jupyter, DuckDB refuses any progress-bar setting unless ipywidgets is
            # installed (and leaves the bar off there): that must not break open().
            with contextlib.suppress(duckdb.InvalidInputException):
                self._conn.execute("SET enable_progress_bar = false")
            if read_only:
                version = current_version(self._conn)
                if version == 0:
                    raise StoreError(f"{self.path} is not a voiceinsights store")
                check_version(version, self.path)
            else:
                migrate(self._conn, self.path)
                self._conn.execute(CALLS_VIEW_SQL)
        except BaseException:
            self._conn.close()
            raise

    # -- lifecycle ---------------------------------------------------------------------
    def close(self) -> None:
        """Close the connection and release the file."""
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"<voiceinsights.Store {self.path} ({mode}, schema v{self.version})>"

    @property
    def version(self) -> int:
        """Schema version of the file."""
        return current_version(self._conn)

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The underlying DuckDB connection (for advanced use)."""
        return self._conn

    def _writable(self) -> None:
        if self.read_only:
            from voiceinsights._exceptions import ReadOnlyStoreError

            raise ReadOnlyStoreError(f"{self.path} was opened read_only: writes are refused")

    # -- writes ------------------------------------------------------------------------
    def write_rows(self, table: str, rows: Any, *, source: str | None = None) -> WriteResult:
        """Write canonical rows to ``table``, idempotently on its natural key.

        Parameters
        ----------
        table : str
            A table of :data:`voiceinsights.schema.TABLES`.
        rows : iterable of dict, pandas.DataFrame or pyarrow.Table
            Canonical rows (schema column names; missing columns are null).
        source : str, optional
            Fills ``ingest_source`` where the rows leave it null.

        Returns
        -------
        WriteResult
            Rows inserted, duplicates skipped, stored versions replaced.
        """
        self._writable()
        t = get_table(table)
        if t.name == "calls":
            raise StoreError("calls is a view over call_events, rest_calls and summaries")
        data = to_arrow(t, rows)
        data = _fill_defaults(data, source)
        with self._lock, transaction(self._conn):
            return write_arrow(self._conn, t, data)

    def write_many(
        self, rows: Iterable[tuple[str, Mapping[str, Any]]], *, source: str | None = None
    ) -> dict[str, WriteResult]:
        """Write ``(table, row)`` pairs (as returned by ``models.parse_record``)."""
        by_table: dict[str, list[Mapping[str, Any]]] = {}
        for table, row in rows:
            by_table.setdefault(table, []).append(row)
        return {t: self.write_rows(t, r, source=source) for t, r in by_table.items()}

    # -- cursors -----------------------------------------------------------------------
    def get_cursor(self, name: str) -> str | None:
        """The saved value of cursor ``name`` (for incremental pulls), or None."""
        # fetchall, not fetchone: DuckDB 2 keeps an unfinished result open otherwise and
        # refuses the next query on the connection.
        query = "SELECT value FROM sync_cursors WHERE name = ?"
        rows = self._conn.execute(query, [name]).fetchall()
        return None if not rows else str(rows[0][0])

    def set_cursor(self, name: str, value: str) -> None:
        """Save cursor ``name`` (replacing its previous value)."""
        self._writable()
        with self._lock:
            self._conn.execute(
                "INSERT INTO sync_cursors (name, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                [name, str(value), dt.datetime.now(dt.UTC)],
            )

    # -- ingest, Parquet (implemented in their own modules) -----------------------------
    def ingest(
        self,
        paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
        *,
        kind: str | None = None,
        progress: bool | None = None,
    ) -> IngestReport:
        """Ingest files and directories (JSON, JSON Lines, CSV, Parquet); see ``docs/store.md``.

        Parameters
        ----------
        paths : path or list of paths
            Files, or directories searched recursively.
        kind : str, optional
            Force every record's kind instead of detecting it.
        progress : bool, optional
            Show a progress bar; default: when stderr is a terminal.
        """
        self._writable()
        from voiceinsights.store._ingest import ingest_paths

        with self._lock:
            return ingest_paths(self, paths, kind=kind, progress=progress)

    def ingest_records(
        self,
        records: Iterable[Mapping[str, Any]],
        *,
        source: str,
        kind: str | None = None,
        received_at: dt.datetime | None = None,
    ) -> IngestReport:
        """Parse wire records (dicts as Twilio sends them, SDK envelopes) and store them.

        Invalid records are kept in the ``rejected`` table and listed in the report.
        """
        self._writable()
        from voiceinsights.store._ingest import ingest_record_iter

        with self._lock:
            return ingest_record_iter(
                self,
                ((i + 1, r) for i, r in enumerate(records)),
                source=source,
                kind=kind,
                received_at=received_at,
            )

    def export_parquet(self, directory: str | os.PathLike[str]) -> dict[str, int]:
        """Write every table and the ``calls`` view as hive-partitioned Parquet datasets.

        Layout: ``DIR/<table>/date=YYYY-MM-DD/*.parquet`` by each table's time column.
        Returns rows written per table.
        """
        from voiceinsights.store._parquet import export_parquet

        with self._lock:
            return export_parquet(self._conn, Path(directory))

    def compact_from(
        self, directory: str | os.PathLike[str], *, delete: bool = False
    ) -> dict[str, WriteResult]:
        """Fold Parquet segments (collector output or an export) into this store.

        Idempotent: rows whose natural key is stored add nothing. With ``delete=True``
        the segment files that were folded are removed afterwards (files written
        meanwhile are kept for the next run).
        """
        self._writable()
        from voiceinsights.store._parquet import compact_into

        with self._lock:
            return compact_into(self, Path(directory), delete=delete)

    def migrate(self) -> list[int]:
        """Apply pending migrations (done on every writable open; returns none then)."""
        self._writable()
        with self._lock:
            return migrate(self._conn, self.path)


def _fill_defaults(data: Any, source: str | None, *, now: dt.datetime | None = None) -> Any:
    """Fill null ``received_at`` with ``now`` and null ``ingest_source`` with ``source``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    now_scalar = pa.scalar(now or dt.datetime.now(dt.UTC), type=pa.timestamp("us", tz="UTC"))
    names = data.column_names
    if "received_at" in names:
        i = names.index("received_at")
        data = data.set_column(i, "received_at", pc.fill_null(data.column(i), now_scalar))
    if source is not None and "ingest_source" in names:
        i = names.index("ingest_source")
        data = data.set_column(
            i, "ingest_source", pc.fill_null(data.column(i), pa.scalar(source, pa.string()))
        )
    return data


def open(path: str | os.PathLike[str] | None = None, *, read_only: bool = False) -> Store:
    """Open (creating and migrating if needed) a voiceinsights DuckDB store.

    Parameters
    ----------
    path : path, optional
        The DuckDB file; default ``$VOICEINSIGHTS_DB`` or ``./voiceinsights.duckdb``.
        ``":memory:"`` gives a throw-away store.
    read_only : bool
        Open without writing (no migrations). Several read-only processes may share a
        file, but not while a process has it open for writing.

    Raises
    ------
    StoreLockedError
        Another process has the file open for writing.
    SchemaVersionError
        The file was written by a newer voiceinsights.
    """
    return Store(default_path() if path is None else path, read_only=read_only)


_ = SCHEMA_VERSION

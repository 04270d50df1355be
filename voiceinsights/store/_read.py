"""The read API shared by the DuckDB store and read-only Parquet datasets."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import duckdb
import pandas as pd

from voiceinsights._exceptions import StoreError
from voiceinsights.schema import Table, get_table
from voiceinsights.store._ddl import quote

__all__ = ["Reader", "to_pandas"]


def to_pandas(rel: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """A relation's rows as a DataFrame (through Arrow: UTC timestamps, nullable ints)."""
    table = rel.to_arrow_table()
    df: pd.DataFrame = table.to_pandas(types_mapper=_types_mapper)
    return df


def _types_mapper(t: object) -> object:
    import pyarrow as pa

    # Integer columns with nulls stay integers (pandas' nullable Int64) instead of floats.
    mapping = {
        pa.int8(): pd.Int8Dtype(),
        pa.int16(): pd.Int16Dtype(),
        pa.int32(): pd.Int32Dtype(),
        pa.int64(): pd.Int64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
    }
    return mapping.get(t)


def _as_utc(value: Any, name: str) -> dt.datetime | None:
    if value is None:
        return None
    from voiceinsights._time import parse_timestamp

    try:
        return parse_timestamp(value)
    except Exception as exc:
        raise StoreError(f"{name}={value!r} is not a timestamp: {exc}") from None


# Guards the recursive walks of call trees against parent cycles in bad data.
_MAX_DEPTH = 64


class Reader:
    """Accessors returning pandas DataFrames with the schema's column names.

    Subclasses provide ``_conn``, a DuckDB connection in which every table of
    :data:`voiceinsights.schema.TABLES` and the ``calls`` view can be queried by name.
    """

    _conn: duckdb.DuckDBPyConnection
    _label: str
    #: One query at a time on the connection (a DuckDB connection is not thread-safe).
    _lock: threading.RLock

    # -- generic ---------------------------------------------------------------------
    def sql(self, query: str, params: list[Any] | dict[str, Any] | None = None) -> pd.DataFrame:
        """Run ``query`` with bound ``params`` (``?`` or ``$name`` placeholders)."""
        with self._lock:
            try:
                rel = self._conn.sql(query, params=params)
                if rel is None:
                    return pd.DataFrame()
                return to_pandas(rel)
            except duckdb.Error as exc:
                raise StoreError(f"query failed on {self._label}: {exc}") from None

    def relation(self, table: str) -> duckdb.DuckDBPyRelation:
        """A lazy DuckDB relation over ``table`` (any schema table or view)."""
        t = get_table(table)
        return self._conn.sql(f"SELECT * FROM {quote(t.name)}")

    def table(self, table: str) -> pd.DataFrame:
        """All rows of ``table`` in schema column order, ordered by its time column."""
        return self._select(get_table(table))

    def _select(
        self,
        t: Table,
        where: list[tuple[str, str, Any]] | None = None,
    ) -> pd.DataFrame:
        cols = ", ".join(quote(c) for c in t.column_names)
        clauses: list[str] = []
        params: list[Any] = []
        for column, op, value in where or []:
            if value is None:
                continue
            t.column(column)  # only schema columns reach SQL
            clauses.append(f"{quote(column)} {op} ?")
            params.append(value)
        sql = f"SELECT {cols} FROM {quote(t.name)}"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        order = [t.time_column] if t.time_column else []
        order += [k for k in t.key if k not in order]
        sql += " ORDER BY " + ", ".join(f"{quote(c)} NULLS LAST" for c in order)
        with self._lock:
            return to_pandas(self._conn.sql(sql, params=params))

    # -- calls -----------------------------------------------------------------------
    def calls(self, call_sid: str | None = None) -> pd.DataFrame:
        """One row per call leg merged from callbacks, REST rows and summaries (``calls``)."""
        return self._select(get_table("calls"), [("call_sid", "=", call_sid)])

    def call_family(self, call_sid: str) -> pd.DataFrame:
        """The ``calls`` rows of every leg in the tree of ``call_sid``: up its parents to
        the root, then all the root's descendants (none when the store has no such leg)."""
        walk = f"""
            WITH RECURSIVE up(sid, parent, n) AS (
                SELECT call_sid, parent_call_sid, 0 FROM calls WHERE call_sid = $sid
                UNION ALL
                SELECT c.call_sid, c.parent_call_sid, up.n + 1
                FROM calls c JOIN up ON c.call_sid = up.parent
                WHERE up.n < {_MAX_DEPTH}
            ), root AS (
                SELECT sid FROM up ORDER BY n DESC LIMIT 1
            ), down(sid, n) AS (
                SELECT sid, 0 FROM root
                UNION ALL
                SELECT c.call_sid, down.n + 1
                FROM calls c JOIN down ON c.parent_call_sid = down.sid
                WHERE down.n < {_MAX_DEPTH}
            )
            SELECT * FROM calls WHERE call_sid IN (SELECT sid FROM down UNION SELECT $sid)
            ORDER BY start_time NULLS LAST, call_sid
        """
        return self.sql(walk, {"sid": str(call_sid)})

    def events(self, call_sid: str | None = None) -> pd.DataFrame:
        """Status-callback events (``call_events``), oldest first."""
        return self._select(get_table("call_events"), [("call_sid", "=", call_sid)])

    def rest_calls(self, call_sid: str | None = None) -> pd.DataFrame:
        """Calls REST resources (``rest_calls``), newest version of each leg."""
        return self._select(get_table("rest_calls"), [("call_sid", "=", call_sid)])

    def conference_events(self, conference_sid: str | None = None) -> pd.DataFrame:
        """Conference status callbacks (``conference_events``)."""
        return self._select(
            get_table("conference_events"), [("conference_sid", "=", conference_sid)]
        )

    def recordings(self, call_sid: str | None = None) -> pd.DataFrame:
        """Recording status callbacks (``recordings``)."""
        return self._select(get_table("recordings"), [("call_sid", "=", call_sid)])

    # -- SDK -------------------------------------------------------------------------
    def samples(
        self,
        call_sid: str | None = None,
        since: Any = None,
        until: Any = None,
    ) -> pd.DataFrame:
        """Voice SDK per-second samples (``samples``).

        Parameters
        ----------
        call_sid : str, optional
            Only this leg's samples.
        since, until : datetime or str, optional
            Half-open time window ``since <= timestamp < until`` (UTC when naive).
        """
        return self._select(
            get_table("samples"),
            [
                ("call_sid", "=", call_sid),
                ("timestamp", ">=", _as_utc(since, "since")),
                ("timestamp", "<", _as_utc(until, "until")),
            ],
        )

    def warnings(self, call_sid: str | None = None) -> pd.DataFrame:
        """Voice SDK warnings raised and cleared (``warnings``)."""
        return self._select(get_table("warnings"), [("call_sid", "=", call_sid)])

    def feedback(self, call_sid: str | None = None) -> pd.DataFrame:
        """Call feedback (``feedback``): score 1..5 (null when declined) and issue."""
        return self._select(get_table("feedback"), [("call_sid", "=", call_sid)])

    # -- probes ----------------------------------------------------------------------
    def probes(self, label: str | None = None) -> pd.DataFrame:
        """Probe runs and forwarded PreflightTest reports (``probe_runs``)."""
        return self._select(get_table("probe_runs"), [("label", "=", label)])

    def probe_samples(self, run_id: str | None = None) -> pd.DataFrame:
        """Per-second samples of probe runs (``probe_samples``)."""
        return self._select(get_table("probe_samples"), [("run_id", "=", run_id)])

    # -- Voice Insights --------------------------------------------------------------
    def summaries(self, call_sid: str | None = None) -> pd.DataFrame:
        """Voice Insights call summaries (``insights_summaries``)."""
        return self._select(get_table("insights_summaries"), [("call_sid", "=", call_sid)])

    def insights_events(self, call_sid: str | None = None) -> pd.DataFrame:
        """Voice Insights call events (``insights_events``)."""
        return self._select(get_table("insights_events"), [("call_sid", "=", call_sid)])

    def insights_metrics(self, call_sid: str | None = None) -> pd.DataFrame:
        """Voice Insights call metrics (``insights_metrics``)."""
        return self._select(get_table("insights_metrics"), [("call_sid", "=", call_sid)])

    def conferences(self, conference_sid: str | None = None) -> pd.DataFrame:
        """Voice Insights conference summaries (``insights_conferences``)."""
        return self._select(
            get_table("insights_conferences"), [("conference_sid", "=", conference_sid)]
        )

    def participants(self, conference_sid: str | None = None) -> pd.DataFrame:
        """Voice Insights conference participant summaries (``insights_participants``)."""
        return self._select(
            get_table("insights_participants"), [("conference_sid", "=", conference_sid)]
        )

    def cloudevents(self) -> pd.DataFrame:
        """Log of Event Streams CloudEvents received (``cloudevents``)."""
        return self._select(get_table("cloudevents"))

    def rejected(self, ingest_source: str | None = None) -> pd.DataFrame:
        """Records that could not be stored, with file, line, field and reason."""
        return self._select(get_table("rejected"), [("ingest_source", "=", ingest_source)])

    def counts(self) -> dict[str, int]:
        """Row count of every canonical table."""
        from voiceinsights.schema import TABLES

        out = {}
        for t in TABLES:
            with self._lock:
                row = self._conn.execute(f"SELECT count(*) FROM {quote(t.name)}").fetchall()[0]
            out[t.name] = int(row[0]) if row else 0
        return out

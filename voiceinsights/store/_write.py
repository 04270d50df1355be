"""Idempotent writes of canonical Arrow batches into DuckDB tables."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import pyarrow as pa

from voiceinsights.schema import Table
from voiceinsights.store._ddl import better_than, key_match, preference_order, quote
from voiceinsights.store._report import WriteResult

__all__ = ["transaction", "write_arrow"]

_counter = itertools.count()


def _count(conn: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> int:
    row = conn.execute(sql, params or []).fetchall()[0]
    return int(row[0]) if row else 0


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run the block in one transaction: commit at its end, roll back if it raises."""
    conn.execute("BEGIN TRANSACTION")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def write_arrow(
    conn: duckdb.DuckDBPyConnection,
    table: Table,
    data: pa.Table | duckdb.DuckDBPyRelation,
) -> WriteResult:
    """Insert the rows of ``data`` whose natural key is not stored yet.

    Rows repeating a key within ``data`` are reduced to the preferred one first. For
    ``rest_calls`` and ``insights_summaries`` a stored row is replaced when the incoming
    version is preferred (newer ``date_updated``; more complete ``processing_state``).
    The caller holds the transaction.
    """
    n = next(_counter)
    src = f"_vi_in_{n}"
    batch = f"_vi_batch_{n}"
    name = quote(table.name)
    cols = ", ".join(quote(c) for c in table.column_names)
    keys = ", ".join(quote(k) for k in table.key)
    if isinstance(data, pa.Table):
        conn.register(src, data)
        total = data.num_rows
        src_sql = src
    else:
        data.create_view(src, replace=True)
        total = _count(conn, f"SELECT count(*) FROM {src}")
        src_sql = src
    try:
        if total == 0:
            return WriteResult(table.name)
        better = better_than(table, "b", "t")
        # Fast path: no key repeated within the batch (checked by one hash aggregate),
        # so the preferred-version window and its temporary copy are not needed.
        unique = better is None and total == _count(
            conn, f"SELECT count(*) FROM (SELECT DISTINCT {keys} FROM {src_sql})"
        )
        if unique:
            batch = src_sql
        else:
            conn.execute(
                f"CREATE OR REPLACE TEMP TABLE {batch} AS SELECT {cols} FROM ("
                f"SELECT *, row_number() OVER (PARTITION BY {keys} "
                f"ORDER BY {preference_order(table)}) AS _vi_rn FROM {src_sql}) "
                "WHERE _vi_rn = 1"
            )
        updated = 0
        if better is not None:
            updated = _count(
                conn,
                f"DELETE FROM {name} t USING {batch} b "
                f"WHERE {key_match(table, 't', 'b')} AND {better}",
            )
        # Existing keys are looked up only within the batch's time range when the time
        # column is part of the key: zone maps then skip most of a large table.
        existing = f"SELECT {keys} FROM {name}"
        params: list[object] = []
        tc = table.time_column
        if tc is not None and tc in table.key:
            # Constant bounds (not subqueries) so that DuckDB prunes row groups by their
            # min/max: the lookup then costs the batch's time range, not the whole table.
            qc = quote(tc)
            lo, hi, nulls = conn.execute(
                f"SELECT min({qc})::VARCHAR, max({qc})::VARCHAR, "
                f"count(*) FILTER (WHERE {qc} IS NULL) FROM {batch}"
            ).fetchall()[0]
            if lo is None:
                existing += f" WHERE {qc} IS NULL"
            else:
                existing += f" WHERE {qc} BETWEEN ?::TIMESTAMPTZ AND ?::TIMESTAMPTZ"
                existing += f" OR {qc} IS NULL" if nulls else ""
                params = [lo, hi]
        b_cols = ", ".join("b." + quote(c) for c in table.column_names)
        if not conn.execute(f"SELECT EXISTS ({existing})", params).fetchall()[0][0]:
            # Nothing stored in the batch's range (a new store, or new data): a plain
            # insert, no anti-join.
            written = _count(conn, f"INSERT INTO {name} ({cols}) SELECT {b_cols} FROM {batch} b")
        else:
            written = _count(
                conn,
                f"INSERT INTO {name} ({cols}) SELECT {b_cols} "
                f"FROM {batch} b ANTI JOIN ({existing}) e ON {key_match(table, 'b', 'e')}",
                params,
            )
        if not unique:
            conn.execute(f"DROP TABLE IF EXISTS {batch}")
        inserted = written - updated
        return WriteResult(table.name, inserted, total - written, updated)
    finally:
        if isinstance(data, pa.Table):
            conn.unregister(src)
        else:
            conn.execute(f"DROP VIEW IF EXISTS {src}")

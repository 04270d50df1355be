"""Canonical rows as Arrow: one Arrow schema per table, and rows converted to it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from voiceinsights._exceptions import ValidationError
from voiceinsights.schema import Table

__all__ = ["arrow_schema", "arrow_type", "to_arrow"]

_SCALARS: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "JSON": pa.string(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
}


def arrow_type(duckdb_type: str) -> pa.DataType:
    """Arrow type of a schema column type (``VARCHAR[]`` is a list of strings)."""
    if duckdb_type.endswith("[]"):
        return pa.list_(arrow_type(duckdb_type[:-2]))
    return _SCALARS[duckdb_type]


def arrow_schema(table: Table) -> pa.Schema:
    """The Arrow schema of ``table``: its columns, in order, with their types."""
    return pa.schema([pa.field(c.name, arrow_type(c.type)) for c in table.columns])


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        value = value.decode()
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _timestamp(value: Any, table: str, column: str) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        return _timestamp(value.to_pydatetime(), table, column)
    from voiceinsights._time import parse_timestamp

    return parse_timestamp(value)


def _rows_to_arrow(table: Table, rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    json_cols = {c.name for c in table.columns if c.type == "JSON"}
    ts_cols = {c.name for c in table.columns if c.type == "TIMESTAMPTZ"}
    names = table.column_names
    known = set(names)
    columns: dict[str, list[Any]] = {n: [] for n in names}
    for i, row in enumerate(rows):
        unknown = set(row) - known
        if unknown:
            raise ValidationError(
                f"{table.name} row {i} has columns that are not in the schema: {sorted(unknown)}",
                field=sorted(unknown)[0],
            )
        for n in names:
            v = row.get(n)
            if n in json_cols:
                v = _json_text(v)
            elif n in ts_cols:
                v = _timestamp(v, table.name, n)
            columns[n].append(v)
    schema = arrow_schema(table)
    arrays = []
    for f in schema:
        try:
            arrays.append(pa.array(columns[f.name], type=f.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
            raise ValidationError(
                f"{table.name}.{f.name}: values do not fit {f.type}: {exc}", field=f.name
            ) from None
    return pa.Table.from_arrays(arrays, schema=schema)


def to_arrow(table: Table, rows: Any) -> pa.Table:
    """Convert ``rows`` to an Arrow table with exactly ``table``'s columns and types.

    ``rows`` may be an iterable of dicts (missing columns are null, JSON columns may hold
    any JSON-serialisable value), a pandas DataFrame, a ``pyarrow.Table`` or
    ``RecordBatch``. Columns absent from an Arrow/pandas input are added as nulls; columns
    not in the schema are an error.
    """
    if isinstance(rows, pa.RecordBatch):
        rows = pa.Table.from_batches([rows])
    if hasattr(rows, "to_dict") and hasattr(rows, "columns") and not isinstance(rows, pa.Table):
        rows = pa.Table.from_pandas(rows, preserve_index=False)
    if not isinstance(rows, pa.Table):
        return _rows_to_arrow(table, rows)
    unknown = set(rows.column_names) - set(table.column_names)
    if unknown:
        raise ValidationError(
            f"{table.name}: columns not in the schema: {sorted(unknown)}",
            field=sorted(unknown)[0],
        )
    schema = arrow_schema(table)
    arrays = []
    for f in schema:
        if f.name in rows.column_names:
            col = rows.column(f.name)
            try:
                arrays.append(col.cast(f.type) if col.type != f.type else col)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise ValidationError(
                    f"{table.name}.{f.name}: {col.type} does not convert to {f.type}: {exc}",
                    field=f.name,
                ) from None
        else:
            arrays.append(pa.nulls(rows.num_rows, type=f.type))
    return pa.Table.from_arrays(arrays, schema=schema)

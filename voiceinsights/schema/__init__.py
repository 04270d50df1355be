"""Canonical tables and columns: the one place their names, types and units are defined.

Wire models produce records with these column names; the store creates its tables from
these definitions; the Parquet layout, the analysis functions and ``docs/nomenclature.md``
all follow them (a test keeps the document in step with this package).

Column names are snake_case and carry their unit where they have one: ``_ms``
(milliseconds), ``_s`` (seconds), ``_pct`` (percent, 0..100), ``_bytes``. Timestamps are
``TIMESTAMPTZ`` in UTC.
"""

from __future__ import annotations

from voiceinsights.schema._calls import CALL_TABLES, CALLS_VIEW
from voiceinsights.schema._insights import INSIGHTS_TABLES
from voiceinsights.schema._model import Column, Table
from voiceinsights.schema._sdk import SDK_TABLES

__all__ = ["SCHEMA_VERSION", "TABLES", "VIEWS", "Column", "Table", "get_table"]

#: Version of the store schema this release writes. Bump it with a migration.
SCHEMA_VERSION = 3

TABLES: tuple[Table, ...] = (*CALL_TABLES, *SDK_TABLES, *INSIGHTS_TABLES)

#: Views the store defines over the tables.
VIEWS: tuple[Table, ...] = (CALLS_VIEW,)

_BY_NAME = {t.name: t for t in (*TABLES, *VIEWS)}


def get_table(name: str) -> Table:
    """Return the table definition called ``name``."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no table {name!r}; tables are {sorted(_BY_NAME)}") from None

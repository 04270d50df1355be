"""The store: a DuckDB file (embedded default), Parquet datasets, file ingest.

>>> import voiceinsights as vi
>>> store = vi.open("calls.duckdb")              # doctest: +SKIP
>>> report = store.ingest(["data/fixtures"])     # doctest: +SKIP
>>> store.calls()                                # doctest: +SKIP

See ``docs/store.md``.
"""

from __future__ import annotations

from voiceinsights.store._parquet import ParquetStore, open_parquet, write_segment
from voiceinsights.store._report import IngestReport, KindCounts, Rejection, WriteResult
from voiceinsights.store._store import DEFAULT_PATH, Store, default_path, open

__all__ = [
    "DEFAULT_PATH",
    "IngestReport",
    "KindCounts",
    "ParquetStore",
    "Rejection",
    "Store",
    "WriteResult",
    "default_path",
    "open",
    "open_parquet",
    "write_segment",
]

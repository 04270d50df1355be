"""Where a reading command reads from: the store (``--db``) or a Parquet directory
(``--parquet``), with the same read API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

__all__ = ["open_source", "parquet_option"]

parquet_option = click.option(
    "--parquet",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="Read a Parquet directory (export or live segments) instead of the store.",
)


@contextmanager
def open_source(db: str | None, parquet: str | None, *, read_only: bool = True) -> Iterator[Any]:
    """The Parquet directory when given, else the store (read-only unless asked)."""
    from voiceinsights.store import open as open_store
    from voiceinsights.store import open_parquet

    if parquet is not None:
        with open_parquet(parquet) as pstore:
            yield pstore
    else:
        with open_store(db, read_only=read_only) as store:
            yield store

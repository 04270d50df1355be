"""``sql``, ``calls``, ``export``, ``migrate`` and ``compact``: the store on the command line."""

from __future__ import annotations

import click

from voiceinsights.cli._ingest import db_option
from voiceinsights.cli._output import emit, format_options
from voiceinsights.cli._source import open_source, parquet_option

__all__ = ["calls", "compact", "export", "migrate", "sql"]


@click.command()
@click.argument("query")
@db_option
@click.option(
    "-p", "--param", "params", multiple=True, help="Value bound to the next ? placeholder."
)
@parquet_option
@click.option("--write", is_flag=True, help="Open the store writable (default: read-only).")
@format_options
def sql(
    query: str,
    db: str | None,
    params: tuple[str, ...],
    parquet: str | None,
    write: bool,
    fmt: str,
) -> None:
    """Run a SQL QUERY against the store's tables and the `calls` view.

    Values given with -p are bound parameters (?), never pasted into the SQL.
    """
    with open_source(db, parquet, read_only=not write) as source:
        emit(source.sql(query, list(params) or None), fmt)


@click.command()
@db_option
@click.option("--call-sid", default=None, help="Only this leg.")
@click.option("--limit", type=int, default=None, help="At most this many rows.")
@parquet_option
@format_options
def calls(
    db: str | None, call_sid: str | None, limit: int | None, parquet: str | None, fmt: str
) -> None:
    """List call legs (the `calls` view: callbacks, REST rows and summaries merged)."""
    with open_source(db, parquet) as source:
        df = source.calls(call_sid)
    emit(df if limit is None else df.head(limit), fmt)


@click.command()
@click.argument("directory", type=click.Path(file_okay=False))
@db_option
def export(directory: str, db: str | None) -> None:
    """Export every table and the `calls` view as hive-partitioned Parquet under DIRECTORY."""
    from voiceinsights.store import open as open_store

    with open_store(db, read_only=True) as store:
        counts = store.export_parquet(directory)
    for table, n in counts.items():
        click.echo(f"{table}: {n} rows")
    click.echo(f"exported to {directory} (read it with voiceinsights.open_parquet)")


@click.command()
@db_option
def migrate(db: str | None) -> None:
    """Bring the store to this release's schema version (opening a store does it too)."""
    from pathlib import Path

    from voiceinsights.schema import SCHEMA_VERSION
    from voiceinsights.store import default_path
    from voiceinsights.store import open as open_store

    path = Path(db) if db else default_path()
    before = 0
    if path.exists():
        with open_store(path, read_only=True) as ro:
            before = ro.version
    with open_store(path) as store:
        after = store.version
    if before == after:
        click.echo(f"{path}: schema version {after}, up to date")
    else:
        click.echo(f"{path}: migrated from schema version {before} to {after}")
    assert after == SCHEMA_VERSION


@click.command()
@click.argument("directory", type=click.Path(file_okay=False))
@db_option
@click.option("--delete", is_flag=True, help="Remove the segment files once folded in.")
def compact(directory: str, db: str | None, delete: bool) -> None:
    """Fold Parquet segments under DIRECTORY (collector output, an export) into the store."""
    from voiceinsights.store import open as open_store

    with open_store(db) as store:
        results = store.compact_from(directory, delete=delete)
    if not results:
        click.echo(f"no segment files under {directory}")
    for table, r in results.items():
        click.echo(
            f"{table}: {r.inserted} inserted, {r.duplicates} duplicates skipped, "
            f"{r.updated} updated"
        )

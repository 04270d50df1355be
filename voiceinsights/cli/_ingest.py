"""``voiceinsights ingest PATH...``: :meth:`voiceinsights.Store.ingest` on the command line."""

from __future__ import annotations

import json

import click

__all__ = ["db_option", "ingest"]

db_option = click.option(
    "--db",
    type=click.Path(dir_okay=False),
    default=None,
    help="DuckDB store (default: $VOICEINSIGHTS_DB or ./voiceinsights.duckdb).",
)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@db_option
@click.option("--kind", default=None, help="Force the kind of every record (e.g. sdk-sample).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar (default: when stderr is a terminal).",
)
def ingest(
    paths: tuple[str, ...], db: str | None, kind: str | None, as_json: bool, progress: bool | None
) -> None:
    """Ingest JSON, JSON Lines, CSV and Parquet files or directories into the store.

    Each record's kind is detected (status callbacks, SDK events, Insights and REST
    resources, CloudEvents). Re-ingesting a file adds nothing. Rejected records are listed
    and kept in the `rejected` table; the exit code is then 1.
    """
    from voiceinsights.store import open as open_store

    with open_store(db) as store:
        report = store.ingest(list(paths), kind=kind, progress=progress)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        click.echo(str(report))
    if report.rejected:
        raise SystemExit(1)

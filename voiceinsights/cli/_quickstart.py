"""``voiceinsights quickstart``: a demo store built from the bundled fixtures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from voiceinsights.cli._ingest import db_option

__all__ = ["build_demo_store", "fixtures_dir", "quickstart"]


def fixtures_dir() -> Path:
    """The bundled fixtures: packaged ``voiceinsights/fixtures_data``, else the checkout's."""
    import voiceinsights

    package = Path(voiceinsights.__file__).resolve().parent
    for candidate in (package / "fixtures_data", package.parent / "data" / "fixtures"):
        if candidate.is_dir() and any(candidate.glob("*.json*")):
            return candidate
    from voiceinsights._exceptions import ConfigError

    raise ConfigError(
        "the bundled fixtures are missing from this installation; generate some with "
        "`voiceinsights fixtures generate --out DIR` and ingest DIR"
    )


def build_demo_store(db: str | Path | None = None) -> tuple[Any, Any]:
    """Ingest the bundled fixtures into ``db``; return ``(store, IngestReport)``.

    The store is left open for the caller (close it, or use it as a context manager).
    """
    from voiceinsights.store import open as open_store

    store = open_store(db)
    try:
        report = store.ingest([fixtures_dir()])
    except BaseException:
        store.close()
        raise
    return store, report


@click.command()
@db_option
def quickstart(db: str | None) -> None:
    """Build a demo store from the bundled fixtures and summarise it."""
    store, report = build_demo_store(db)
    with store:
        click.echo(f"store: {store.path}")
        click.echo(str(report))
        click.echo("rows per table:")
        for table, n in store.counts().items():
            if n:
                click.echo(f"  {table:<22} {n:>8}")
        calls = store.calls()
        if not calls.empty:
            by_status = calls["status"].fillna("unknown").value_counts()
            click.echo(
                "call legs by final status: " + ", ".join(f"{s} {n}" for s, n in by_status.items())
            )
    click.echo("next: voiceinsights calls --db " + str(store.path))

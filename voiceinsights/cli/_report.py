"""``voiceinsights report``: one self-contained HTML report of a call or of the probes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

__all__ = ["report"]


@click.command()
@click.argument("call_sid", required=False)
@click.option("--probes", is_flag=True, help="Report on the probe runs instead of a call.")
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="HTML file to write (default: CALL_SID.html or probes.html).",
)
@click.option(
    "--db",
    "db",
    default=None,
    help="DuckDB store (default $VOICEINSIGHTS_DB or ./voiceinsights.duckdb).",
)
@click.option(
    "--parquet",
    "parquet",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Read a Parquet directory (export or live collector segments) instead of --db.",
)
@click.option("--label", default=None, help="With --probes: only runs with this label.")
@click.option("--target", default=None, help="With --probes: only runs against this target.")
@click.option(
    "--since",
    default=None,
    help="With --probes: only runs started since: a duration ago (7d, 4h) or ISO 8601.",
)
def report(
    call_sid: str | None,
    probes: bool,
    out: Path | None,
    db: str | None,
    parquet: Path | None,
    label: str | None,
    target: str | None,
    since: str | None,
) -> None:
    """Write an HTML report of one call (CALL_SID) or of the probe runs (--probes).

    The file is self-contained (plotly.js inlined): it opens in a browser with no
    network. A call report shows the leg, its quality summary and tags, the call tree and
    the per-second timeline with warnings and status-callback milestones; a probe report
    shows quality over time per target and label and the latest run in detail.

    \b
    Examples:
      voiceinsights report CA0123... --out call.html
      voiceinsights report --probes --label office --since 7d --out probes.html
    """
    from voiceinsights._exceptions import ConfigError

    if probes == bool(call_sid):
        raise ConfigError("give either a CALL_SID or --probes (exactly one of them)")
    if not probes and (label or target or since):
        raise ConfigError("--label, --target and --since only apply with --probes")
    if db is not None and parquet is not None:
        raise ConfigError("give --db or --parquet, not both")
    since_at = None
    if since is not None:
        from voiceinsights.cli._pull import parse_when

        since_at = parse_when(since, option="--since")

    from voiceinsights.reports import get_call_report, get_probes_report

    store = _open(db, parquet)
    try:
        if probes:
            doc = get_probes_report(store, label=label, target=target, since=since_at)
            path = doc.write_html(out or Path("probes.html"))
            summary = repr(doc)
        else:
            assert call_sid is not None
            call = get_call_report(store, call_sid)
            path = call.write_html(out or Path(f"{call.call_sid}.html"))
            summary = repr(call)
    finally:
        close = getattr(store, "close", None)
        if callable(close):
            close()
    size_kb = path.stat().st_size / 1024
    click.echo(f"{summary}\nwrote {path} ({size_kb:,.0f} KiB, opens with no network)")


def _open(db: str | None, parquet: Path | None) -> Any:
    import voiceinsights as vi
    from voiceinsights._exceptions import StoreError

    if parquet is not None:
        open_parquet: Any = vi.open_parquet  # resolved lazily by voiceinsights.store
        return open_parquet(parquet)
    from voiceinsights.store import default_path

    path = Path(db) if db is not None else default_path()
    if not path.exists():
        raise StoreError(
            f"no store at {path}: build one with `voiceinsights quickstart` or "
            "`voiceinsights ingest`, or pass --db PATH"
        )
    return vi.open(path, read_only=True)  # a report never writes

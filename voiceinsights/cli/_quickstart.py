"""``voiceinsights quickstart``: a demo store from the bundled fixtures, one loopback test
call, a quality summary and an HTML report.

Each step degrades with a clear message when its optional extra is missing (no aiortc:
the test call is skipped and the rest still runs).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click

from voiceinsights.cli._ingest import db_option

__all__ = [
    "build_demo_store",
    "fixtures_dir",
    "loopback_probe",
    "print_summary",
    "quickstart",
    "write_demo_report",
]


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


def loopback_probe(store: Any, *, duration_s: float = 3.0) -> Any:
    """Start an echo server on 127.0.0.1 in this process, place one test call to it,
    store the run in ``store`` and return the :class:`~voiceinsights.probe.ProbeReport`.

    Raises
    ------
    ImportError
        When the ``probe`` extra (aiortc) or the HTTP server (``collect`` extra) is missing.
    voiceinsights.ProbeError
        Never for a failed call: a failed run is returned (and stored) with its phase.
    """
    import aiortc  # noqa: F401  (fail early, with the extra's name, before starting anything)
    import uvicorn  # noqa: F401

    from voiceinsights.probe import run_async, serve_echo

    async def main() -> Any:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[str] = loop.create_future()
        stop = asyncio.Event()

        def on_ready(url: str) -> None:
            if not ready.done():
                ready.set_result(url)

        server = asyncio.create_task(serve_echo("127.0.0.1", 0, ready=on_ready, stop=stop))
        try:
            await asyncio.wait({server, ready}, timeout=20, return_when="FIRST_COMPLETED")
            if server.done():
                server.result()  # the start-up error
            if not ready.done():
                raise OSError("the loopback echo server did not start within 20 s")
            return await run_async(
                ready.result(), duration_s=duration_s, label="quickstart", db=store, check=False
            )
        finally:
            stop.set()
            await asyncio.wait({server}, timeout=10)

    return asyncio.run(main())


def print_summary(store: Any, echo: Any = click.echo) -> Any:
    """Print a quality summary of the store's calls; return the ``summary.calls`` frame."""
    from voiceinsights.analysis import summary

    calls = summary.calls(store)
    sampled = calls[calls["mos_mean"].notna()]
    echo(f"call legs: {len(calls)}, with SDK samples: {len(sampled)}")
    if sampled.empty:
        return calls
    echo(f"MOS: mean {sampled['mos_mean'].mean():.2f}, worst call {sampled['mos_mean'].min():.2f}")
    bands = sampled["call_quality"].value_counts()
    order = ("excellent", "great", "good", "fair", "degraded")
    echo("call quality: " + ", ".join(f"{b} {int(bands.get(b, 0))}" for b in order))
    tags = calls["tags"].explode().dropna().value_counts()
    if not tags.empty:
        echo("tags: " + ", ".join(f"{t} {n}" for t, n in tags.items()))
    worst = sampled.sort_values("mos_mean").head(5)
    echo("worst calls:")
    for row in worst.itertuples(index=False):
        tag_text = ",".join(row.tags) if isinstance(row.tags, list | tuple) else ""
        echo(
            f"  {row.call_sid}  MOS {row.mos_mean:.2f}  jitter {row.jitter_mean_ms:5.1f} ms  "
            f"RTT {row.rtt_mean_ms:5.0f} ms  loss {row.loss_pct:4.1f} %  {tag_text}"
        )
    return calls


def write_demo_report(store: Any, calls: Any, out: Path) -> tuple[Path, str] | None:
    """Write the call report of the worst call (lowest mean MOS) to ``out``."""
    from voiceinsights.reports import get_call_report

    sampled = calls[calls["mos_mean"].notna()]
    if sampled.empty:
        return None
    sid = str(sampled.sort_values("mos_mean").iloc[0]["call_sid"])
    return get_call_report(store, sid).write_html(out), sid


@click.command()
@db_option
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("voiceinsights-report.html"),
    show_default=True,
    help="HTML report of the worst call.",
)
@click.option("--probe/--no-probe", default=True, help="Place one loopback test call.")
@click.option(
    "--probe-seconds",
    type=click.FloatRange(1, 60),
    default=3.0,
    show_default=True,
    help="Length of the test call.",
)
def quickstart(db: str | None, report_path: Path, probe: bool, probe_seconds: float) -> None:
    """Build a demo store from the bundled fixtures, place one loopback test call,
    print a quality summary and write an HTML report of the worst call."""
    store, report = build_demo_store(db)
    with store:
        click.echo(f"1. demo store: {store.path}")
        click.echo(str(report))

        click.echo("\n2. loopback test call")
        if not probe:
            click.echo("   skipped (--no-probe)")
        else:
            try:
                run = loopback_probe(store, duration_s=probe_seconds)
            except ImportError as exc:
                click.echo(
                    f"   skipped: {exc.name or exc} is not installed; install the probe "
                    "extra for test calls: pip install 'voiceinsights[probe]'"
                )
            except OSError as exc:
                click.echo(f"   skipped: could not start the loopback echo server: {exc}")
            else:
                for line in str(run).splitlines():
                    click.echo(f"   {line}")
                click.echo("   (stored in probe_runs; `voiceinsights report --probes`)")

        click.echo("\n3. quality summary")
        calls = print_summary(store, echo=lambda s: click.echo(f"   {s}"))

        click.echo("\n4. HTML report")
        written = write_demo_report(store, calls, report_path)
        if written is None:
            click.echo("   skipped: no call in the store has samples")
        else:
            path, sid = written
            click.echo(f"   wrote {path} (call {sid}; opens with no network)")
    click.echo(f"\nnext: voiceinsights calls --db {store.path}")

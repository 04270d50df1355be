"""``voiceinsights pull``: incremental sync from Twilio's REST APIs into the store.

Mirrors :func:`voiceinsights.twilio.pull`: one subcommand per resource, same options.
"""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from voiceinsights._exceptions import ConfigError

__all__ = ["parse_when", "pull"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_when(text: str, *, now: datetime | None = None, option: str = "--since") -> datetime:
    """A point in time from ``1d``/``4h``/``30m``/``90s``/``2w`` ago, or ISO 8601 (UTC).

    >>> parse_when("2026-11-20", now=None).isoformat()
    '2026-11-20T00:00:00+00:00'
    """
    now = now or datetime.now(UTC)
    match = _RELATIVE.match(text)
    if match:
        return now - timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"{option} {text!r} is neither a duration like 1d, 4h, 30m nor an ISO 8601 date or time"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _options(func: Any) -> Any:
    decorators = [
        click.option(
            "--since",
            default="1d",
            show_default=True,
            help="Window start: a duration ago (1d, 4h, 30m) or an ISO date/time.",
        ),
        click.option("--until", default=None, help="Window end (default: now)."),
        click.option(
            "--db",
            "db",
            default=None,
            type=click.Path(dir_okay=False),
            help="DuckDB store (default $VOICEINSIGHTS_DB or ./voiceinsights.duckdb).",
        ),
        click.option(
            "--dry-run",
            is_flag=True,
            help="Show what would be fetched; send no request, write nothing.",
        ),
        click.option(
            "--api-base",
            default=None,
            help="Calls API base URL (env VOICEINSIGHTS_TWILIO_API_BASE).",
        ),
        click.option(
            "--insights-base",
            default=None,
            help="Insights API base URL (env VOICEINSIGHTS_TWILIO_INSIGHTS_BASE).",
        ),
        click.option(
            "--concurrency",
            default=8,
            show_default=True,
            type=click.IntRange(1, 64),
            help="Requests in flight at once.",
        ),
        click.option(
            "--page-size",
            default=None,
            type=click.IntRange(1, 1000),
            help="PageSize of list requests.",
        ),
        click.option(
            "--timeout",
            "timeout_s",
            default=30.0,
            show_default=True,
            type=click.FloatRange(min=0.1),
            help="Per-request timeout in seconds.",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _run(
    resources: tuple[str, ...],
    since: str,
    until: str | None,
    db: str | None,
    dry_run: bool,
    api_base: str | None,
    insights_base: str | None,
    concurrency: int,
    page_size: int | None,
    timeout_s: float,
) -> None:
    import asyncio

    import voiceinsights.store as vstore
    from voiceinsights.twilio import AsyncClient, apull

    now = datetime.now(UTC)
    start = parse_when(since, now=now)
    end = parse_when(until, now=now, option="--until") if until else now
    if start >= end:
        raise ConfigError(
            f"--since ({start.isoformat()}) must be before --until ({end.isoformat()})"
        )

    async def main() -> list[Any]:
        reports = []
        async with AsyncClient(
            api_base=api_base,
            insights_base=insights_base,
            max_concurrency=concurrency,
            page_size=page_size,
            timeout_s=timeout_s,
        ) as client:
            with vstore.open(db) as store:
                for resource in resources:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        report = await apull(
                            client, store, resource, since=start, until=end, dry_run=dry_run
                        )
                    for message in report.warnings:
                        click.echo(f"warning: {message}", err=True)
                    click.echo(str(report))
                    reports.append(report)
        return reports

    asyncio.run(main())


@click.group()
def pull() -> None:
    """Pull calls and Voice Insights data from Twilio into the store, incrementally.

    Credentials come from TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN, or TWILIO_API_KEY and
    TWILIO_API_SECRET. A saved cursor per resource makes a repeated run fetch only what is
    new; an interrupted run resumes where it stopped.
    """


def _command(resource: str, doc: str) -> None:
    @_options
    def command(**kwargs: Any) -> None:
        _run(
            (resource,)
            if resource != "all"
            else ("calls", "summaries", "events", "metrics", "conferences"),
            **kwargs,
        )

    command.__doc__ = doc
    pull.command(name=resource, help=doc)(command)


_command("calls", "Call resources (Calls API) started in the window.")
_command("summaries", "Voice Insights call summaries of calls started in the window.")
_command("events", "Voice Insights events of ended calls in the store that have none yet.")
_command("metrics", "Voice Insights metrics of ended calls in the store that have none yet.")
_command("conferences", "Voice Insights conference summaries and their participants.")
_command("all", "calls, summaries, events, metrics and conferences, in that order.")

"""``voiceinsights fixtures``: write the synthetic population (mirrors
:func:`voiceinsights.fixtures.generate`)."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["fixtures"]


@click.group()
def fixtures() -> None:
    """Synthetic Twilio Voice data with its ground truth."""


@fixtures.command("generate")
@click.option(
    "--calls",
    type=click.IntRange(min=1),
    default=60,
    show_default=True,
    help="Number of calls (scenarios; most have two legs).",
)
@click.option(
    "--seed",
    type=int,
    default=7,
    show_default=True,
    help="Seed: the same calls and seed give byte-identical files.",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write into (created if missing).",
)
def generate(calls: int, seed: int, out: Path) -> None:
    """Write status callbacks, SDK events, CloudEvents, REST and Insights pages and
    ground_truth.json for CALLS calls into OUT."""
    from voiceinsights._progress import progress
    from voiceinsights.fixtures import generate as generate_fixtures

    with progress("generating calls", total=calls) as task:
        last = 0

        def advance(done: int) -> None:
            nonlocal last
            task.advance(done - last)
            last = done

        result = generate_fixtures(calls, seed, out, progress=advance)
    counts = result.counts
    click.echo(
        f"wrote {len(result.files)} files to {result.out}: {counts['calls']} calls, "
        f"{counts['legs']} legs, {counts['callback_deliveries']} callback deliveries "
        f"({counts['duplicate_deliveries']} duplicates), {counts['samples']} samples, "
        f"{counts['warnings']} warnings, {counts['episodes']} impairment episodes"
    )

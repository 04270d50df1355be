"""``summary``, ``fleet``, ``feedback``, ``tree`` and ``warnings``: the analysis functions
on the command line, over the store or a Parquet directory."""

from __future__ import annotations

from typing import Any

import click

from voiceinsights.cli._ingest import db_option
from voiceinsights.cli._output import emit, format_options
from voiceinsights.cli._source import open_source, parquet_option

__all__ = ["feedback", "fleet", "summary", "tree", "warnings"]

_percentiles_option = click.option(
    "--percentiles/--no-percentiles",
    default=True,
    help="Compute the exact p5/p95 columns (about half the time on large stores).",
)


def _calls(source: Any, percentiles: bool) -> Any:
    from voiceinsights.analysis import summary as _summary

    return _summary.calls(source, percentiles=percentiles)


@click.command()
@db_option
@parquet_option
@click.option("--call-sid", default=None, help="Only this leg.")
@click.option(
    "--tag",
    "tags",
    multiple=True,
    help="Only legs with this tag (repeat: all of them), e.g. --tag high_jitter.",
)
@click.option("--columns", default=None, help="Comma-separated columns to print (default: all).")
@click.option("--limit", type=int, default=None, help="At most this many rows.")
@_percentiles_option
@format_options
def summary(
    db: str | None,
    parquet: str | None,
    call_sid: str | None,
    tags: tuple[str, ...],
    columns: str | None,
    limit: int | None,
    percentiles: bool,
    fmt: str,
) -> None:
    """One row per call leg, like a Voice Insights call summary.

    Quality (MOS, jitter, RTT, loss), warnings, feedback and tags per leg, as
    `voiceinsights.analysis.summary.calls` computes them; columns in docs/analysis.md.
    """
    from voiceinsights.analysis.summary import CALL_COLUMNS, TAG_RULES

    unknown_tags = sorted(set(tags) - set(TAG_RULES))
    if unknown_tags:
        raise click.BadParameter(
            f"{', '.join(unknown_tags)} (tags: {', '.join(TAG_RULES)})", param_hint="--tag"
        )
    wanted = list(CALL_COLUMNS)
    if columns is not None:
        wanted = [c.strip() for c in columns.split(",") if c.strip()]
        unknown = [c for c in wanted if c not in CALL_COLUMNS]
        if unknown or not wanted:
            raise click.BadParameter(
                f"{', '.join(unknown) or 'none given'} (columns: {', '.join(CALL_COLUMNS)})",
                param_hint="--columns",
            )
    with open_source(db, parquet) as source:
        df = _calls(source, percentiles)
    if call_sid is not None:
        df = df[df["call_sid"] == call_sid]
    for tag in tags:
        df = df[df["tags"].map(lambda ts, t=tag: ts is not None and t in ts)]
    df = df[wanted]
    emit(df if limit is None else df.head(limit), fmt)


@click.command()
@db_option
@parquet_option
@click.option(
    "--by",
    "dims",
    multiple=True,
    help="Group by day and/or a summary column (repeat), e.g. --by day --by codec_name. "
    "Default: day.",
)
@_percentiles_option
@format_options
def fleet(
    db: str | None, parquet: str | None, dims: tuple[str, ...], percentiles: bool, fmt: str
) -> None:
    """Quality of the fleet of calls by day and/or any dimension.

    Call counts, MOS distribution and the share of calls with each tag per group, as
    `voiceinsights.analysis.summary.fleet` computes them.
    """
    from voiceinsights.analysis import summary as _summary

    with open_source(db, parquet) as source:
        calls = _calls(source, percentiles)
    emit(_summary.fleet(calls, list(dims) or "day"), fmt)


@click.command()
@db_option
@parquet_option
@format_options
def feedback(db: str | None, parquet: str | None, fmt: str) -> None:
    """Users' feedback scores against the measured MOS (one row per score).

    Calls with a feedback only; a feedback that declined to score is the empty score.
    Spearman's rank correlation between score and mean MOS follows the table.
    """
    from voiceinsights.analysis import summary as _summary

    with open_source(db, parquet) as source:
        calls = _calls(source, percentiles=False)
        given = source.feedback()
    out = _summary.feedback_vs_mos(calls, given)
    emit(out, fmt)
    if fmt == "table":
        rho = out.attrs.get("spearman_rho")
        n = out.attrs.get("calls_with_feedback", 0)
        text = "n/a (fewer than 3 calls)" if rho is None or rho != rho else f"{rho:.3f}"
        click.echo(f"Spearman rho (score vs mean MOS, {n} calls): {text}")


@click.command()
@click.argument("call_sid", required=False)
@db_option
@parquet_option
@click.option("--text", "fmt", flag_value="text", default=True, help="Print the indented tree.")
@click.option("--table", "fmt", flag_value="table", help="Print the legs as an aligned table.")
@click.option("--csv", "fmt", flag_value="csv", help="Print the legs as CSV with a header.")
@click.option("--json", "fmt", flag_value="json", help="Print the legs as a JSON array.")
def tree(call_sid: str | None, db: str | None, parquet: str | None, fmt: str) -> None:
    """Call trees: each leg under its parent, conference participants under the conference.

    With CALL_SID, only the tree that leg belongs to. The legs come from the `calls` view
    (callbacks, REST rows and summaries merged), as `voiceinsights.analysis.calltree.build`
    orders them.
    """
    from voiceinsights.analysis import calltree
    from voiceinsights.analysis.calltree import LEG_COLUMNS

    with open_source(db, parquet) as source:
        legs = source.calls() if call_sid is None else source.call_family(call_sid.strip())
        conference_events = source.conference_events()
    if call_sid is not None and legs.empty:
        raise click.BadParameter(
            f"no leg {call_sid.strip()!r}; list known legs with `voiceinsights calls`",
            param_hint="CALL_SID",
        )
    built = calltree.build(legs, conference_events=conference_events)
    if fmt == "text":
        click.echo(built.to_text() if len(built) else "(no legs)")
    else:
        emit(built.legs[list(LEG_COLUMNS)], fmt)


@click.command()
@db_option
@parquet_option
@click.option("--call-sid", default=None, help="Only this leg.")
@click.option(
    "--compare",
    is_flag=True,
    help="Set the replay against the warnings the SDK reported: match, time-differs, "
    "replay-only or reported-only per event.",
)
@click.option(
    "--tolerance",
    type=float,
    default=1.0,
    show_default=True,
    help="With --compare: seconds within which two events agree.",
)
@format_options
def warnings(
    db: str | None,
    parquet: str | None,
    call_sid: str | None,
    compare: bool,
    tolerance: float,
    fmt: str,
) -> None:
    """Replay the Voice SDK's warning rules over the stored samples.

    Raised and cleared events per leg, as `voiceinsights.analysis.warnings.detect` finds
    them with the SDK's default thresholds (constant-audio warnings are approximate).
    """
    from voiceinsights.analysis import warnings as _warnings

    with open_source(db, parquet) as source:
        samples = source.samples(call_sid=call_sid)
        reported = source.warnings(call_sid=call_sid) if compare else None
    detected = _warnings.detect(samples)
    if reported is not None:
        emit(_warnings.compare(detected, reported, tolerance_s=tolerance), fmt)
        return
    if fmt == "table":  # the windows' values make a table unreadable; CSV and JSON keep them
        detected = detected.drop(columns=["values"])
    emit(detected, fmt)

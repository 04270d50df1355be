"""Incremental pulls from Twilio into the store (cursor semantics in ``_cursor``).

List resources (calls, summaries, conferences) are pulled window by window, page by page,
saving the cursor after each page; events and metrics are per call: they are pulled,
concurrently, for the ended calls of the window (from the ``calls`` view) that have none
stored yet, and written in batches.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlencode

from voiceinsights._exceptions import ConfigError, TwilioNotFoundError, VoiceInsightsError
from voiceinsights._progress import ProgressTask, progress
from voiceinsights.store import IngestReport, Store
from voiceinsights.twilio._client import AsyncClient
from voiceinsights.twilio._core import ListSpec, format_time
from voiceinsights.twilio._cursor import (
    OVERLAP,
    cover,
    cursor_name,
    iso,
    load_state,
    parse_iso,
    save_state,
    window_start,
)
from voiceinsights.twilio._paging import rebase_url

__all__ = [
    "INSIGHTS_RETENTION",
    "RESOURCES",
    "PullReport",
    "RetentionWarning",
    "apull",
    "cursor_name",
    "pull",
]

Resource = Literal["calls", "summaries", "events", "metrics", "conferences"]
RESOURCES: tuple[str, ...] = ("calls", "summaries", "events", "metrics", "conferences")
#: How far back Voice Insights keeps call data.
INSIGHTS_RETENTION = timedelta(days=30)

_KIND = {
    "calls": "rest-call",
    "summaries": "insights-summary",
    "events": "insights-event",
    "metrics": "insights-metric",
}
#: Voice Insights completes a call's events and metrics within this time after its end.
PROCESSING_DELAY = timedelta(minutes=30)
#: Rows of per-call resources written to the store at once.
_BATCH_ROWS = 500
_TERMINAL_CALL = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


class RetentionWarning(UserWarning):
    """The window reaches further back than Voice Insights keeps data (30 days)."""


@dataclass
class PullReport:
    """What a pull did (or, with ``dry_run``, would do).

    ``records`` counts items received from Twilio; ``inserted``/``updated``/``duplicates``
    /``rejected`` what the store made of them; ``calls`` the calls asked for per-call
    resources (the participants read, for conferences).
    """

    resource: str
    since: datetime
    until: datetime
    dry_run: bool = False
    resumed: bool = False
    pages: int = 0
    records: int = 0
    inserted: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: int = 0
    calls: int = 0
    requests: int = 0
    retries: int = 0
    plan: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    cursor: dict[str, Any] = field(default_factory=dict)

    def add(self, report: IngestReport) -> None:
        self.inserted += report.inserted
        self.duplicates += report.duplicates
        self.updated += sum(k.updated for k in report.kinds.values())
        self.rejected += len(report.rejected)

    def __str__(self) -> str:
        window = f"{format_time(self.since)} .. {format_time(self.until)}"
        if self.dry_run:
            lines = [f"dry run: pull {self.resource} {window} (nothing fetched or written)"]
            return "\n".join(lines + [f"  {p}" for p in self.plan])
        text = (
            f"pull {self.resource} {window}: {self.records} records in {self.pages} "
            f"pages, {self.inserted} new, {self.updated} updated, {self.duplicates} "
            f"already stored, {self.rejected} rejected; {self.requests} requests, "
            f"{self.retries} retries"
        )
        if self.calls:
            what = "participants" if self.resource == "conferences" else "calls asked"
            text += f"; {self.calls} {what}"
        if self.resumed:
            text += " (resumed an interrupted pull)"
        return text


# -- list resources --------------------------------------------------------------------
def _start_of(resource: str, item: Mapping[str, Any]) -> datetime | None:
    from voiceinsights._time import parse_timestamp

    key = {"calls": "start_time", "summaries": "start_time", "conferences": "create_time"}[resource]
    try:
        return parse_timestamp(item.get(key))
    except (VoiceInsightsError, ValueError, TypeError):  # the store rejects bad times
        return None


def _settled(resource: str, item: Mapping[str, Any]) -> bool:
    if resource == "calls":
        return item.get("status") in _TERMINAL_CALL
    return item.get("processing_state") == "complete"


def _list_spec(client: AsyncClient, resource: str, since: datetime, until: datetime) -> ListSpec:
    req = client._req
    if resource == "calls":
        return req.calls(start_time_after=since, start_time_before=until)
    if resource == "summaries":
        return req.summaries(start_time=since, end_time=until)
    return req.conferences(created_after=since, created_before=until)


def _store_items(
    store: Store, resource: str, items: list[dict[str, Any]], report: PullReport
) -> None:
    if resource == "conferences":
        raise AssertionError("conferences are written by _store_conferences")
    result = store.ingest_records(items, source=f"twilio-api:{resource}", kind=_KIND[resource])
    report.add(result)


async def _pull_window(
    client: AsyncClient,
    store: Store,
    resource: str,
    state: dict[str, Any],
    window: dict[str, Any],
    report: PullReport,
    bar: ProgressTask,
    writer: Callable[[list[dict[str, Any]], PullReport], Any],
) -> None:
    """Pull one window page by page, saving ``window`` in ``state['pending']`` as it goes."""
    since, until = parse_iso(window["since"]), parse_iso(window["until"])
    if since is None or until is None:
        raise ConfigError(
            f"saved cursor {cursor_name(resource)!r} has a malformed window "
            f"{window!r}; delete it from sync_cursors to start afresh"
        )
    spec = _list_spec(client, resource, since, until)
    state["pending"] = window
    # A saved next page goes to the base configured now (the host or port may differ).
    resume = window.get("next_url")
    pages = client.iter_pages(spec, start_url=rebase_url(resume, spec.base) if resume else None)
    async for page in pages:
        items = page.items
        await _maybe_await(writer(items, report))
        report.pages += 1
        report.records += len(items)
        bar.advance(len(items))
        unsettled = [
            t
            for it in items
            if not _settled(resource, it)
            if (t := _start_of(resource, it)) is not None
        ]
        earliest = parse_iso(window.get("unsettled"))
        if unsettled:
            earliest = min([*unsettled, *([earliest] if earliest else [])])
        window = {
            **window,
            "next_url": page.next_url,
            "unsettled": iso(earliest) if earliest else None,
        }
        state["pending"] = window if page.next_url else None
        if page.next_url:
            save_state(store, resource, state)
    cover(state, resource, since, until, parse_iso(window.get("unsettled")))
    save_state(store, resource, state)


async def _maybe_await(value: Any) -> None:
    if asyncio.iscoroutine(value):
        await value


async def _pull_list(
    client: AsyncClient,
    store: Store,
    resource: str,
    since: datetime,
    until: datetime,
    report: PullReport,
    show: bool | None,
) -> None:
    state = load_state(store, resource)
    report.cursor = dict(state)
    writer: Callable[[list[dict[str, Any]], PullReport], Any]
    if resource == "conferences":

        async def writer(items: list[dict[str, Any]], rep: PullReport) -> None:
            await _store_conferences(client, store, items, rep)
    else:

        def writer(items: list[dict[str, Any]], rep: PullReport) -> None:
            _store_items(store, resource, items, rep)

    with progress(f"pull {resource}", None, enabled=show) as bar:
        pending = state.get("pending")
        if isinstance(pending, dict) and pending.get("next_url"):
            report.resumed = True
            try:
                await _pull_window(client, store, resource, state, pending, report, bar, writer)
            except TwilioNotFoundError:
                # The saved page token expired: pull that whole window again (idempotent).
                await _pull_window(
                    client,
                    store,
                    resource,
                    state,
                    {**pending, "next_url": None},
                    report,
                    bar,
                    writer,
                )
        start = window_start(state, resource, since)
        if start < until:
            window = {
                "since": iso(start),
                "until": iso(until),
                "next_url": None,
                "unsettled": None,
            }
            await _pull_window(client, store, resource, state, window, report, bar, writer)
    report.cursor = dict(state)


async def _store_conferences(
    client: AsyncClient, store: Store, conferences: list[dict[str, Any]], report: PullReport
) -> None:
    async def participants(conf: Mapping[str, Any]) -> list[dict[str, Any]]:
        return await client.collect(
            client.list_conference_participants(str(conf["conference_sid"]))
        )

    complete = [c for c in conferences if c.get("processing_state") == "complete"]
    tasks = [asyncio.ensure_future(participants(c)) for c in complete]
    try:
        parts = await asyncio.gather(*tasks)
    finally:
        await _cancel(tasks)
    report.calls += sum(len(p) for p in parts)
    # Only complete summaries are stored: a partial one holds the watermark back, so it is
    # asked again and stored once final.
    source = "twilio-api:conferences"
    written = store.ingest_records(complete, source=source, kind="insights-conference")
    written.merge(
        store.ingest_records(
            [p for ps in parts for p in ps if p.get("processing_state") == "complete"],
            source=source,
            kind="insights-participant",
        )
    )
    report.add(written)


async def _cancel(tasks: Sequence[asyncio.Future[Any]]) -> None:
    """Cancel what is still running (after a failure) and wait for it to wind down."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# -- per-call resources ----------------------------------------------------------------
def _calls_to_ask(
    store: Store,
    resource: str,
    since: datetime,
    until: datetime,
    empty: Mapping[str, Any],
    ended_before: datetime,
) -> list[str]:
    """Calls started in the window, ended before ``ended_before``, with nothing stored."""
    table = "insights_events" if resource == "events" else "insights_metrics"
    frame = store.sql(
        f"SELECT call_sid FROM calls WHERE start_time >= ? AND start_time <= ? "
        f"AND end_time IS NOT NULL AND end_time <= ? "
        f"AND call_sid NOT IN (SELECT DISTINCT call_sid FROM {table}) "
        f"ORDER BY start_time, call_sid",
        [since, until, ended_before],
    )
    return [s for s in frame["call_sid"].tolist() if s not in empty]


async def _pull_per_call(
    client: AsyncClient,
    store: Store,
    resource: str,
    since: datetime,
    until: datetime,
    report: PullReport,
    show: bool | None,
    processing_delay: timedelta,
) -> None:
    state = load_state(store, resource)
    empty: dict[str, str] = dict(state.get("empty") or {})
    horizon = datetime.now(UTC) - INSIGHTS_RETENTION
    empty = {k: v for k, v in empty.items() if (parse_iso(v) or horizon) >= horizon}
    sids = _calls_to_ask(store, resource, since, until, empty, until - processing_delay)
    report.calls = len(sids)

    async def one(call_sid: str) -> tuple[str, list[dict[str, Any]]]:
        items = (
            client.list_events(call_sid) if resource == "events" else client.list_metrics(call_sid)
        )
        try:
            return call_sid, await client.collect(items)
        except TwilioNotFoundError:
            return call_sid, []  # no Insights data for this leg (or past retention)

    tasks = [asyncio.ensure_future(one(s)) for s in sids]
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        # Writes are batched: one store transaction per _BATCH_ROWS rows, not per call. A
        # crash loses at most the unwritten batch, whose calls are simply asked again.
        if batch:
            _store_items(store, resource, batch, report)
            batch.clear()
        state["empty"] = empty
        save_state(store, resource, state)

    try:
        with progress(f"pull {resource}", len(sids), enabled=show) as bar:
            for fut in asyncio.as_completed(tasks):
                call_sid, items = await fut
                batch.extend(items)
                if not items:
                    empty[call_sid] = iso(datetime.now(UTC))
                report.records += len(items)
                report.pages += 1
                bar.advance(1)
                if len(batch) >= _BATCH_ROWS:
                    flush()
    finally:
        await _cancel(tasks)
        flush()
    state["last_until"] = iso(until)
    save_state(store, resource, state)
    report.cursor = dict(state)


# -- entry points ----------------------------------------------------------------------
def _check(resource: str, since: datetime, until: datetime) -> None:
    if resource not in RESOURCES:
        raise ConfigError(f"unknown resource {resource!r}; choose one of {', '.join(RESOURCES)}")
    for name, value in (("since", since), ("until", until)):
        if value.tzinfo is None:
            raise ConfigError(f"{name} must be timezone-aware (UTC), got {value!r}")
    if since >= until:
        raise ConfigError(
            f"since ({format_time(since)}) must be before until ({format_time(until)})"
        )


def _dry_run(
    client: AsyncClient,
    store: Store,
    resource: str,
    since: datetime,
    until: datetime,
    report: PullReport,
    processing_delay: timedelta,
) -> None:
    state = load_state(store, resource)
    report.cursor = dict(state)
    if resource in ("events", "metrics"):
        ended_before = until - processing_delay
        sids = _calls_to_ask(store, resource, since, until, state.get("empty") or {}, ended_before)
        report.calls = len(sids)
        url = client._core.voice_url("CA" + "0" * 32, resource.capitalize())
        report.plan.append(
            f"{len(sids)} calls ended before {format_time(ended_before)} without "
            f"{resource}: GET "
            f"{url.replace('CA' + '0' * 32, '{CallSid}')} for each"
        )
        return
    pending = state.get("pending")
    if isinstance(pending, dict) and pending.get("next_url"):
        report.plan.append(
            f"resume the interrupted window {pending['since']} .. "
            f"{pending['until']} at {pending['next_url']}"
        )
    watermark = parse_iso(state.get("watermark"))
    start = window_start(state, resource, since)
    if start >= until:
        report.plan.append("nothing new: the saved cursor is past --until")
        return
    spec = _list_spec(client, resource, start, until)
    query = urlencode(spec.params, safe=":")
    report.plan.append(f"GET {spec.url}?{query} and every next page")
    if watermark is not None:
        report.plan.append(f"saved watermark {state['watermark']} (overlap {OVERLAP[resource]})")


async def apull(
    client: AsyncClient,
    store: Store,
    resource: str,
    *,
    since: datetime,
    until: datetime | None = None,
    dry_run: bool = False,
    progress_bar: bool | None = None,
    processing_delay: timedelta = PROCESSING_DELAY,
) -> PullReport:
    """Pull ``resource`` for calls/conferences started in ``[since, until]`` into ``store``.

    Parameters
    ----------
    client : AsyncClient
        The Twilio client (its ``max_concurrency`` bounds per-call fan-out).
    store : Store
        A writable store (``voiceinsights.open``).
    resource : {"calls", "summaries", "events", "metrics", "conferences"}
    since, until : datetime
        Timezone-aware window bounds (UTC); ``until`` defaults to now. A saved cursor
        moves the effective start forward (see the module documentation).
    dry_run : bool
        Report what would be fetched; send no request and write nothing.
    progress_bar : bool, optional
        Show a progress bar; default when stderr is a terminal.
    processing_delay : timedelta
        Events and metrics are asked only for calls that ended at least this long before
        ``until`` (default 30 minutes: Voice Insights completes a call's data within 30
        minutes of its end), so what is stored for a call is its final set.

    Returns
    -------
    PullReport
    """
    now = datetime.now(UTC)
    until = until or now
    _check(resource, since, until)
    report = PullReport(resource, since, until, dry_run=dry_run)
    if resource != "calls" and since < now - INSIGHTS_RETENTION:
        message = (
            f"Voice Insights keeps data for 30 days: {resource} before "
            f"{format_time(now - INSIGHTS_RETENTION)} will not be returned"
        )
        report.warnings.append(message)
        warnings.warn(message, RetentionWarning, stacklevel=2)
    if dry_run:
        _dry_run(client, store, resource, since, until, report, processing_delay)
        return report
    before = (client.stats.requests, client.stats.retries)
    try:
        if resource in ("events", "metrics"):
            await _pull_per_call(
                client, store, resource, since, until, report, progress_bar, processing_delay
            )
        else:
            await _pull_list(client, store, resource, since, until, report, progress_bar)
    finally:
        report.requests = client.stats.requests - before[0]
        report.retries = client.stats.retries - before[1]
    return report


def pull(
    store: Store,
    resource: str,
    *,
    since: datetime,
    until: datetime | None = None,
    dry_run: bool = False,
    progress_bar: bool | None = None,
    processing_delay: timedelta = PROCESSING_DELAY,
    **client_options: Any,
) -> PullReport:
    """Synchronous :func:`apull` that makes its own :class:`AsyncClient`.

    ``client_options`` go to :class:`AsyncClient` (``credentials``, ``api_base``,
    ``insights_base``, ``timeout_s``, ``retry``, ``max_concurrency``, ``page_size``).
    """

    async def run() -> PullReport:
        async with AsyncClient(**client_options) as client:
            return await apull(
                client,
                store,
                resource,
                since=since,
                until=until,
                dry_run=dry_run,
                progress_bar=progress_bar,
                processing_delay=processing_delay,
            )

    return asyncio.run(run())

"""Incremental pulls from the local fake into a real DuckDB store."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pandas as pd
import pytest

import voiceinsights as vi
from tests.twilio.conftest import CREDS, FAST_RETRY, NOW
from tests.twilio.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, Fault, rfc2822, serve, sid
from voiceinsights import TwilioAPIError
from voiceinsights.schema import get_table
from voiceinsights.store import Store
from voiceinsights.twilio import (
    PROCESSING_DELAY,
    AsyncClient,
    Credentials,
    PullReport,
    RetentionWarning,
    apull,
    cursor_name,
    pull,
)

CALLS = "/Calls.json"
SINCE = NOW - timedelta(hours=3)


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with vi.open(db_path) as s:
        yield s


def run_pull(
    base: str,
    store: Store,
    resource: str,
    *,
    since: datetime = SINCE,
    concurrency: int = 4,
    **kw: Any,
) -> PullReport:
    kw.setdefault("processing_delay", timedelta(0))  # see test_events_wait_for_processing

    async def go() -> PullReport:
        async with AsyncClient(
            CREDS,
            api_base=base,
            insights_base=base,
            page_size=5,
            retry=FAST_RETRY,
            max_concurrency=concurrency,
        ) as c:
            return await apull(c, store, resource, since=since, **kw)

    return asyncio.run(go())


def count(store: Store, sql: str) -> int:
    return int(store.sql(sql).iloc[0, 0])


def test_pull_calls_then_only_new(base: str, fake: FakeTwilio, store: Store) -> None:
    first = run_pull(base, store, "calls")
    assert (first.records, first.inserted, first.pages) == (23, 23, 5)
    assert count(store, "SELECT count(DISTINCT call_sid) FROM rest_calls") == 23
    assert count(store, "SELECT count(*) FROM rest_calls") == 23
    stored = store.rest_calls()
    assert set(stored["call_sid"]) == set(fake.calls)
    child = stored.set_index("call_sid").loc[sid("CA", 3)]
    assert child["parent_call_sid"] == sid("CA", 2)
    assert child["direction"] == "outbound-dial"

    # A repeated run asks only the overlap after the watermark: no new rows.
    cursor = json.loads(store.get_cursor(cursor_name("calls")) or "{}")
    fake.log.clear()
    again = run_pull(base, store, "calls")
    assert again.inserted == 0
    assert again.records < 23
    asked = parse_qs(next(q for _, p, q in fake.log if p.endswith(CALLS)))
    expected = datetime.fromisoformat(cursor["watermark"]) - timedelta(minutes=15)
    assert asked["StartTime>="] == [expected.strftime("%Y-%m-%dT%H:%M:%SZ")]
    # New calls arrive: the next run stores exactly them.
    fake.add_call(500, NOW - timedelta(seconds=30))
    fake.add_call(501, NOW - timedelta(seconds=20))
    third = run_pull(base, store, "calls")
    assert third.inserted == 2
    assert count(store, "SELECT count(*) FROM rest_calls") == 25


def test_unsettled_call_holds_the_watermark(base: str, fake: FakeTwilio, store: Store) -> None:
    started = NOW - timedelta(hours=1, minutes=30)
    fake.add_call(700, started, status="in-progress")
    run_pull(base, store, "calls")
    cursor = json.loads(store.get_cursor(cursor_name("calls")) or "{}")
    assert datetime.fromisoformat(cursor["watermark"]) <= started
    # It completes: the next run (from the watermark) picks up the final version.
    fake.calls[sid("CA", 700)].update(
        status="completed",
        duration="60",
        end_time=rfc2822(started + timedelta(minutes=1)),
        date_updated=rfc2822(NOW),
    )
    report = run_pull(base, store, "calls")
    assert report.updated >= 1
    assert store.rest_calls(sid("CA", 700))["status"].tolist() == ["completed"]
    cursor = json.loads(store.get_cursor(cursor_name("calls")) or "{}")
    assert datetime.fromisoformat(cursor["watermark"]) > started


def test_crash_half_way_resumes_without_gaps_or_duplicates(
    base: str, fake: FakeTwilio, store: Store
) -> None:
    # Pages 1-2 are served, then the API fails for good (500 on every retry).
    fake.faults.append(Fault(CALLS, status=500, times=None, skip=2))
    with pytest.raises(TwilioAPIError, match="500"):
        run_pull(base, store, "calls")
    assert count(store, "SELECT count(*) FROM rest_calls") == 10
    cursor = json.loads(store.get_cursor(cursor_name("calls")) or "{}")
    assert cursor["pending"]["next_url"].startswith(base)
    assert "PageToken=" in cursor["pending"]["next_url"]

    fake.faults.clear()
    fake.log.clear()
    with serve(fake) as elsewhere:  # resumed against another port: the saved page follows
        resumed = run_pull(elsewhere, store, "calls")
    assert resumed.resumed
    first_query = next(q for _, p, q in fake.log if p.endswith(CALLS))
    assert "Page=2" in first_query  # it went on from page 3, not from the start
    assert count(store, "SELECT count(*) FROM rest_calls") == 23
    assert count(store, "SELECT count(DISTINCT call_sid) FROM rest_calls") == 23
    assert set(store.rest_calls()["call_sid"]) == set(fake.calls)
    assert json.loads(store.get_cursor(cursor_name("calls")) or "{}")["pending"] is None


def test_callback_and_api_give_one_leg(base: str, fake: FakeTwilio, store: Store) -> None:
    call = fake.calls[sid("CA", 6)]
    callback = {
        "CallSid": call["sid"],
        "AccountSid": ACCOUNT_SID,
        "From": call["from"],
        "To": call["to"],
        "CallStatus": "completed",
        "Direction": call["direction"],
        "ApiVersion": "2010-04-01",
        "CallDuration": call["duration"],
        "Timestamp": call["end_time"],
        "CallbackSource": "call-progress-events",
        "SequenceNumber": "3",
    }
    store.ingest_records([callback], source="collector:test", kind="call-status")
    run_pull(base, store, "calls")
    run_pull(base, store, "summaries")
    legs = store.calls()
    mine = legs[legs["call_sid"] == call["sid"]]
    assert len(mine) == 1
    assert len(legs) == 23
    assert set(mine.iloc[0]["sources"]) >= {"callbacks", "rest"}


def test_summaries_events_metrics(base: str, fake: FakeTwilio, store: Store) -> None:
    summaries = run_pull(base, store, "summaries")
    assert summaries.inserted == 23
    assert set(store.summaries()["call_sid"]) == set(fake.summaries)
    run_pull(base, store, "calls")

    events = run_pull(base, store, "events")
    assert events.calls == 23
    assert events.inserted == 46
    assert count(store, "SELECT count(DISTINCT call_sid) FROM insights_events") == 23
    metrics = run_pull(base, store, "metrics")
    assert (metrics.calls, metrics.inserted) == (23, 46)
    got = store.insights_metrics(sid("CA", 1)).sort_values("timestamp")
    assert got["packets_received"].tolist() == [500, 500]

    # Calls that have them are not asked again; a call with none is asked only once.
    fake.add_call(800, NOW - timedelta(minutes=3))
    fake.events[sid("CA", 800)] = []
    run_pull(base, store, "calls")
    fake.log.clear()
    again = run_pull(base, store, "events")
    assert again.calls == 1
    assert fake.requests_to("/Events") == 1
    assert run_pull(base, store, "events").calls == 0


def test_events_fan_out_survives_429(base: str, fake: FakeTwilio, store: Store) -> None:
    run_pull(base, store, "calls")
    fake.faults.append(Fault("/Events", status=429, times=5, retry_after="0"))
    report = run_pull(base, store, "events", concurrency=8)
    assert report.inserted == 46
    assert report.retries == 5


def test_retention_warning_and_dry_run(base: str, fake: FakeTwilio, store: Store) -> None:
    fake.log.clear()
    with pytest.warns(RetentionWarning, match="30 days"):
        report = run_pull(base, store, "summaries", since=NOW - timedelta(days=40), dry_run=True)
    assert report.dry_run
    assert fake.log == []  # nothing asked
    assert count(store, "SELECT count(*) FROM insights_summaries") == 0
    assert store.get_cursor(cursor_name("summaries")) is None
    assert "Summaries?" in str(report)


def test_cli_pull(
    base: str,
    fake: FakeTwilio,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from voiceinsights.cli import main

    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("VOICEINSIGHTS_TWILIO_INSIGHTS_BASE", base)
    args = ["--since", "3h", "--db", str(db_path), "--api-base", base]
    main(["pull", "calls", *args])
    out = capsys.readouterr().out
    assert "23 records" in out
    assert "23 new" in out
    main(["pull", "calls", *args, "--dry-run"])
    assert "dry run" in capsys.readouterr().out

    with pytest.raises(SystemExit) as info:
        main(["pull", "calls", "--since", "yesterday-ish", "--db", str(db_path)])
    assert info.value.code == 2
    assert "error: --since 'yesterday-ish'" in capsys.readouterr().err

    with pytest.raises(SystemExit) as info:
        main(["pull", "calls", "--since", "1h", "--until", "2h", "--db", str(db_path)])
    assert "must be before --until" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["pull", "calls", *args[:-2], "--api-base", "api.twilio.com"])
    assert "error: api base 'api.twilio.com' is not an http(s) URL" in capsys.readouterr().err

    monkeypatch.delenv("TWILIO_ACCOUNT_SID")
    with pytest.raises(SystemExit) as info:
        main(["pull", "calls", *args])
    assert info.value.code == 2
    assert "error: no Twilio Account SID" in capsys.readouterr().err
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)

    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "wrong")
    with pytest.raises(SystemExit) as info:
        main(["pull", "summaries", *args])
    assert info.value.code == 2
    assert "error: Twilio 401 (error 20003)" in capsys.readouterr().err
    with vi.open(db_path) as s:
        assert count(s, "SELECT count(*) FROM rest_calls") == 23


def test_pull_conferences_and_participants(base: str, fake: FakeTwilio, store: Store) -> None:
    fake.add_conference(1, NOW - timedelta(minutes=50), [sid("CA", 1), sid("CA", 2)])
    fake.add_conference(2, NOW - timedelta(minutes=20), [sid("CA", 3)])
    partial = fake.add_conference(3, NOW - timedelta(minutes=40), [sid("CA", 4)])
    partial["processing_state"] = "partial"
    fake.add_conference(4, NOW - timedelta(days=3), [sid("CA", 5)])  # outside the window
    report = run_pull(base, store, "conferences")
    assert report.records == 3
    confs = store.sql("SELECT * FROM insights_conferences ORDER BY conference_sid")
    assert confs["conference_sid"].tolist() == [sid("CF", 1), sid("CF", 2)]
    assert confs["duration_s"].tolist() == [300.0, 300.0]
    parts = store.sql("SELECT * FROM insights_participants ORDER BY participant_sid")
    assert parts["call_sid"].tolist() == [sid("CA", 1), sid("CA", 2), sid("CA", 3)]
    assert parts["is_moderator"].tolist() == [True, False, True]
    # The partial one holds the watermark back and is stored once complete.
    cursor = json.loads(store.get_cursor(cursor_name("conferences")) or "{}")
    assert datetime.fromisoformat(cursor["watermark"]) <= NOW - timedelta(minutes=40)
    partial["processing_state"] = "complete"
    fake.log.clear()
    again = run_pull(base, store, "conferences")
    assert again.inserted == 2  # the conference and its participant
    assert count(store, "SELECT count(*) FROM insights_conferences") == 3
    assert count(store, "SELECT count(*) FROM insights_participants") == 4


def test_events_crash_resumes_with_the_calls_left(
    base: str, fake: FakeTwilio, store: Store
) -> None:
    run_pull(base, store, "calls")
    fake.faults.append(Fault("/Events", status=500, times=None, skip=10))
    with pytest.raises(TwilioAPIError):
        run_pull(base, store, "events", concurrency=1)
    done = count(store, "SELECT count(DISTINCT call_sid) FROM insights_events")
    assert done == 10
    fake.faults.clear()
    fake.log.clear()
    report = run_pull(base, store, "events")
    assert report.calls == 23 - done
    assert fake.requests_to("/Events") == 23 - done
    assert count(store, "SELECT count(*) FROM insights_events") == 46


def test_sync_pull_entry_point(base: str, fake: FakeTwilio, store: Store) -> None:
    report = pull(
        store,
        "summaries",
        since=SINCE,
        credentials=CREDS,
        api_base=base,
        insights_base=base,
        page_size=10,
    )
    assert (report.records, report.inserted, report.pages) == (23, 23, 3)
    assert report.requests == 3


def test_pull_of_the_fixture_dataset_equals_its_file_ingest(db_path: Path) -> None:
    """The committed fixtures served by the fake, pulled, equal the same files ingested."""
    from tests.conftest import FIXTURES

    fake = FakeTwilio()
    fake.load_fixtures(FIXTURES)
    starts = [parsedate_to_datetime(c["start_time"]) for c in fake.calls.values()]
    since, until = min(starts) - timedelta(minutes=1), max(starts) + timedelta(hours=6)
    creds = Credentials(fake.account_sid, fake.account_sid, AUTH_TOKEN)

    async def go(store: Store) -> list[PullReport]:
        async with AsyncClient(creds, api_base=base, insights_base=base, page_size=20) as c:
            return [
                await apull(c, store, r, since=since, until=until)
                for r in ("calls", "summaries", "events", "metrics")
            ]

    with serve(fake) as base, vi.open(db_path) as pulled:
        with pytest.warns(RetentionWarning):  # March 2026 is past Insights' 30 days
            reports = asyncio.run(go(pulled))
        assert [r.rejected for r in reports] == [0, 0, 0, 0]
        with vi.open(db_path.with_name("files.duckdb")) as files:
            names = [
                "rest_calls_page*.json",
                "insights_summaries.json",
                "insights_events.json",
                "insights_metrics.json",
            ]
            files.ingest([p for n in names for p in sorted(FIXTURES.glob(n))])
            for table, key in (
                ("rest_calls", "call_sid"),
                ("insights_summaries", "call_sid"),
                ("insights_events", "call_sid, timestamp, edge, name"),
                ("insights_metrics", "call_sid, timestamp, edge, direction"),
            ):
                cols = [
                    c
                    for c in get_table(table).column_names
                    if c not in ("received_at", "ingest_source")
                ]
                query = f"SELECT {', '.join(cols)} FROM {table} ORDER BY {key}"
                a, b = pulled.sql(query), files.sql(query)
                assert len(a) == len(b) > 0, table
                pd.testing.assert_frame_equal(a, b, obj=table)
    assert len(fake.calls) == 112


def test_partial_summary_is_asked_again_until_complete(
    base: str, fake: FakeTwilio, store: Store
) -> None:
    since = NOW - timedelta(hours=8)
    started = NOW - timedelta(hours=6)
    fake.add_call(600, started, status="in-progress")  # its summary is partial
    first = run_pull(base, store, "summaries", since=since)
    assert first.inserted == 24
    assert store.summaries(sid("CA", 600))["processing_state"].tolist() == ["partial"]
    cursor = json.loads(store.get_cursor(cursor_name("summaries")) or "{}")
    assert datetime.fromisoformat(cursor["watermark"]) <= started
    fake.summaries[sid("CA", 600)].update(
        processing_state="complete",
        call_state="completed",
        duration=300,
        end_time=(started + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    fake.log.clear()
    again = run_pull(base, store, "summaries", since=since)
    asked = parse_qs(next(q for _, p, q in fake.log if p.endswith("/Summaries")))
    assert asked["StartTime"] == [(started - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")]
    assert again.updated == 1
    assert again.inserted == 0
    row = store.summaries(sid("CA", 600)).iloc[0]
    assert (row["processing_state"], row["duration_s"]) == ("complete", 300.0)
    # Settled now: the watermark moves past it, but stays 4 h 30 min behind the window's end
    # (a summary appears only after its call ends, and calls may last 4 hours).
    cursor = json.loads(store.get_cursor(cursor_name("summaries")) or "{}")
    mark = datetime.fromisoformat(cursor["watermark"])
    assert started < mark == again.until - timedelta(hours=4, minutes=30)


def test_events_wait_for_insights_processing(base: str, fake: FakeTwilio, store: Store) -> None:
    run_pull(base, store, "calls")
    ended = store.calls()["end_time"]
    settled = int((ended <= pd.Timestamp(NOW - timedelta(minutes=30))).sum())
    assert 0 < settled < 23
    # Default: only calls that ended 30 minutes before the window's end are asked...
    report = run_pull(base, store, "events", until=NOW, processing_delay=PROCESSING_DELAY)
    assert report.calls == settled
    assert count(store, "SELECT count(DISTINCT call_sid) FROM insights_events") == settled
    # ...the others once their data is final (here: a window ending an hour later).
    later = run_pull(
        base, store, "events", until=NOW + timedelta(hours=1), processing_delay=PROCESSING_DELAY
    )
    assert later.calls == 23 - settled
    assert count(store, "SELECT count(*) FROM insights_events") == 46

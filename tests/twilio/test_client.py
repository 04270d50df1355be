"""The httpx clients against a real HTTP fake of Twilio on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from email.utils import format_datetime

import pytest

from tests.twilio.conftest import CREDS, FAST_RETRY, NOW
from tests.twilio.fake_twilio import ACCOUNT_SID, API_KEY, API_SECRET, FakeTwilio, Fault, sid
from voiceinsights import (
    ConfigError,
    TwilioAPIError,
    TwilioAuthError,
    TwilioNotFoundError,
    TwilioRateLimitError,
)
from voiceinsights.twilio import AsyncClient, Client, Credentials, RetryPolicy

CALLS = "/Calls.json"


def test_calls_follow_relative_next_page_uri(client: Client, fake: FakeTwilio) -> None:
    calls = list(client.list_calls(start_time_after=NOW - timedelta(hours=3)))
    assert [c["sid"] for c in calls] == [c["sid"] for c in fake._sorted_calls()]
    assert fake.requests_to(CALLS) == 5  # 23 calls, 5 per page
    # Later pages were asked through Twilio's relative next_page_uri (PageToken + filter).
    later = [q for _, path, q in fake.log if path.endswith(CALLS)][1:]
    assert all("PageToken=" in q and "StartTime%3E%3D=" in q for q in later)


def test_calls_filters_and_limit(client: Client, fake: FakeTwilio) -> None:
    window = list(client.list_calls(start_time_after=NOW - timedelta(minutes=31)))
    assert 4 <= len(window) <= 7  # 23 calls over 2 h: about one every 5 minutes
    children = list(client.list_calls(parent_call_sid=sid("CA", 2)))
    assert [c["sid"] for c in children] == [sid("CA", 3)]
    assert len(list(client.list_calls(limit=7))) == 7


def test_insights_follow_absolute_next_page_url(client: Client, fake: FakeTwilio) -> None:
    summaries = list(client.list_call_summaries(start_time=NOW - timedelta(hours=3)))
    assert {s["call_sid"] for s in summaries} == set(fake.summaries)
    queries = [q for _, path, q in fake.log if path.endswith("/Summaries")]
    assert len(queries) == 5
    assert all("PageToken=" in q for q in queries[1:])


def test_foreign_next_page_host_is_rebased(client: Client, fake: FakeTwilio) -> None:
    # Twilio's absolute links name its public host; credentials must stay on our base.
    fake.foreign_next_host = "https://insights.twilio.com"
    summaries = list(client.list_call_summaries(start_time=NOW - timedelta(hours=3)))
    assert len(summaries) == 23
    assert fake.requests_to("/Summaries") == 5


def test_twilio_default_summaries_window_is_four_hours(client: Client, fake: FakeTwilio) -> None:
    fake.add_call(900, NOW - timedelta(hours=6))
    recent = {s["call_sid"] for s in client.list_call_summaries()}
    assert sid("CA", 900) not in recent
    older = {s["call_sid"] for s in client.list_call_summaries(start_time="7h")}
    assert sid("CA", 900) in older


def test_get_call_summary_events_metrics(client: Client, fake: FakeTwilio) -> None:
    call_sid = sid("CA", 5)
    assert client.get_call(call_sid)["sid"] == call_sid
    summary = client.get_call_summary(call_sid, processing_state="complete")
    assert summary["call_sid"] == call_sid
    assert "ProcessingState=complete" in fake.log[-1][2]
    events = list(client.list_events(call_sid, edge="carrier_edge"))
    assert [e["name"] for e in events] == ["initiated", "answered"]
    assert list(client.list_events(call_sid, edge="sdk_edge")) == []
    metrics = list(client.list_metrics(call_sid))
    assert len(metrics) == 2
    assert metrics[0]["carrier_edge"]["interval"]["packets_received"] == 500


def test_not_found_carries_twilio_code_and_message(client: Client) -> None:
    with pytest.raises(TwilioNotFoundError) as info:
        client.get_call(sid("CA", 999_999))
    assert info.value.status == 404
    assert info.value.code == 20404
    assert "was not found" in str(info.value)
    assert info.value.more_info == "https://www.twilio.com/docs/errors/20404"


def test_wrong_secret_is_an_auth_error(base: str) -> None:
    bad = Credentials(ACCOUNT_SID, ACCOUNT_SID, "wrong")
    with (
        Client(bad, api_base=base, insights_base=base) as c,
        pytest.raises(TwilioAuthError) as info,
    ):
        c.get_call(sid("CA", 1))
    assert info.value.status == 401
    assert info.value.code == 20003
    assert "Authenticate" in str(info.value)


def test_api_key_and_secret_authenticate(base: str) -> None:
    creds = Credentials.from_env(
        env={
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_API_KEY": API_KEY,
            "TWILIO_API_SECRET": API_SECRET,
        }
    )
    assert creds.uses_api_key
    with Client(creds, api_base=base, insights_base=base) as c:
        assert c.get_call(sid("CA", 1))["sid"] == sid("CA", 1)


def test_429_retry_after_is_honoured(client: Client, fake: FakeTwilio) -> None:
    fake.faults.append(Fault(CALLS, status=429, times=2, retry_after="1"))
    started = time.monotonic()
    calls = list(client.list_calls())
    waited = time.monotonic() - started
    assert len(calls) == 23
    assert client.stats.throttled == 2
    assert client.stats.retries == 2
    assert waited >= 1.9  # two Retry-After: 1 waits (a lower bound, robust to load)


def test_retry_after_http_date(client: Client, fake: FakeTwilio) -> None:
    when = format_datetime(NOW.replace(year=NOW.year - 1), usegmt=True)  # in the past: 0 s
    fake.faults.append(Fault("/Summary", status=503, times=1, retry_after=when))
    assert client.get_call_summary(sid("CA", 2))["call_sid"] == sid("CA", 2)
    assert client.stats.server_errors == 1


def test_429_forever_raises_rate_limit_error(client: Client, fake: FakeTwilio) -> None:
    fake.faults.append(Fault(CALLS, status=429, times=None, retry_after="0"))
    with pytest.raises(TwilioRateLimitError) as info:
        list(client.list_calls())
    assert info.value.code == 20429
    assert fake.requests_to(CALLS) == FAST_RETRY.max_retries + 1


def test_500s_are_retried_then_succeed(client: Client, fake: FakeTwilio) -> None:
    fake.faults.append(Fault(CALLS, status=500, times=2, skip=1))  # page 2 fails twice
    assert len(list(client.list_calls())) == 23
    assert client.stats.server_errors == 2
    assert fake.requests_to(CALLS) == 7


def test_500_forever_raises_api_error(client: Client, fake: FakeTwilio) -> None:
    fake.faults.append(Fault("/Summary", status=500, times=None))
    with pytest.raises(TwilioAPIError) as info:
        client.get_call_summary(sid("CA", 2))
    assert type(info.value) is TwilioAPIError
    assert info.value.status == 500
    assert "after 4 attempts" in str(info.value)


def test_timeout_is_retried(base: str, fake: FakeTwilio) -> None:
    fake.faults.append(Fault("/Summary", delay_s=1.5, times=1))
    with Client(CREDS, api_base=base, insights_base=base, timeout_s=0.5, retry=FAST_RETRY) as c:
        assert c.get_call_summary(sid("CA", 3))["call_sid"] == sid("CA", 3)
        assert c.stats.transport_errors == 1


def test_timeout_forever_raises(base: str, fake: FakeTwilio) -> None:
    fake.faults.append(Fault("/Summary", delay_s=1.5, times=None))
    retry = RetryPolicy(max_retries=1, backoff_base_s=0.01)
    c = Client(CREDS, api_base=base, insights_base=base, timeout_s=0.3, retry=retry)
    with c, pytest.raises(TwilioAPIError, match="timed out after 2 attempt"):
        c.get_call_summary(sid("CA", 3))


def test_slow_pages_complete(client: Client, fake: FakeTwilio) -> None:
    fake.faults.append(Fault(CALLS, delay_s=0.3, times=3))
    assert len(list(client.list_calls())) == 23
    assert client.stats.retries == 0


def test_annotation_read_and_write(client: Client, fake: FakeTwilio) -> None:
    call_sid = sid("CA", 4)
    assert client.get_annotation(call_sid)["call_score"] is None
    written = client.update_annotation(
        call_sid, quality_issues=["echo", "low_volume"], call_score=2, spam=False, comment="robotic"
    )
    assert written["quality_issues"] == ["echo", "low_volume"]
    assert written["call_score"] == 2
    assert written["spam"] is False
    assert client.get_annotation(call_sid)["comment"] == "robotic"
    assert fake.summaries[call_sid]["annotation"]["call_score"] == 2
    with pytest.raises(ValueError, match="call_score"):
        client.update_annotation(call_sid, call_score=9)
    with pytest.raises(ValueError, match="quality issue"):
        client.update_annotation(call_sid, quality_issues=["loud"])


def test_conference_and_participant_summaries(client: Client, fake: FakeTwilio) -> None:
    fake.add_conference(1, NOW - timedelta(minutes=30), [sid("CA", 1), sid("CA", 2)])
    fake.add_conference(2, NOW - timedelta(days=2), [sid("CA", 3)])
    recent = list(client.list_conferences(created_after=NOW - timedelta(hours=1)))
    assert [c["conference_sid"] for c in recent] == [sid("CF", 1)]
    assert client.get_conference(sid("CF", 2))["unique_participants"] == 1
    parts = list(client.list_conference_participants(sid("CF", 1)))
    assert [p["call_sid"] for p in parts] == [sid("CA", 1), sid("CA", 2)]
    one = client.get_conference_participant(sid("CF", 1), parts[1]["participant_sid"])
    assert one["label"] == "p1"


def test_async_client_limits_concurrency(base: str, fake: FakeTwilio) -> None:
    fake.latency_s = 0.05

    async def run() -> list[dict[str, object]]:
        async with AsyncClient(CREDS, api_base=base, insights_base=base, max_concurrency=3) as c:
            return await asyncio.gather(*(c.get_call(sid("CA", i)) for i in range(12)))

    calls = asyncio.run(run())
    assert [c["sid"] for c in calls] == [sid("CA", i) for i in range(12)]
    assert 2 <= fake.max_in_flight <= 3


def test_async_client_pages_and_annotation(base: str, fake: FakeTwilio) -> None:
    async def run() -> tuple[int, int, dict[str, object]]:
        async with AsyncClient(CREDS, api_base=base, insights_base=base, page_size=4) as c:
            calls = await c.collect(c.list_calls())
            summaries = await c.collect(c.list_call_summaries(start_time="3h"))
            await c.update_annotation(sid("CA", 1), connectivity_issue="no_connectivity_issue")
            return len(calls), len(summaries), await c.get_annotation(sid("CA", 1))

    n_calls, n_summaries, annotation = asyncio.run(run())
    assert (n_calls, n_summaries) == (23, 23)
    assert annotation["connectivity_issue"] == "no_connectivity_issue"


def test_credentials_from_env_errors() -> None:
    with pytest.raises(ConfigError, match="TWILIO_ACCOUNT_SID"):
        Credentials.from_env(env={})
    with pytest.raises(ConfigError, match="not an Account SID"):
        Credentials.from_env(env={"TWILIO_ACCOUNT_SID": "XX1", "TWILIO_AUTH_TOKEN": "t"})
    with pytest.raises(ConfigError, match="TWILIO_API_SECRET is missing"):
        Credentials.from_env(env={"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_API_KEY": API_KEY})
    with pytest.raises(ConfigError, match="TWILIO_AUTH_TOKEN"):
        Credentials.from_env(env={"TWILIO_ACCOUNT_SID": ACCOUNT_SID})
    creds = Credentials.from_env(
        env={"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": "secret-token"}
    )
    assert not creds.uses_api_key
    assert "secret-token" not in repr(creds)


def test_base_urls_from_environment(monkeypatch: pytest.MonkeyPatch, base: str) -> None:
    monkeypatch.setenv("VOICEINSIGHTS_TWILIO_API_BASE", base + "/")
    monkeypatch.setenv("VOICEINSIGHTS_TWILIO_INSIGHTS_BASE", base)
    with Client(CREDS) as c:
        assert c.api_base == base
        assert c.get_call(sid("CA", 1))["sid"] == sid("CA", 1)
    with pytest.raises(ConfigError, match="not an http"):
        Client(CREDS, api_base="ftp://example.invalid")


def test_sync_client_limits_threads(base: str, fake: FakeTwilio) -> None:
    from concurrent.futures import ThreadPoolExecutor

    fake.latency_s = 0.05
    with (
        Client(CREDS, api_base=base, insights_base=base, max_concurrency=2) as c,
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        got = list(pool.map(lambda i: c.get_call(sid("CA", i))["sid"], range(10)))
    assert got == [sid("CA", i) for i in range(10)]
    assert fake.max_in_flight == 2

"""Backoff, Retry-After and error-body parsing (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from voiceinsights import TwilioAPIError, TwilioAuthError, TwilioNotFoundError
from voiceinsights.twilio import RetryPolicy, parse_retry_after
from voiceinsights.twilio._errors import error_from_response
from voiceinsights.twilio._paging import parse_page, rebase_url


def test_parse_retry_after_seconds_and_dates() -> None:
    now = datetime(2026, 11, 21, 10, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 1.5 ") == 1.5
    # RFC 9110 example format (IMF-fixdate), 30 s after `now`
    assert parse_retry_after("Sat, 21 Nov 2026 10:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Sat, 21 Nov 2026 09:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-3") is None
    assert parse_retry_after(None) is None


def test_backoff_is_exponential_with_bounded_jitter() -> None:
    policy = RetryPolicy(max_retries=10, backoff_base_s=0.5, backoff_max_s=8.0, jitter=0.5, seed=3)
    for attempt in range(8):
        raw = min(8.0, 0.5 * 2**attempt)
        delays = [policy.backoff_s(attempt) for _ in range(200)]
        assert all(raw * 0.5 <= d <= raw for d in delays)
        assert max(delays) - min(delays) > raw * 0.3  # the jitter really spreads them
    no_jitter = RetryPolicy(jitter=0.0)
    assert [no_jitter.backoff_s(a) for a in range(4)] == [0.5, 1.0, 2.0, 4.0]


def test_retry_after_is_a_lower_bound_and_capped() -> None:
    policy = RetryPolicy(backoff_base_s=0.01, retry_after_max_s=60)
    assert policy.delay_s(0, 5.0) == 5.0
    assert policy.delay_s(0, 600.0) is None  # too long: give up rather than hang
    assert policy.should_retry(0, 429)
    assert policy.should_retry(0, None)
    assert not policy.should_retry(0, 400)
    assert not policy.should_retry(5, 503)


def test_error_bodies() -> None:
    body = (
        b'{"code": 20404, "message": "The requested resource /x was not found", '
        b'"more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}'
    )
    err = error_from_response(404, body, url="https://h/x")
    assert isinstance(err, TwilioNotFoundError)
    assert (err.code, err.status) == (20404, 404)
    assert "(error 20404)" in str(err)
    assert "was not found" in str(err)
    assert isinstance(error_from_response(403, b"", url="u"), TwilioAuthError)
    html = error_from_response(502, b"<html>Bad gateway</html>", url="u")
    assert type(html) is TwilioAPIError
    assert html.code is None
    assert "Bad gateway" in str(html)


def test_pages_of_both_styles() -> None:
    rest = parse_page(
        {
            "calls": [{"sid": "CA1"}],
            "page": 0,
            "page_size": 1,
            "next_page_uri": "/2010-04-01/Accounts/AC1/Calls.json?Page=1",
        },
        style="rest",
        key="calls",
        base="http://127.0.0.1:9",
        url="u",
    )
    assert rest.next_url == "http://127.0.0.1:9/2010-04-01/Accounts/AC1/Calls.json?Page=1"
    ins = parse_page(
        {"meta": {"key": "events", "next_page_url": None, "page": 2}, "events": []},
        style="insights",
        key="x",
        base="http://b",
        url="u",
    )
    assert (ins.next_url, ins.page, ins.items) == (None, 2, [])
    with pytest.raises(TwilioAPIError, match="no 'meta'"):
        parse_page({"events": []}, style="insights", key="events", base="http://b", url="u")
    with pytest.raises(TwilioAPIError, match="no list"):
        parse_page({"meta": {}}, style="insights", key="events", base="http://b", url="u")
    assert rebase_url("https://insights.twilio.com/v1/a?b=1", "http://127.0.0.1:1") == (
        "http://127.0.0.1:1/v1/a?b=1"
    )

"""Fixtures of the Twilio tests: a fake Twilio API on 127.0.0.1 and clients bound to it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.twilio.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, serve
from voiceinsights.twilio import Client, Credentials, RetryPolicy

NOW = datetime.now(UTC).replace(microsecond=0)
CREDS = Credentials(ACCOUNT_SID, ACCOUNT_SID, AUTH_TOKEN)
FAST_RETRY = RetryPolicy(max_retries=3, backoff_base_s=0.01, backoff_max_s=0.05, seed=7)


@pytest.fixture
def fake() -> FakeTwilio:
    """23 completed calls over the last 2 hours (every 4th a child leg)."""
    f = FakeTwilio()
    f.populate(23, end=NOW - timedelta(minutes=1), span=timedelta(hours=2))
    return f


@pytest.fixture
def base(fake: FakeTwilio) -> Iterator[str]:
    with serve(fake) as url:
        yield url


@pytest.fixture
def client(base: str) -> Iterator[Client]:
    with Client(
        CREDS, api_base=base, insights_base=base, page_size=5, retry=FAST_RETRY, timeout_s=5
    ) as c:
        yield c

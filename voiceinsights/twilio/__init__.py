"""Twilio REST client (Calls and Voice Insights) and incremental pulls into the store.

>>> from voiceinsights.twilio import Client
>>> with Client() as client:                                   # doctest: +SKIP
...     summary = client.get_call_summary("CA" + "0" * 32)
"""

from __future__ import annotations

from voiceinsights.twilio._auth import (
    DEFAULT_API_BASE,
    DEFAULT_INSIGHTS_BASE,
    Credentials,
    get_base_urls,
)
from voiceinsights.twilio._client import AsyncClient, Client
from voiceinsights.twilio._core import ClientStats, ListSpec
from voiceinsights.twilio._paging import Page
from voiceinsights.twilio._pull import (
    INSIGHTS_RETENTION,
    PROCESSING_DELAY,
    RESOURCES,
    PullReport,
    RetentionWarning,
    apull,
    cursor_name,
    pull,
)
from voiceinsights.twilio._retry import RetryPolicy, parse_retry_after

__all__ = [
    "DEFAULT_API_BASE",
    "DEFAULT_INSIGHTS_BASE",
    "INSIGHTS_RETENTION",
    "PROCESSING_DELAY",
    "RESOURCES",
    "AsyncClient",
    "Client",
    "ClientStats",
    "Credentials",
    "ListSpec",
    "Page",
    "PullReport",
    "RetentionWarning",
    "RetryPolicy",
    "apull",
    "cursor_name",
    "get_base_urls",
    "parse_retry_after",
    "pull",
]

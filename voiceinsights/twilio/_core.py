"""What the sync and async clients share: endpoints, parameters and response handling.

The clients differ only in how they send a request and how they wait; everything about
*which* request to send and *what to make of the answer* lives here, once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote

import httpx

from voiceinsights._exceptions import TwilioAPIError
from voiceinsights.twilio._auth import Credentials, get_base_urls
from voiceinsights.twilio._errors import error_from_response
from voiceinsights.twilio._paging import PagingStyle
from voiceinsights.twilio._retry import RetryPolicy, parse_retry_after

__all__ = ["ClientStats", "ListSpec", "Outcome", "Param", "format_time"]

Param = str | int | float | bool | datetime | None
Base = Literal["api", "insights"]


def format_time(value: datetime | str) -> str:
    """ISO 8601 in UTC with a ``Z`` (``2026-11-21T10:00:00Z``); strings pass through."""
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _encode(params: Mapping[str, Param]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, datetime):
            out[name] = format_time(value)
        else:
            out[name] = str(value)
    return out


def _sid(value: str, prefix: str, what: str) -> str:
    if not isinstance(value, str) or not value.startswith(prefix) or "/" in value:
        raise ValueError(f"{what} {value!r} must be a {prefix}... SID")
    return quote(value, safe="")


@dataclass(frozen=True)
class ListSpec:
    """A list request: first URL, its query, and how its pages are shaped."""

    url: str
    params: dict[str, str]
    style: PagingStyle
    key: str
    base: str


@dataclass
class ClientStats:
    """Counters of what a client did (requests sent, retries, throttled answers)."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    server_errors: int = 0
    transport_errors: int = 0


@dataclass(frozen=True)
class Outcome:
    """What to do after one attempt: return ``data``, or wait ``delay_s`` and retry."""

    data: Any = None
    delay_s: float | None = None
    retry: bool = False


@dataclass
class _Core:
    credentials: Credentials
    api_base: str
    insights_base: str
    timeout_s: float
    retry: RetryPolicy
    max_concurrency: int
    page_size: int | None
    stats: ClientStats = field(default_factory=ClientStats)

    @classmethod
    def build(
        cls,
        credentials: Credentials | None,
        api_base: str | None,
        insights_base: str | None,
        timeout_s: float,
        retry: RetryPolicy | None,
        max_concurrency: int,
        page_size: int | None,
    ) -> _Core:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")
        if timeout_s <= 0:
            raise ValueError("timeout_s must be > 0")
        api, insights = get_base_urls(api_base, insights_base)
        return cls(
            credentials or Credentials.from_env(),
            api,
            insights,
            timeout_s,
            retry or RetryPolicy(),
            max_concurrency,
            page_size,
        )

    def http_options(self) -> dict[str, Any]:
        return {
            "auth": self.credentials.auth(),
            "timeout": httpx.Timeout(self.timeout_s),
            "headers": {"Accept": "application/json", "User-Agent": "voiceinsights"},
            "follow_redirects": False,
        }

    # -- URLs -------------------------------------------------------------------------
    def calls_url(self) -> str:
        account = _sid(self.credentials.account_sid, "AC", "account")
        return f"{self.api_base}/2010-04-01/Accounts/{account}/Calls.json"

    def call_url(self, call_sid: str) -> str:
        account = _sid(self.credentials.account_sid, "AC", "account")
        sid = _sid(call_sid, "CA", "call")
        return f"{self.api_base}/2010-04-01/Accounts/{account}/Calls/{sid}.json"

    def voice_url(self, call_sid: str, leaf: str) -> str:
        return f"{self.insights_base}/v1/Voice/{_sid(call_sid, 'CA', 'call')}/{leaf}"

    def conference_url(self, conference_sid: str | None = None) -> str:
        if conference_sid is None:
            return f"{self.insights_base}/v1/Conferences"
        return f"{self.insights_base}/v1/Conferences/{_sid(conference_sid, 'CF', 'conference')}"

    def spec(
        self, url: str, params: Mapping[str, Param], *, style: PagingStyle, key: str
    ) -> ListSpec:
        query = _encode(params)
        size = query.get("PageSize") or (str(self.page_size) if self.page_size else None)
        if size is not None:
            query["PageSize"] = size
        base = self.api_base if style == "rest" else self.insights_base
        return ListSpec(url, query, style, key, base)

    # -- answers ----------------------------------------------------------------------
    def outcome(
        self,
        method: str,
        url: str,
        attempt: int,
        response: httpx.Response | None,
        error: httpx.TransportError | None,
    ) -> Outcome:
        """Decide after one attempt; raises when giving up."""
        self.stats.requests += 1
        if response is None:
            self.stats.transport_errors += 1
            if self.retry.should_retry(attempt, None):
                self.stats.retries += 1
                return Outcome(retry=True, delay_s=self.retry.delay_s(attempt))
            kind = "timed out" if isinstance(error, httpx.TimeoutException) else "failed"
            raise TwilioAPIError(
                f"{method} {url} {kind} after {attempt + 1} attempt(s): "
                f"{type(error).__name__}: {error}",
                url=url,
            ) from error
        status = response.status_code
        if status < 400:
            if status == 204 or not response.content:
                return Outcome(data={})
            try:
                return Outcome(data=json.loads(response.content))
            except ValueError:
                raise TwilioAPIError(
                    f"{method} {url}: answer {status} is not JSON", status=status, url=url
                ) from None
        if status == 429:
            self.stats.throttled += 1
        elif status >= 500:
            self.stats.server_errors += 1
        if self.retry.should_retry(attempt, status):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            delay = self.retry.delay_s(attempt, retry_after)
            if delay is not None:
                self.stats.retries += 1
                return Outcome(retry=True, delay_s=delay)
        exc = error_from_response(status, response.content, url=url, method=method)
        if status in self.retry.statuses and attempt > 0:
            exc.args = (f"{exc.args[0]} (after {attempt + 1} attempts)",)
        raise exc

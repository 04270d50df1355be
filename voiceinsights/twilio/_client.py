"""``Client`` (sync) and ``AsyncClient`` on httpx for the Calls and Voice Insights APIs.

Both have the same methods with the same arguments; the async ones are coroutines and
async iterators. Each retries 429 and 5xx answers and transport errors (timeouts, refused
connections) with exponential backoff and jitter, honouring ``Retry-After``; limits the
requests in flight to ``max_concurrency``; and turns error answers into
:class:`~voiceinsights.TwilioAPIError` subclasses carrying Twilio's code and message.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import httpx

from voiceinsights.twilio._auth import Credentials
from voiceinsights.twilio._core import ClientStats, ListSpec, Param, _Core
from voiceinsights.twilio._paging import Page, parse_page
from voiceinsights.twilio._requests import Requests
from voiceinsights.twilio._retry import RetryPolicy

__all__ = ["AsyncClient", "Client"]


class _Base:
    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        api_base: str | None = None,
        insights_base: str | None = None,
        timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
        max_concurrency: int = 8,
        page_size: int | None = None,
    ) -> None:
        self._core = _Core.build(
            credentials, api_base, insights_base, timeout_s, retry, max_concurrency, page_size
        )
        self._req = Requests(self._core)

    @property
    def credentials(self) -> Credentials:
        """The credentials requests are signed with."""
        return self._core.credentials

    @property
    def api_base(self) -> str:
        """Base URL of the 2010-04-01 REST API (scheme and host)."""
        return self._core.api_base

    @property
    def insights_base(self) -> str:
        """Base URL of the Voice Insights API (scheme and host)."""
        return self._core.insights_base

    @property
    def max_concurrency(self) -> int:
        """Most requests this client has in flight at once."""
        return self._core.max_concurrency

    @property
    def stats(self) -> ClientStats:
        """Requests, retries, throttled answers and errors seen so far."""
        return self._core.stats


class Client(_Base):
    """Synchronous client for the Twilio Calls and Voice Insights REST APIs.

    Parameters
    ----------
    credentials : Credentials, optional
        Defaults to :meth:`Credentials.from_env` (``TWILIO_ACCOUNT_SID``,
        ``TWILIO_AUTH_TOKEN`` or ``TWILIO_API_KEY`` + ``TWILIO_API_SECRET``).
    api_base, insights_base : str, optional
        Scheme and host of the two APIs; default from ``VOICEINSIGHTS_TWILIO_API_BASE`` /
        ``VOICEINSIGHTS_TWILIO_INSIGHTS_BASE``, else Twilio's public hosts.
    timeout_s : float
        Connect/read/write/pool timeout of each attempt, in seconds.
    retry : RetryPolicy, optional
        Backoff settings (5 retries, 0.5 s doubling, jitter by default).
    max_concurrency : int
        Requests in flight at once when the client is shared between threads.
    page_size : int, optional
        ``PageSize`` sent with list requests (Twilio's default otherwise).
    transport : httpx.BaseTransport, optional
        A custom httpx transport.

    Examples
    --------
    >>> with Client() as client:                                     # doctest: +SKIP
    ...     for call in client.list_calls(start_time_after="2026-11-20T00:00:00Z"):
    ...         print(call["sid"], call["status"])
    """

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        api_base: str | None = None,
        insights_base: str | None = None,
        timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
        max_concurrency: int = 8,
        page_size: int | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            credentials,
            api_base=api_base,
            insights_base=insights_base,
            timeout_s=timeout_s,
            retry=retry,
            max_concurrency=max_concurrency,
            page_size=page_size,
        )
        self._http = httpx.Client(transport=transport, **self._core.http_options())
        self._slots = threading.BoundedSemaphore(max_concurrency)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- transport --------------------------------------------------------------------
    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> Any:
        """Send one request with retries and return the decoded JSON answer."""
        attempt = 0
        while True:
            response: httpx.Response | None = None
            error: httpx.TransportError | None = None
            with self._slots:
                try:
                    response = self._http.request(method, url, params=params, data=data)
                except httpx.TransportError as exc:
                    error = exc
            outcome = self._core.outcome(method, url, attempt, response, error)
            if not outcome.retry:
                return outcome.data
            time.sleep(outcome.delay_s or 0.0)
            attempt += 1

    def iter_pages(self, spec: ListSpec, *, start_url: str | None = None) -> Iterator[Page]:
        """Pages of a list request, following next-page links; ``start_url`` resumes."""
        url: str | None = start_url or spec.url
        params: dict[str, str] | None = None if start_url else spec.params
        while url:
            body = self.request("GET", url, params=params)
            page = parse_page(body, style=spec.style, key=spec.key, base=spec.base, url=url)
            yield page
            url, params = page.next_url, None

    def _items(self, spec: ListSpec, limit: int | None) -> Iterator[dict[str, Any]]:
        count = 0
        for page in self.iter_pages(spec):
            for item in page.items:
                if limit is not None and count >= limit:
                    return
                count += 1
                yield item

    # -- Calls ------------------------------------------------------------------------
    def list_calls(
        self,
        *,
        start_time_after: datetime | str | None = None,
        start_time_before: datetime | str | None = None,
        to: str | None = None,
        from_: str | None = None,
        parent_call_sid: str | None = None,
        status: str | None = None,
        page_size: int | None = None,
        limit: int | None = None,
        extra: Mapping[str, Param] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Call resources, newest first, following ``next_page_uri`` (relative).

        Filters map to Twilio's ``StartTime>=``, ``StartTime<=``, ``To``, ``From``,
        ``ParentCallSid``, ``Status``; ``extra`` passes other Twilio parameters verbatim.
        """
        spec = self._req.calls(
            start_time_after=start_time_after,
            start_time_before=start_time_before,
            to=to,
            from_=from_,
            parent_call_sid=parent_call_sid,
            status=status,
            page_size=page_size,
            extra=extra,
        )
        return self._items(spec, limit)

    def get_call(self, call_sid: str) -> dict[str, Any]:
        """One Call resource."""
        result: dict[str, Any] = self.request("GET", self._core.call_url(call_sid))
        return result

    # -- Insights: calls --------------------------------------------------------------
    def get_call_summary(
        self, call_sid: str, *, processing_state: str | None = None
    ) -> dict[str, Any]:
        """The Insights summary of one call (``processing_state``: complete, partial, all)."""
        url, query = self._req.summary(call_sid, processing_state)
        result: dict[str, Any] = self.request("GET", url, params=query)
        return result

    def list_call_summaries(
        self,
        *,
        start_time: datetime | str | None = None,
        end_time: datetime | str | None = None,
        limit: int | None = None,
        **filters: Any,
    ) -> Iterator[dict[str, Any]]:
        """Insights call summaries, following ``meta.next_page_url`` (absolute).

        ``start_time``/``end_time`` bound the calls' start (ISO 8601 or relative like
        ``4h``; Twilio's default window is the last 4 hours). Other keyword filters:
        ``from_, to, call_type, call_state, direction, has_tag, processing_state, sort_by,
        page_size, extra``.
        """
        spec = self._req.summaries(start_time=start_time, end_time=end_time, **filters)
        return self._items(spec, limit)

    def list_events(
        self, call_sid: str, *, edge: str | None = None, page_size: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Insights events of one call, optionally of one ``edge``."""
        return self._items(self._req.events(call_sid, edge, page_size), None)

    def list_metrics(
        self,
        call_sid: str,
        *,
        edge: str | None = None,
        direction: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Insights metrics (10 s intervals) of one call."""
        return self._items(self._req.metrics(call_sid, edge, direction, page_size), None)

    def get_annotation(self, call_sid: str) -> dict[str, Any]:
        """The annotation of one call."""
        result: dict[str, Any] = self.request("GET", self._req.annotation(call_sid))
        return result

    def update_annotation(
        self,
        call_sid: str,
        *,
        answered_by: str | None = None,
        connectivity_issue: str | None = None,
        quality_issues: str | Sequence[str] | None = None,
        spam: bool | None = None,
        call_score: int | None = None,
        comment: str | None = None,
        incident: str | None = None,
    ) -> dict[str, Any]:
        """Set annotation fields of one call (only those given) and return the annotation."""
        form = self._req.annotation_form(
            {
                "answered_by": answered_by,
                "connectivity_issue": connectivity_issue,
                "quality_issues": quality_issues,
                "spam": spam,
                "call_score": call_score,
                "comment": comment,
                "incident": incident,
            }
        )
        result: dict[str, Any] = self.request("POST", self._req.annotation(call_sid), data=form)
        return result

    # -- Insights: conferences --------------------------------------------------------
    def list_conferences(
        self,
        *,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        limit: int | None = None,
        **filters: Any,
    ) -> Iterator[dict[str, Any]]:
        """Conference summaries (filters ``friendly_name, status, page_size, extra``)."""
        spec = self._req.conferences(
            created_after=created_after, created_before=created_before, **filters
        )
        return self._items(spec, limit)

    def get_conference(self, conference_sid: str) -> dict[str, Any]:
        """One conference summary."""
        result: dict[str, Any] = self.request("GET", self._core.conference_url(conference_sid))
        return result

    def list_conference_participants(
        self, conference_sid: str, *, label: str | None = None, page_size: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Participant summaries of one conference."""
        spec = self._req.participants(conference_sid, label=label, page_size=page_size)
        return self._items(spec, None)

    def get_conference_participant(
        self, conference_sid: str, participant_sid: str
    ) -> dict[str, Any]:
        """One participant summary."""
        url = self._req.participant(conference_sid, participant_sid)
        result: dict[str, Any] = self.request("GET", url)
        return result


class AsyncClient(_Base):
    """Asynchronous twin of :class:`Client` (same arguments, same methods, awaited).

    ``max_concurrency`` bounds the requests in flight across every task sharing the
    client, so fanning out with ``asyncio.gather`` stays within Twilio's concurrency limits.
    """

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        api_base: str | None = None,
        insights_base: str | None = None,
        timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
        max_concurrency: int = 8,
        page_size: int | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            credentials,
            api_base=api_base,
            insights_base=insights_base,
            timeout_s=timeout_s,
            retry=retry,
            max_concurrency=max_concurrency,
            page_size=page_size,
        )
        limits = httpx.Limits(
            max_connections=max_concurrency, max_keepalive_connections=max_concurrency
        )
        self._http = httpx.AsyncClient(
            transport=transport, limits=limits, **self._core.http_options()
        )
        self._slots = asyncio.Semaphore(max_concurrency)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> Any:
        """Send one request with retries and return the decoded JSON answer."""
        attempt = 0
        while True:
            response: httpx.Response | None = None
            error: httpx.TransportError | None = None
            async with self._slots:
                try:
                    response = await self._http.request(method, url, params=params, data=data)
                except httpx.TransportError as exc:
                    error = exc
            outcome = self._core.outcome(method, url, attempt, response, error)
            if not outcome.retry:
                return outcome.data
            await asyncio.sleep(outcome.delay_s or 0.0)
            attempt += 1

    async def iter_pages(
        self, spec: ListSpec, *, start_url: str | None = None
    ) -> AsyncIterator[Page]:
        """Pages of a list request, following next-page links; ``start_url`` resumes."""
        url: str | None = start_url or spec.url
        params: dict[str, str] | None = None if start_url else spec.params
        while url:
            body = await self.request("GET", url, params=params)
            page = parse_page(body, style=spec.style, key=spec.key, base=spec.base, url=url)
            yield page
            url, params = page.next_url, None

    async def _items(self, spec: ListSpec, limit: int | None) -> AsyncIterator[dict[str, Any]]:
        count = 0
        async for page in self.iter_pages(spec):
            for item in page.items:
                if limit is not None and count >= limit:
                    return
                count += 1
                yield item

    async def collect(self, items: AsyncIterator[dict[str, Any]]) -> list[dict[str, Any]]:
        """Drain an async item iterator into a list."""
        return [item async for item in items]

    def list_calls(
        self,
        *,
        start_time_after: datetime | str | None = None,
        start_time_before: datetime | str | None = None,
        to: str | None = None,
        from_: str | None = None,
        parent_call_sid: str | None = None,
        status: str | None = None,
        page_size: int | None = None,
        limit: int | None = None,
        extra: Mapping[str, Param] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Call resources, newest first (see :meth:`Client.list_calls`)."""
        spec = self._req.calls(
            start_time_after=start_time_after,
            start_time_before=start_time_before,
            to=to,
            from_=from_,
            parent_call_sid=parent_call_sid,
            status=status,
            page_size=page_size,
            extra=extra,
        )
        return self._items(spec, limit)

    async def get_call(self, call_sid: str) -> dict[str, Any]:
        """One Call resource."""
        result: dict[str, Any] = await self.request("GET", self._core.call_url(call_sid))
        return result

    async def get_call_summary(
        self, call_sid: str, *, processing_state: str | None = None
    ) -> dict[str, Any]:
        """The Insights summary of one call."""
        url, query = self._req.summary(call_sid, processing_state)
        result: dict[str, Any] = await self.request("GET", url, params=query)
        return result

    def list_call_summaries(
        self,
        *,
        start_time: datetime | str | None = None,
        end_time: datetime | str | None = None,
        limit: int | None = None,
        **filters: Any,
    ) -> AsyncIterator[dict[str, Any]]:
        """Insights call summaries (see :meth:`Client.list_call_summaries`)."""
        spec = self._req.summaries(start_time=start_time, end_time=end_time, **filters)
        return self._items(spec, limit)

    def list_events(
        self, call_sid: str, *, edge: str | None = None, page_size: int | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Insights events of one call."""
        return self._items(self._req.events(call_sid, edge, page_size), None)

    def list_metrics(
        self,
        call_sid: str,
        *,
        edge: str | None = None,
        direction: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Insights metrics of one call."""
        return self._items(self._req.metrics(call_sid, edge, direction, page_size), None)

    async def get_annotation(self, call_sid: str) -> dict[str, Any]:
        """The annotation of one call."""
        result: dict[str, Any] = await self.request("GET", self._req.annotation(call_sid))
        return result

    async def update_annotation(
        self,
        call_sid: str,
        *,
        answered_by: str | None = None,
        connectivity_issue: str | None = None,
        quality_issues: str | Sequence[str] | None = None,
        spam: bool | None = None,
        call_score: int | None = None,
        comment: str | None = None,
        incident: str | None = None,
    ) -> dict[str, Any]:
        """Set annotation fields of one call and return the annotation."""
        form = self._req.annotation_form(
            {
                "answered_by": answered_by,
                "connectivity_issue": connectivity_issue,
                "quality_issues": quality_issues,
                "spam": spam,
                "call_score": call_score,
                "comment": comment,
                "incident": incident,
            }
        )
        result: dict[str, Any] = await self.request(
            "POST", self._req.annotation(call_sid), data=form
        )
        return result

    def list_conferences(
        self,
        *,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        limit: int | None = None,
        **filters: Any,
    ) -> AsyncIterator[dict[str, Any]]:
        """Conference summaries."""
        spec = self._req.conferences(
            created_after=created_after, created_before=created_before, **filters
        )
        return self._items(spec, limit)

    async def get_conference(self, conference_sid: str) -> dict[str, Any]:
        """One conference summary."""
        result: dict[str, Any] = await self.request(
            "GET", self._core.conference_url(conference_sid)
        )
        return result

    def list_conference_participants(
        self, conference_sid: str, *, label: str | None = None, page_size: int | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Participant summaries of one conference."""
        spec = self._req.participants(conference_sid, label=label, page_size=page_size)
        return self._items(spec, None)

    async def get_conference_participant(
        self, conference_sid: str, participant_sid: str
    ) -> dict[str, Any]:
        """One participant summary."""
        url = self._req.participant(conference_sid, participant_sid)
        result: dict[str, Any] = await self.request("GET", url)
        return result

"""Pages of Twilio list resources, and where the next one is.

Two paging styles meet here:

* the 2010-04-01 REST API (Calls) answers ``{"calls": [...], "page": 0, "page_size": 50,
  "next_page_uri": "/2010-04-01/Accounts/AC.../Calls.json?...&PageToken=PA..."}`` where
  ``next_page_uri`` is RELATIVE to the API host (null on the last page);
* Voice Insights (``/v1``) answers ``{"meta": {"page": 0, "page_size": 50, "key":
  "call_summaries", "next_page_url": "https://insights.twilio.com/v1/...&PageToken=..."},
  "call_summaries": [...]}`` where ``next_page_url`` is ABSOLUTE.

The next URL is always resolved against the configured base: an absolute URL on another host
is moved onto the configured base (same path and query), so credentials only ever go to the
host the user chose (a regional edge or a local fake).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit, urlunsplit

from voiceinsights._exceptions import TwilioAPIError

__all__ = ["Page", "PagingStyle", "parse_page", "rebase_url"]

PagingStyle = Literal["rest", "insights"]


@dataclass(frozen=True)
class Page:
    """One page of a list resource.

    Attributes
    ----------
    items : list of dict
        The records, exactly as Twilio sent them.
    url : str
        The URL this page was read from.
    next_url : str or None
        Absolute URL of the next page on the configured base, None on the last page.
    page : int or None
        Twilio's 0-based page number.
    page_size : int or None
        Twilio's page size.
    """

    items: list[dict[str, Any]]
    url: str
    next_url: str | None
    page: int | None = None
    page_size: int | None = None


def rebase_url(url: str, base: str) -> str:
    """Resolve ``url`` (relative or absolute) onto ``base``'s scheme and host.

    >>> rebase_url("/2010-04-01/Accounts/AC1/Calls.json?Page=1", "http://127.0.0.1:8000")
    'http://127.0.0.1:8000/2010-04-01/Accounts/AC1/Calls.json?Page=1'
    >>> rebase_url("https://insights.twilio.com/v1/Voice/Summaries?Page=1",
    ...            "https://insights.dublin.ie1.twilio.com")
    'https://insights.dublin.ie1.twilio.com/v1/Voice/Summaries?Page=1'
    """
    base_parts = urlsplit(base)
    target = urlsplit(urljoin(base + "/", url))
    if (target.scheme, target.netloc) == (base_parts.scheme, base_parts.netloc):
        return urlunsplit(target)
    return urlunsplit(
        (base_parts.scheme, base_parts.netloc, target.path, target.query, target.fragment)
    )


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_page(body: Any, *, style: PagingStyle, key: str, base: str, url: str) -> Page:
    """Read one list page.

    Parameters
    ----------
    body : object
        The decoded JSON answer.
    style : {"rest", "insights"}
        The paging convention of the resource.
    key : str
        Name of the list in the body (``calls``, ``call_summaries``, ``events``, ...). For
        Insights, ``meta.key`` overrides it when present.
    base : str
        The configured base the next URL is resolved against.
    url : str
        Where the page was read from (for messages).

    Raises
    ------
    TwilioAPIError
        When the body is not a page of that resource.
    """
    if not isinstance(body, dict):
        raise TwilioAPIError(
            f"expected a JSON object page from {url}, got {type(body).__name__}", url=url
        )
    next_ref: Any
    if style == "rest":
        next_ref = body.get("next_page_uri")
        page_no, size = _int_or_none(body.get("page")), _int_or_none(body.get("page_size"))
    else:
        meta = body.get("meta")
        if not isinstance(meta, dict):
            raise TwilioAPIError(f"Insights page from {url} has no 'meta' object", url=url)
        key = str(meta.get("key") or key)
        next_ref = meta.get("next_page_url")
        page_no, size = _int_or_none(meta.get("page")), _int_or_none(meta.get("page_size"))
    items = body.get(key)
    if not isinstance(items, list):
        raise TwilioAPIError(f"page from {url} has no list {key!r}", url=url)
    if not all(isinstance(item, dict) for item in items):
        raise TwilioAPIError(f"page from {url}: {key!r} holds non-object items", url=url)
    next_url = rebase_url(str(next_ref), base) if next_ref else None
    return Page(items=items, url=url, next_url=next_url, page=page_no, page_size=size)

"""Saved cursors of incremental pulls: what a resource's cursor means and how it moves.

The cursor of a list resource (``twilio:calls``, ``twilio:summaries``,
``twilio:conferences``) is a JSON object in the store's ``sync_cursors``:

``low`` .. ``watermark``
    The range of start times known stored and *settled* (a terminal call status, a
    ``complete`` summary or conference). A run asks from ``watermark - overlap`` (or its
    ``since``, whichever is later), so a repeated run fetches only what is new; an
    unsettled record holds the watermark before its start, so it is asked again until final.
    Insights summaries exist only once a call has ended and are complete up to 30 minutes
    later, so their watermark stays 4 h 30 min (Twilio's default 4-hour call time limit
    plus 30 minutes) behind the end of the window pulled. A run reaching back before
    ``low`` asks its whole window.
``pending``
    The window being pulled: its bounds, the next page URL and the earliest unsettled start
    seen so far, saved after each stored page. A pull that stops half-way resumes from the
    next page: no gap, and the stored pages are not asked again (writes are idempotent on
    natural keys, so the page in flight at the crash is harmless).

Per-call resources (``twilio:events``, ``twilio:metrics``) keep ``empty``: calls that
answered with nothing, so they are not asked again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from voiceinsights._exceptions import ConfigError
from voiceinsights.store import Store

__all__ = [
    "OVERLAP",
    "SETTLE_LAG",
    "cover",
    "cursor_name",
    "iso",
    "load_state",
    "parse_iso",
    "save_state",
    "window_start",
]

#: How far before the watermark a run asks again (late arrivals, clock skew).
OVERLAP = {
    "calls": timedelta(minutes=15),
    "summaries": timedelta(hours=1),
    "conferences": timedelta(hours=1),
}

#: How long after a window's end records that started in it may still first appear. A
#: Call resource exists from the moment the call is created, but a summary only once the
#: call (or conference) has ended, and is complete up to 30 minutes later: calls last up
#: to 4 hours under Twilio's default time limit, so 4 h 30 min.
SETTLE_LAG = {
    "calls": timedelta(0),
    "summaries": timedelta(hours=4, minutes=30),
    "conferences": timedelta(hours=4, minutes=30),
}


def cursor_name(resource: str) -> str:
    """Name of the saved cursor of ``resource`` in the store's ``sync_cursors``."""
    return f"twilio:{resource}"


def iso(t: datetime) -> str:
    """ISO 8601 in UTC, as cursors store times."""
    return t.astimezone(UTC).isoformat()


def parse_iso(text: Any) -> datetime | None:
    """A cursor time back to an aware datetime; None for a missing or unreadable value."""
    if not isinstance(text, str):
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def load_state(store: Store, resource: str) -> dict[str, Any]:
    """The saved cursor of ``resource`` ({} when there is none)."""
    raw = store.get_cursor(cursor_name(resource))
    if not raw:
        return {}
    try:
        state = json.loads(raw)
    except ValueError:
        raise ConfigError(
            f"saved cursor {cursor_name(resource)!r} is not JSON: {raw[:80]!r}; "
            "delete it from sync_cursors to start afresh"
        ) from None
    return state if isinstance(state, dict) else {}


def save_state(store: Store, resource: str, state: Mapping[str, Any]) -> None:
    """Save the cursor of ``resource``."""
    store.set_cursor(cursor_name(resource), json.dumps(dict(state), sort_keys=True))


def cover(
    state: dict[str, Any],
    resource: str,
    since: datetime,
    until: datetime,
    unsettled: datetime | None,
) -> None:
    """Record that ``[since, until]`` was pulled completely.

    ``low .. watermark`` is the range known stored and settled. A window that touches it
    extends it; one that leaves a gap replaces it (the older range will simply be asked
    again should a later run reach back that far).
    """
    mark = until - SETTLE_LAG[resource]
    if unsettled is not None:
        mark = min(mark, unsettled)
    mark = max(mark, since)
    low, high = parse_iso(state.get("low")), parse_iso(state.get("watermark"))
    if low is None or high is None or since > high or until < low:
        low, high = since, mark
    else:
        low, high = min(low, since), max(high, mark)
        if unsettled is not None:  # something stored earlier is not final after all
            high = max(low, min(high, unsettled))
    state["low"], state["watermark"], state["pending"] = iso(low), iso(high), None


def window_start(state: Mapping[str, Any], resource: str, since: datetime) -> datetime:
    """Where a run asked from ``since`` starts, given the saved covered range."""
    low, high = parse_iso(state.get("low")), parse_iso(state.get("watermark"))
    if low is None or high is None or since < low:
        return since  # reaching further back than ever: ask the whole window
    return max(since, high - OVERLAP[resource])

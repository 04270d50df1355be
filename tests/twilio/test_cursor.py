"""The cursor arithmetic, checked by simulation: no gaps, nothing stale below the watermark."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from voiceinsights.twilio._cursor import SETTLE_LAG, cover, parse_iso, window_start

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def minutes(m: int) -> datetime:
    return T0 + timedelta(minutes=m)


# A record: starts at `start`, first visible `visible` minutes later (a summary appears
# only after its call ends), final `settle` minutes after it became visible.
records_st = st.lists(
    st.tuples(st.integers(0, 2000), st.integers(0, 270), st.integers(0, 300)),
    max_size=40,
)
# A pull: `advance` minutes after the previous one, asking `lookback` minutes back.
pulls_st = st.lists(st.tuples(st.integers(1, 400), st.integers(1, 900)), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(records_st, pulls_st, st.sampled_from(["calls", "summaries"]))
def test_no_gap_and_nothing_stale_below_the_watermark(
    records: list[tuple[int, int, int]], pulls: list[tuple[int, int]], resource: str
) -> None:
    if resource == "calls":  # a Call resource exists from its start
        records = [(t, 0, settle) for t, _, settle in records]
    state: dict[str, Any] = {}
    stored: dict[int, bool] = {}  # record index -> stored version is final
    now = 0
    for advance, lookback in pulls:
        now += advance
        since, until = minutes(now - lookback), minutes(now)
        start = window_start(state, resource, since)
        if start >= until:
            continue
        unsettled = None
        for i, (t, visible, settle) in enumerate(records):
            if not (start <= minutes(t) <= until) or t + visible > now:
                continue  # outside the request, or not listed by Twilio yet
            final = t + visible + settle <= now
            stored[i] = final
            if not final:
                unsettled = minutes(t) if unsettled is None else min(unsettled, minutes(t))
        cover(state, resource, start, until, unsettled)

        low, high = parse_iso(state["low"]), parse_iso(state["watermark"])
        assert low is not None
        assert high is not None
        assert low <= high <= until
        for i, (t, visible, settle) in enumerate(records):
            if low <= minutes(t) < high and t + visible + settle <= now:
                # Settled and below the watermark: stored, and in its final version.
                assert stored.get(i) is True, (i, records[i], state)
            if since <= minutes(t) <= until and t + visible <= now:
                assert i in stored  # everything Twilio lists in the window is stored


def test_window_start_uses_overlap_and_reaches_back() -> None:
    state = {"low": minutes(100).isoformat(), "watermark": minutes(500).isoformat()}
    assert window_start(state, "calls", minutes(200)) == minutes(500 - 15)
    assert window_start(state, "summaries", minutes(200)) == minutes(500 - 60)
    assert window_start(state, "calls", minutes(490)) == minutes(490)
    assert window_start(state, "calls", minutes(50)) == minutes(50)  # before low: all
    assert window_start({}, "calls", minutes(7)) == minutes(7)
    assert SETTLE_LAG["summaries"] == timedelta(hours=4, minutes=30)

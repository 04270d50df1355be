"""Probes on a fixed schedule that does not drift and survives failures.

Run ``k`` starts at ``start + k * interval`` on a monotonic clock, whatever the previous
runs took: a slow run delays nothing but itself, and when a run overruns one or more
slots, the missed slots are skipped (never run in a burst to catch up). A failed probe is
a result like any other (it is stored and reported); an unexpected error of one run is
reported through ``on_error`` and the schedule goes on.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from voiceinsights._exceptions import ConfigError

__all__ = ["ScheduleResult", "parse_interval", "run_every", "slot_times"]

T = TypeVar("T")

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d)?\s*$")


def parse_interval(text: str) -> float:
    """Seconds in an interval like ``30s``, ``5m``, ``1h``, ``1.5h``, ``250ms`` or ``90``
    (seconds).

    Raises
    ------
    ConfigError
        For anything else, or a zero interval.
    """
    match = _INTERVAL.match(text)
    if not match:
        raise ConfigError(
            f"interval {text!r} is not a number with an optional unit (ms, s, m, h, d), "
            "for example 30s, 5m or 1h"
        )
    seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    if seconds <= 0:
        raise ConfigError(f"interval {text!r} must be longer than zero")
    return seconds


def slot_times(start: float, interval_s: float, now: float) -> tuple[int, float]:
    """The next slot at or after ``now``: ``(index, time)``."""
    k = max(math.ceil((now - start) / interval_s - 1e-9), 0)
    return k, start + k * interval_s


@dataclass
class ScheduleResult:
    """What a schedule did: results in order, the slot index and start time of each,
    the slots skipped because a run overran, and errors raised by runs."""

    results: list[Any] = field(default_factory=list)
    slots: list[int] = field(default_factory=list)
    started_at: list[float] = field(default_factory=list)
    skipped: int = 0
    errors: list[BaseException] = field(default_factory=list)


async def run_every(
    interval_s: float,
    job: Callable[[], Awaitable[T]],
    *,
    count: int | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], Awaitable[Any]] | None = None,
    on_result: Callable[[T], Any] | None = None,
    on_error: Callable[[BaseException], Any] | None = None,
    stop: asyncio.Event | None = None,
) -> ScheduleResult:
    """Run ``job`` every ``interval_s`` seconds without drift.

    Parameters
    ----------
    interval_s : float
        Period in seconds.
    job : callable returning an awaitable
        One run (for example ``lambda: run_async(url, check=False, db=...)``).
    count : int, optional
        Stop after this many runs (default: run until ``stop`` is set or cancelled).
    clock, sleep : callables, optional
        Monotonic clock (s) and sleep function; default the event loop's. Tests inject
        their own.
    on_result, on_error : callables, optional
        Called with each result, or with the exception of a run that raised.
    stop : asyncio.Event, optional
        Set it to end the schedule after the current run.

    Returns
    -------
    ScheduleResult
    """
    if not interval_s > 0:
        raise ConfigError("interval_s must be a positive number of seconds")
    loop = asyncio.get_running_loop()
    now = clock or loop.time
    wait = sleep or asyncio.sleep
    out = ScheduleResult()
    start = now()
    k = 0
    while count is None or len(out.results) + len(out.errors) < count:
        if stop is not None and stop.is_set():
            break
        due = start + k * interval_s
        delay = due - now()
        if delay > 0:
            await wait(delay)
        out.slots.append(k)
        out.started_at.append(now())
        try:
            result = await job()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            out.errors.append(exc)
            if on_error is not None:
                on_error(exc)
        else:
            out.results.append(result)
            if on_result is not None:
                on_result(result)
        next_k, _ = slot_times(start, interval_s, now())
        next_k = max(next_k, k + 1)
        out.skipped += next_k - k - 1
        k = next_k
    return out

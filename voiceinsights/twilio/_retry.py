"""When and how long to wait before retrying a request."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["RETRY_STATUSES", "RetryPolicy", "parse_retry_after"]

#: HTTP statuses worth another try: rate limiting and server-side failures.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header, or None.

    The header is either a number of seconds or an HTTP date (RFC 9110 section 10.2.3).
    A date in the past means "now" (0 s); an unreadable value is ignored (None).
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        current = now or datetime.now(UTC)
        return max(0.0, (when - current).total_seconds())
    if seconds != seconds or seconds < 0:  # NaN or negative
        return None
    return seconds


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter for 429, 5xx and transport errors.

    Attempt ``n`` (0-based) waits ``min(backoff_max_s, backoff_base_s * 2**n)`` scaled by a
    random factor in ``[1 - jitter, 1]`` ("equal"-style jitter when ``jitter=0.5``, full
    jitter at 1). A ``Retry-After`` header, when present, is honoured as a lower bound,
    capped at ``retry_after_max_s``.

    Parameters
    ----------
    max_retries : int
        Retries after the first attempt (so ``max_retries + 1`` attempts in all).
    backoff_base_s, backoff_max_s : float
        First delay and the cap, in seconds.
    jitter : float
        0 (no jitter) .. 1 (full jitter).
    retry_after_max_s : float
        Longest ``Retry-After`` honoured, in seconds; longer ones give up at once.
    """

    max_retries: int = 5
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    jitter: float = 0.5
    retry_after_max_s: float = 300.0
    statuses: frozenset[int] = RETRY_STATUSES
    seed: int | None = None
    _rng: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be within 0..1")
        object.__setattr__(self, "_rng", random.Random(self.seed))

    def should_retry(self, attempt: int, status: int | None) -> bool:
        """Whether attempt ``attempt`` (0-based) that ended with ``status`` is retried.

        ``status=None`` stands for a transport error (timeout, refused connection).
        """
        if attempt >= self.max_retries:
            return False
        return status is None or status in self.statuses

    def backoff_s(self, attempt: int) -> float:
        """The jittered exponential delay after attempt ``attempt``, in seconds."""
        raw = min(self.backoff_max_s, self.backoff_base_s * (2.0**attempt))
        return raw * (1.0 - self.jitter * self._rng.random())

    def delay_s(self, attempt: int, retry_after_s: float | None = None) -> float | None:
        """Seconds to wait before the next attempt; None when Retry-After is too long."""
        delay = self.backoff_s(attempt)
        if retry_after_s is not None:
            if retry_after_s > self.retry_after_max_s:
                return None
            delay = max(delay, retry_after_s)
        return delay

"""Timestamps from every format Twilio uses, as timezone-aware UTC datetimes.

Twilio writes times three ways: RFC 2822 in status callbacks and the Calls REST API
(``Tue, 10 Aug 2021 17:47:58 +0000``), ISO 8601 in Voice Insights and Event Streams
(``2021-08-10T17:47:58.123Z``) and milliseconds since the epoch in the Voice SDK
(``1628617678123``). :func:`parse_timestamp` takes any of them (and ``datetime`` objects)
and returns a timezone-aware UTC ``datetime``; :func:`parse_timestamps` does the same to a
whole column at once.

Epoch numbers carry no unit, so the unit is told from the magnitude (see
:data:`EPOCH_MS_MIN`): ``|x| < 1e11`` is seconds (up to the year 5138), ``1e11 <= |x| <
1e14`` is milliseconds (from March 1973 on), ``1e14 <= |x| < 1e17`` microseconds and larger
values nanoseconds. A millisecond timestamp before March 1973 would be read as seconds;
Twilio has none.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Final

import numpy as np
import pandas as pd

from voiceinsights._exceptions import ValidationError

__all__ = [
    "EPOCH_MS_MIN",
    "EPOCH_NS_MIN",
    "EPOCH_US_MIN",
    "epoch_ms",
    "format_rfc2822",
    "parse_epoch_ms",
    "parse_timestamp",
    "parse_timestamps",
]

#: Smallest magnitude read as epoch milliseconds (1e11 s would be the year 5138).
EPOCH_MS_MIN: Final = 1e11
#: Smallest magnitude read as epoch microseconds.
EPOCH_US_MIN: Final = 1e14
#: Smallest magnitude read as epoch nanoseconds.
EPOCH_NS_MIN: Final = 1e17

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NUMERIC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_RFC2822_HINT = re.compile(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s")
_RFC2822_FORMAT = "%a, %d %b %Y %H:%M:%S %z"
# Twilio's exact RFC 2822 layout; years below 1000 are left to email.utils (which reads
# two-digit years as 19xx/20xx).
_RFC2822_STRICT = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([1-9]\d{3}) "
    r"(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)\Z"
)
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    )
}
_DTYPE = pd.DatetimeTZDtype(unit="us", tz="UTC")


def _epoch_divisor(value: float) -> float:
    magnitude = abs(value)
    if magnitude < EPOCH_MS_MIN:
        return 1.0
    if magnitude < EPOCH_US_MIN:
        return 1e3
    if magnitude < EPOCH_NS_MIN:
        return 1e6
    return 1e9


def _from_epoch(value: float, *, field: str | None) -> datetime:
    if not math.isfinite(value):
        raise ValidationError(f"timestamp {value!r} is not a finite number", field=field)
    divisor = _epoch_divisor(value)
    try:
        if divisor == 1e3 and float(value).is_integer():
            # Exact integer arithmetic: no float rounding of the milliseconds.
            return _EPOCH + timedelta(milliseconds=int(value))
        return _EPOCH + timedelta(seconds=value / divisor)
    except OverflowError:
        raise ValidationError(f"timestamp {value!r} is out of range", field=field) from None


def parse_timestamp(value: Any, *, field: str | None = None) -> datetime | None:
    """Parse one timestamp into a timezone-aware UTC ``datetime``.

    Parameters
    ----------
    value : str, int, float, datetime, pandas.Timestamp or None
        RFC 2822 (``Tue, 10 Aug 2021 17:47:58 +0000``), ISO 8601 (``Z``, an offset, or
        naive, which is taken as UTC), epoch seconds / milliseconds / microseconds /
        nanoseconds as a number or numeric string (unit from the magnitude, see the module
        docstring), or a ``datetime`` (naive is taken as UTC).
    field : str, optional
        Wire name of the field, used in the error message.

    Returns
    -------
    datetime or None
        Timezone-aware, in UTC. ``None`` for ``None``, an empty string, NaN or ``NaT``.

    Raises
    ------
    voiceinsights.ValidationError
        When the value is none of the above (``field`` names the field).

    Examples
    --------
    >>> parse_timestamp("Tue, 10 Aug 2021 17:47:58 +0000")
    datetime.datetime(2021, 8, 10, 17, 47, 58, tzinfo=datetime.timezone.utc)
    >>> parse_timestamp(1628617678123).isoformat()
    '2021-08-10T17:47:58.123000+00:00'
    """
    if type(value) is str:  # the common case first
        return _parse_string(value, field=field)
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, bool):
        raise ValidationError(f"timestamp must not be a boolean, got {value!r}", field=field)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        if math.isnan(number):
            return None
        if isinstance(value, int | np.integer):
            ivalue = int(value)
            if EPOCH_MS_MIN <= abs(ivalue) < EPOCH_US_MIN:
                try:
                    return _EPOCH + timedelta(milliseconds=ivalue)
                except OverflowError:
                    pass
        return _from_epoch(number, field=field)
    if isinstance(value, str):
        return _parse_string(value, field=field)
    raise ValidationError(
        f"timestamp must be a string, number or datetime, got {type(value).__name__}",
        field=field,
    )


def parse_epoch_ms(value: Any, *, field: str | None = None) -> datetime | None:
    """Like :func:`parse_timestamp`, but a number is always epoch milliseconds.

    For fields documented as milliseconds (the Voice SDK's ``timestamp``, a PreflightTest's
    ``testTiming``), whatever their magnitude. Strings that are not numbers and datetimes
    are parsed as :func:`parse_timestamp` does.
    """
    if isinstance(value, str) and _NUMERIC.match(value.strip()):
        text = value.strip()
        value = int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return parse_timestamp(value, field=field)
    if isinstance(value, int | np.integer):
        try:
            return _EPOCH + timedelta(milliseconds=int(value))
        except OverflowError:
            raise ValidationError(f"timestamp {value!r} is out of range", field=field) from None
    number = float(value)
    if math.isnan(number):
        return None
    if not math.isfinite(number):
        raise ValidationError(f"timestamp {value!r} is not a finite number", field=field)
    try:
        return _EPOCH + timedelta(milliseconds=number)
    except OverflowError:
        raise ValidationError(f"timestamp {value!r} is out of range", field=field) from None


def _parse_rfc2822_fast(text: str) -> datetime | None:
    """The strict form Twilio writes (``Tue, 10 Aug 2021 17:47:58 +0000``) without
    ``email.utils``; None for anything else (the general parser then decides)."""
    m = _RFC2822_STRICT.match(text)
    if m is None:
        return None
    day, mon, year, hh, mm, ss, sign, oh, om = m.groups()
    try:
        parsed = datetime(int(year), _MONTHS[mon], int(day), int(hh), int(mm), int(ss), tzinfo=UTC)
        if oh == "00" and om == "00":
            return parsed
        offset = timedelta(hours=int(oh), minutes=int(om))
        if offset >= timedelta(hours=24):
            return None
        return parsed - offset if sign == "+" else parsed + offset
    except (ValueError, OverflowError):
        return None  # the general parser gives the same answer or the usual error


def _parse_string(value: str, *, field: str | None) -> datetime | None:
    text = value.strip()
    if not text:
        return None
    fast = _parse_rfc2822_fast(text)  # Twilio's own layout; None for anything else
    if fast is not None:
        return fast
    if _NUMERIC.match(text):
        if re.fullmatch(r"[+-]?\d+", text):
            return parse_timestamp(int(text), field=field)
        return _from_epoch(float(text), field=field)
    if _RFC2822_HINT.match(text):
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            parsed = None
        if parsed is not None:
            return parse_timestamp(parsed)
    iso = text
    if iso.endswith(("Z", "z")):
        iso = iso[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        parsed = None
    if parsed is None:
        try:
            if not text[0].isdigit():  # pandas would read "now" or "today" as a time
                raise ValueError(text)
            ts = pd.Timestamp(text)
        except (ValueError, TypeError, OverflowError):
            short = text if len(text) <= 60 else text[:57] + "..."
            raise ValidationError(
                f"not a timestamp: {short!r} (expected RFC 2822, ISO 8601 or epoch milliseconds)",
                field=field,
            ) from None
        return parse_timestamp(ts)
    return parse_timestamp(parsed)


def parse_timestamps(values: Iterable[Any] | pd.Series, *, field: str | None = None) -> pd.Series:
    """Parse a column of timestamps at once (vectorised where the column allows it).

    Parameters
    ----------
    values : iterable or pandas.Series
        Any mix of the inputs :func:`parse_timestamp` accepts.
    field : str, optional
        Wire name of the field, used in the error message.

    Returns
    -------
    pandas.Series
        ``datetime64[us, UTC]``, ``NaT`` where the input was missing; keeps the index of an
        input Series.

    Raises
    ------
    voiceinsights.ValidationError
        When any value is not a timestamp; the message names the first bad value.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    dtype = _DTYPE
    if len(series) == 0:
        return pd.Series([], index=series.index, dtype=dtype)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        out = pd.to_datetime(series)
        if out.dt.tz is None:
            out = out.dt.tz_localize("UTC")
        return out.dt.tz_convert("UTC").astype(dtype)
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return _numeric_column(series, dtype)
    non_null = series.dropna()
    if len(non_null) and all(isinstance(v, str) for v in non_null):
        strings = series.astype("string")
        for fmt in ("ISO8601", _RFC2822_FORMAT):
            try:
                parsed = pd.to_datetime(strings, format=fmt, utc=True)
            except (ValueError, TypeError):
                continue
            return parsed.astype(dtype)
    parsed_list = [parse_timestamp(v, field=field) for v in series]
    return pd.Series(
        [pd.NaT if v is None else pd.Timestamp(v) for v in parsed_list],
        index=series.index,
        dtype=dtype,
    )


def _numeric_column(series: pd.Series, dtype: pd.DatetimeTZDtype) -> pd.Series:
    numbers = series.astype("float64")
    magnitude = numbers.abs()
    divisor = np.select(
        [magnitude < EPOCH_MS_MIN, magnitude < EPOCH_US_MIN, magnitude < EPOCH_NS_MIN],
        [1.0, 1e3, 1e6],
        default=1e9,
    )
    if pd.api.types.is_integer_dtype(series.dtype):
        # Integer microseconds exactly, so milliseconds are never rounded.
        ints = series.astype("int64")
        micros = np.where(
            divisor == 1.0,
            ints * 1_000_000,
            np.where(divisor == 1e3, ints * 1000, np.where(divisor == 1e6, ints, ints // 1000)),
        )
        return pd.Series(pd.to_datetime(micros, unit="us", utc=True), index=series.index).astype(
            dtype
        )
    micros_f = np.round(numbers.to_numpy() / divisor * 1e6)
    return pd.Series(pd.to_datetime(micros_f, unit="us", utc=True), index=series.index).astype(
        dtype
    )


def epoch_ms(value: datetime) -> int:
    """Milliseconds since the epoch of an aware (or naive = UTC) ``datetime``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def format_rfc2822(value: datetime) -> str:
    """Format as Twilio does in callbacks and the REST API: ``Tue, 10 Aug 2021 17:47:58 +0000``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    utc = value.astimezone(UTC)
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return (
        f"{days[utc.weekday()]}, {utc.day:02d} {months[utc.month - 1]} {utc.year:04d} "
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d} +0000"
    )

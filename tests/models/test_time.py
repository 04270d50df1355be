"""Timestamps: every format Twilio writes, checked against independent references."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from voiceinsights import ValidationError
from voiceinsights._time import (
    epoch_ms,
    format_rfc2822,
    parse_epoch_ms,
    parse_timestamp,
    parse_timestamps,
)

T = datetime(2021, 8, 10, 17, 47, 58, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "Tue, 10 Aug 2021 17:47:58 +0000",  # Twilio's status callbacks and REST API
        "10 Aug 2021 17:47:58 +0000",
        "Tue, 10 Aug 2021 19:47:58 +0200",
        "2021-08-10T17:47:58Z",
        "2021-08-10T17:47:58.000Z",
        "2021-08-10T17:47:58+00:00",
        "2021-08-10T12:47:58-05:00",
        "2021-08-10 17:47:58",  # naive ISO is UTC
        1628617678,  # epoch seconds
        1628617678000,  # epoch milliseconds
        1628617678.0,
        "1628617678000",
        " 1628617678000 ",
        1628617678000000,  # microseconds
        T,
        T.replace(tzinfo=None),
        T.astimezone(timezone(timedelta(hours=-7))),
        pd.Timestamp(T),
        np.int64(1628617678000),
    ],
)
def test_formats(value: object) -> None:
    got = parse_timestamp(value)
    assert got == T
    assert got is not None
    assert got.utcoffset() == timedelta(0)


def test_epoch_reference() -> None:
    # Independent: the epoch offset of the example from the standard library.
    assert T.timestamp() == 1628617678
    got = parse_timestamp(1628617678123)
    assert got == T + timedelta(milliseconds=123)
    assert parse_timestamp("1628617678.5") == T + timedelta(milliseconds=500)


def test_seconds_ms_boundary() -> None:
    # Below 1e11 is seconds (up to the year 5138), from 1e11 on milliseconds (1973 on).
    assert parse_timestamp(99_999_999_999).year == 5138  # type: ignore[union-attr]
    assert parse_timestamp(100_000_000_000) == datetime(1973, 3, 3, 9, 46, 40, tzinfo=UTC)


@pytest.mark.parametrize("value", [None, "", "   ", float("nan"), pd.NaT])
def test_missing(value: object) -> None:
    assert parse_timestamp(value) is None


@pytest.mark.parametrize(
    "value", ["garbage", "now", "today", "Tue, 99 Foo 2021", True, [1, 2], {"a": 1}, float("inf")]
)
def test_garbage_names_field(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        parse_timestamp(value, field="Timestamp")
    assert info.value.field == "Timestamp"


def test_format_rfc2822_matches_stdlib() -> None:
    assert format_rfc2822(T) == "Tue, 10 Aug 2021 17:47:58 +0000"
    assert format_rfc2822(T) == email.utils.format_datetime(T).replace("-0000", "+0000")


aware = st.datetimes(
    min_value=datetime(1973, 3, 4), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))


@given(aware)
def test_round_trips(dt: datetime) -> None:
    ms = epoch_ms(dt)
    assert parse_timestamp(ms) == dt
    assert parse_timestamp(str(ms)) == dt
    assert parse_timestamp(dt.isoformat()) == dt
    assert parse_timestamp(dt.isoformat().replace("+00:00", "Z")) == dt
    assert parse_timestamp(dt.replace(tzinfo=None)) == dt
    whole = dt.replace(microsecond=0)
    assert parse_timestamp(format_rfc2822(dt)) == whole
    assert parse_timestamp(email.utils.format_datetime(whole)) == whole


@given(st.lists(aware, min_size=1, max_size=20), st.randoms())
def test_vectorised_equals_scalar(dts: list[datetime], rnd: object) -> None:
    forms = [
        lambda d: epoch_ms(d),
        lambda d: d.isoformat(),
        lambda d: format_rfc2822(d.replace(microsecond=0)),
        lambda d: None,
    ]
    values = [forms[rnd.randrange(len(forms))](d) for d in dts]  # type: ignore[attr-defined]
    got = parse_timestamps(values)
    want = [parse_timestamp(v) for v in values]
    assert str(got.dtype) == "datetime64[us, UTC]"
    for g, w in zip(got, want, strict=True):
        assert (pd.isna(g) and w is None) or g == pd.Timestamp(w)


def test_vectorised_columns() -> None:
    ms = pd.Series([1628617678123, 1628617679123], index=[5, 6])
    got = parse_timestamps(ms)
    assert list(got.index) == [5, 6]
    assert got.iloc[0] == pd.Timestamp(T + timedelta(milliseconds=123))
    rfc = parse_timestamps(["Tue, 10 Aug 2021 17:47:58 +0000", None])
    assert rfc.iloc[0] == pd.Timestamp(T)
    assert pd.isna(rfc.iloc[1])
    iso = parse_timestamps(["2021-08-10T17:47:58Z", "2021-08-10T18:47:58+01:00"])
    assert (iso == pd.Timestamp(T)).all()
    assert parse_timestamps([]).empty
    with pytest.raises(ValidationError) as info:
        parse_timestamps(["2021-08-10T17:47:58Z", "nope"], field="time")
    assert info.value.field == "time"


def test_epoch_ms_fields() -> None:
    # Fields documented as milliseconds are read as such whatever the magnitude.
    assert parse_epoch_ms(10_000) == datetime(1970, 1, 1, 0, 0, 10, tzinfo=UTC)
    assert parse_epoch_ms("10000") == datetime(1970, 1, 1, 0, 0, 10, tzinfo=UTC)
    assert parse_epoch_ms(1628617678123.0) == T + timedelta(milliseconds=123)
    assert parse_epoch_ms("2021-08-10T17:47:58Z") == T
    assert parse_epoch_ms(None) is None
    assert parse_epoch_ms(float("nan")) is None
    for bad in (float("inf"), True, "soon", 10**30):
        with pytest.raises(ValidationError):
            parse_epoch_ms(bad, field="timestamp")


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@given(
    st.datetimes(min_value=datetime(1000, 1, 2), max_value=datetime(9998, 12, 30)),
    st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59),
    st.booleans(),
    st.booleans(),
)
def test_rfc2822_matches_email_utils(
    naive: datetime, offset_min: int, weekday: bool, negative_zero: bool
) -> None:
    """The fast path for Twilio's layout agrees with the standard library's parser."""
    sign = "-" if offset_min < 0 or (offset_min == 0 and negative_zero) else "+"
    text = (
        (f"{_DAYS[naive.weekday()]}, " if weekday else "")
        + f"{naive.day:02d} {_MONS[naive.month - 1]} {naive.year} "
        + f"{naive:%H:%M:%S} {sign}{abs(offset_min) // 60:02d}{abs(offset_min) % 60:02d}"
    )
    want = email.utils.parsedate_to_datetime(text)
    want = want.replace(tzinfo=UTC) if want.tzinfo is None else want.astimezone(UTC)
    got = parse_timestamp(text)
    assert got == want
    assert got is not None
    assert got.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text",
    [
        "Tue, 10 Aug 0021 17:47:58 +0000",  # email.utils reads years below 100 as 19xx/20xx
        "Tue, 10 aug 2021 17:47:58 +0000",
        "Tue, 10 Aug 2021 7:47:58 +0000",
        "Tue, 10 Aug 2021 17:47:58 GMT",
        "Tue, 10 Aug 2021 17:47:58 +0099",
    ],
)
def test_rfc2822_variants_follow_email_utils(text: str) -> None:
    want = email.utils.parsedate_to_datetime(text)
    want = want.replace(tzinfo=UTC) if want.tzinfo is None else want.astimezone(UTC)
    assert parse_timestamp(text) == want

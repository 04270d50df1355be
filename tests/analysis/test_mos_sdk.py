"""mos.twilio_sdk against an independent transcription of the SDK formula."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voiceinsights.analysis import mos


def sdk_reference(rtt: object, jitter: object, loss: object) -> float | None:
    """The Voice SDK formula, transcribed line by line from the reference text.

    Returns None where the SDK returns null.
    """
    for v in (rtt, jitter, loss):
        if not isinstance(v, int | float) or isinstance(v, bool):
            return None
        if math.isnan(v) or math.isinf(v) or v < 0:
            return None
    el = rtt + 2 * jitter + 10  # type: ignore[operator]
    if el < 160:
        r = 94.768 - el / 40
    elif el < 1000:
        r = 94.768 - (el - 120) / 10
    else:
        r = 0.0
    r = max(r - 2.5 * loss, 6.52) if loss <= r / 2.5 else 0.0  # type: ignore[operator]
    return 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r)


def check(rtt: object, jitter: object, loss: object) -> None:
    got = mos.twilio_sdk(rtt, jitter, loss)
    want = sdk_reference(rtt, jitter, loss)
    if want is None:
        assert isinstance(got, float)
        assert math.isnan(got), (rtt, jitter, loss, got)
    else:
        assert isinstance(got, float)
        assert got == pytest.approx(want, abs=1e-9), (rtt, jitter, loss)


@pytest.mark.parametrize(
    ("rtt", "jitter", "loss", "expected"),
    [
        (100, 10, 0, 4.374),
        (100, 10, 3, 4.166),
        (400, 30, 0, 3.088),
        (1000, 0, 0, 1.0),
    ],
)
def test_reference_spot_values(rtt: float, jitter: float, loss: float, expected: float) -> None:
    assert round(mos.twilio_sdk(rtt, jitter, loss), 3) == expected
    check(rtt, jitter, loss)


def test_best_case_is_4_4333() -> None:
    assert mos.twilio_sdk(0, 0, 0) == pytest.approx(4.4333, abs=5e-5)


@pytest.mark.parametrize(
    ("rtt", "jitter", "loss"),
    [
        (150, 0, 0),  # EL exactly 160: second branch
        (149.999999, 0, 0),  # just below 160
        (130, 10, 0),  # EL = 160 through jitter
        (990, 0, 0),  # EL exactly 1000: R = 0, then loss 0 <= 0 gives 6.52
        (989.9999, 0, 0),
        (990, 0, 0.0001),  # EL 1000 with any loss: R = 0
        (2000, 0, 0),
        (0, 0, 0),
        (0.0, 0.0, 0.0),
    ],
)
def test_latency_edges(rtt: float, jitter: float, loss: float) -> None:
    check(rtt, jitter, loss)


def test_el_branches_are_distinct() -> None:
    # Continuity is not given: at EL = 160 the formula jumps from 90.768 to 90.768 (same),
    # while at EL = 1000 it jumps from 6.768 down to 0 then up to the 6.52 floor.
    below = mos.twilio_sdk(989.999, 0, 0)
    at = mos.twilio_sdk(990, 0, 0)
    assert below > at
    r_at = 6.52
    assert at == pytest.approx(1 + 0.035 * r_at + 7e-6 * r_at * (r_at - 60) * (100 - r_at))


def test_loss_exactly_r_over_2_5() -> None:
    # rtt=0, jitter=0: EL = 10, R = 94.768 - 0.25 = 94.518; R / 2.5 = 37.8072
    r = 94.768 - 10 / 40
    edge = r / 2.5
    check(0, 0, edge)
    at = mos.twilio_sdk(0, 0, edge)
    # At the edge the loss branch still applies: R - 2.5 * loss is ~0, floored at 6.52.
    assert at == pytest.approx(1 + 0.035 * 6.52 + 7e-6 * 6.52 * (6.52 - 60) * (100 - 6.52))
    above = mos.twilio_sdk(0, 0, np.nextafter(edge, np.inf))
    assert above == 1.0
    check(0, 0, np.nextafter(edge, np.inf))


@pytest.mark.parametrize(
    "bad",
    [-1, -1e-12, float("nan"), float("inf"), float("-inf"), None],
)
def test_null_inputs(bad: float | None) -> None:
    for args in ((bad, 10, 1), (100, bad, 1), (100, 10, bad)):
        got = mos.twilio_sdk(*args)
        assert math.isnan(got), args


def test_kinds_are_preserved() -> None:
    rtt = pd.Series([100.0, 400.0, -5.0], index=["a", "b", "c"])
    out = mos.twilio_sdk(rtt, 10, 0)
    assert isinstance(out, pd.Series)
    assert list(out.index) == ["a", "b", "c"]
    assert out["a"] == pytest.approx(sdk_reference(100.0, 10, 0), abs=1e-12)
    assert math.isnan(out["c"])
    arr = mos.twilio_sdk(np.array([100.0, 400.0]), np.array([10.0, 30.0]), 0)
    assert isinstance(arr, np.ndarray)
    assert arr.shape == (2,)
    assert arr[1] == pytest.approx(sdk_reference(400.0, 30.0, 0), abs=1e-12)
    lst = mos.twilio_sdk([100, None], [10, 10], [0, 0])
    assert isinstance(lst, np.ndarray)
    assert math.isnan(lst[1])
    # Nullable pandas dtypes with pd.NA are nulls too.
    nullable = pd.Series([100, None], dtype="Float64")
    assert math.isnan(mos.twilio_sdk(nullable, 10, 0).iloc[1])


finite = st.floats(min_value=-1e6, max_value=1e7, allow_nan=False, allow_infinity=False)
anyfloat = st.one_of(finite, st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 3000))


@settings(max_examples=600, deadline=None)
@given(anyfloat, anyfloat, anyfloat)
def test_matches_reference_everywhere(rtt: float, jitter: float, loss: float) -> None:
    check(rtt, jitter, loss)


@settings(max_examples=300, deadline=None)
@given(
    st.floats(0, 1200),
    st.floats(0, 500),
    st.floats(0, 100),
)
def test_matches_reference_in_realistic_range(rtt: float, jitter: float, loss: float) -> None:
    check(rtt, jitter, loss)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(anyfloat, anyfloat, anyfloat), min_size=1, max_size=50))
def test_vectorised_equals_scalar(rows: list[tuple[float, float, float]]) -> None:
    rtt, jit, loss = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    got = mos.twilio_sdk(rtt, jit, loss)
    for i, (a, b, c) in enumerate(rows):
        want = sdk_reference(a, b, c)
        if want is None:
            assert math.isnan(got[i])
        else:
            assert got[i] == pytest.approx(want, abs=1e-9)

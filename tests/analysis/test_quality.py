"""quality.call_quality: contiguous bands that keep the SDK's boundaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from voiceinsights.analysis import quality


def sdk_label(mos: float) -> str:
    """The SDK's own (gappy) rule, transcribed from the reference text."""
    if mos > 4.2:
        return "excellent"
    if 4.1 <= mos <= 4.2:
        return "great"
    if 3.7 <= mos <= 4.0:
        return "good"
    if 3.1 <= mos <= 3.6:
        return "fair"
    return "degraded"


@pytest.mark.parametrize(
    ("mos", "label"),
    [
        (4.5, "excellent"),
        (4.2000001, "excellent"),
        (4.2, "great"),
        (4.1, "great"),
        (4.0999999, "good"),
        (4.05, "good"),  # the SDK says degraded: a gap we close
        (4.0, "good"),
        (3.7, "good"),
        (3.6999999, "fair"),
        (3.65, "fair"),  # SDK gap
        (3.1, "fair"),
        (3.0999999, "degraded"),
        (1.0, "degraded"),
        (float("-inf"), "degraded"),
    ],
)
def test_boundaries(mos: float, label: str) -> None:
    assert quality.call_quality(mos) == label


def test_missing_gives_none() -> None:
    assert quality.call_quality(float("nan")) is None
    assert quality.call_quality(None) is None
    out = quality.call_quality(np.array([4.3, np.nan]))
    assert list(out) == ["excellent", None]


def test_series_keeps_index() -> None:
    s = pd.Series([4.3, 3.2, np.nan], index=[10, 20, 30])
    out = quality.call_quality(s)
    assert list(out.index) == [10, 20, 30]
    assert out[10] == "excellent"
    assert out[20] == "fair"
    assert pd.isna(out[30])


@given(st.floats(min_value=0, max_value=5))
def test_agrees_with_sdk_wherever_sdk_is_not_degraded(mos: float) -> None:
    sdk = sdk_label(mos)
    ours = quality.call_quality(mos)
    if sdk != "degraded":
        assert ours == sdk
    # Ours is monotone: a higher MOS never gets a worse label.
    worse = quality.call_quality(mos - 0.01)
    assert quality.LABELS.index(worse) >= quality.LABELS.index(ours)

"""mos.emodel, r_factor, r_to_mos, mos_to_r against published G.107 / G.109 / G.113 values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from voiceinsights.analysis import mos


def test_default_r_is_93_2() -> None:
    # G.107: "with all parameters at their default values, R = 93.2" (93.2062 to 4 places)
    assert round(mos.r_factor(), 4) == 93.2062
    assert round(mos.emodel(), 2) == 4.41


def test_default_terms() -> None:
    # G.107 defaults: Ro = 94.77 (basic SNR), Is = 1.41, Id = 0.15 (Idle only at T = 0).
    t = mos.impairments()
    assert float(t["ro"]) == pytest.approx(94.77, abs=0.005)
    assert float(t["is"]) == pytest.approx(1.41, abs=0.005)
    assert float(t["idte"]) == pytest.approx(0.0, abs=1e-12)
    assert float(t["idle"]) == pytest.approx(0.15, abs=0.005)
    assert float(t["idd"]) == 0.0


@pytest.mark.parametrize(
    ("r", "expected"),
    # Annex B end points and the ITU-T G.109 Table 1 user-satisfaction boundaries.
    [
        (-5, 1.0),
        (0, 1.0),
        (50, 2.58),
        (60, 3.10),
        (70, 3.60),
        (80, 4.03),
        (90, 4.34),
        (100, 4.5),
        (120, 4.5),
    ],
)
def test_annex_b_points(r: float, expected: float) -> None:
    # G.109 prints two decimals (4.024 appears as 4.03): within 0.01 of the table.
    assert mos.r_to_mos(r) == pytest.approx(expected, abs=0.01)


def idd_reference(ta: float) -> float:
    """G.107 7.4 Idd, transcribed from the recommendation text."""
    if ta <= 100:
        return 0.0
    x = math.log2(ta / 100)
    return 25 * ((1 + x**6) ** (1 / 6) - 3 * (1 + (x / 3) ** 6) ** (1 / 6) + 2)


@pytest.mark.parametrize("ta", [0, 50, 100, 100.001, 150, 200, 300, 400, 800, 1600])
def test_idd_from_one_way_delay(ta: float) -> None:
    base = mos.r_factor()
    assert base - mos.r_factor(delay_ms=ta) == pytest.approx(idd_reference(ta), abs=1e-9)


def test_delay_only_lowers_r_beyond_100ms() -> None:
    r = mos.r_factor(delay_ms=np.arange(0, 1000, 10.0))
    assert np.all(r[:11] == r[0])
    assert np.all(np.diff(r[10:]) < 0)
    # Ta = 400 ms: Idd = 24.07 (X = 2); G.114's "unacceptable for most" region starts R < 70.
    assert mos.r_factor(delay_ms=400) == pytest.approx(93.2062 - 24.07, abs=0.01)


@pytest.mark.parametrize(
    ("codec", "ie", "bpl"),
    [("g711", 0, 4.3), ("g711-plc", 0, 25.1), ("g729a-vad", 11, 19.0), ("g723.1-vad", 15, 16.1)],
)
@pytest.mark.parametrize("ppl", [0.0, 1.0, 2.0, 5.0, 20.0])
@pytest.mark.parametrize("burst", [1.0, 2.0])
def test_ie_eff_from_g113_values(
    codec: str, ie: float, bpl: float, ppl: float, burst: float
) -> None:
    want = ie + (95 - ie) * ppl / (ppl / burst + bpl)
    got = float(mos.impairments(0, ppl, codec, burst_r=burst)["ie_eff"])
    assert got == pytest.approx(want, abs=1e-12)
    assert mos.r_factor(0, ppl, codec, burst_r=burst) == pytest.approx(93.2062 - want, abs=1e-4)


def test_g729a_vad_no_loss_is_r_82_2() -> None:
    # G.113 Appendix I: G.729A + VAD, Ie = 11 -> R = 93.2 - 11 = 82.2
    assert mos.r_factor(codec="g729a-vad") == pytest.approx(82.2062, abs=1e-4)


def test_burst_loss_is_worse_than_random() -> None:
    random = mos.emodel(0, 3, "g711-plc", burst_r=1)
    bursty = mos.emodel(0, 3, "g711-plc", burst_r=2.5)
    assert bursty < random


def test_plc_is_more_robust() -> None:
    assert mos.emodel(0, 2, "g711-plc") > mos.emodel(0, 2, "g711")


def test_opus_source_is_named() -> None:
    assert "no ITU-T" in mos.CODECS["opus"].source


def test_parameters_and_errors() -> None:
    # A worse send loudness rating lowers R.
    assert mos.r_factor(slr=15) < mos.r_factor()
    # Talker echo with a 100 ms echo path and default TELR 65 dB adds Idte.
    assert float(mos.impairments(t_ms=100)["idte"]) > 0
    with pytest.raises(ValueError, match="unknown codec"):
        mos.emodel(codec="nope")
    with pytest.raises(ValueError, match="unknown E-model parameters"):
        mos.emodel(foo=1)
    assert mos.emodel(codec="custom", ie=5, bpl=10) == pytest.approx(
        mos.r_to_mos(93.2062077 - 5), abs=1e-6
    )


def test_vectorised_kinds() -> None:
    s = pd.Series([0.0, 200.0, np.nan], index=list("xyz"))
    out = mos.emodel(s, 1.0, "g711-plc")
    assert list(out.index) == list("xyz")
    assert math.isnan(out["z"])
    arr = mos.r_factor(np.array([0.0, 200.0]), np.array([0.0, 5.0]))
    assert arr.shape == (2,)


@given(st.floats(min_value=mos.R_MOS_1, max_value=100))
def test_round_trip_r(r: float) -> None:
    assert mos.mos_to_r(mos.r_to_mos(r)) == pytest.approx(r, abs=1e-9)


@given(st.floats(min_value=1, max_value=4.5))
def test_round_trip_mos(m: float) -> None:
    assert mos.r_to_mos(mos.mos_to_r(m)) == pytest.approx(m, abs=1e-12)


def test_mos_to_r_domain() -> None:
    assert mos.mos_to_r(4.5) == pytest.approx(100, abs=1e-9)
    assert mos.mos_to_r(1.0) == pytest.approx(mos.R_MOS_1, abs=1e-9)
    assert pytest.approx(6.5153, abs=1e-4) == mos.R_MOS_1
    for bad in (0.5, 4.6, float("nan")):
        assert math.isnan(mos.mos_to_r(bad))
    # The G.109 boundary MOS values map back to their R.
    for r in (50, 60, 70, 80, 90):
        assert mos.mos_to_r(mos.r_to_mos(r)) == pytest.approx(r, abs=1e-9)

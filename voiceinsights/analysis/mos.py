"""Mean opinion scores: the Twilio Voice SDK's formula and the ITU-T G.107 E-model.

Two models live here and they answer different questions:

* :func:`twilio_sdk` is exactly the formula the Twilio Voice SDK runs every second to fill
  ``sample.mos``. Use it to reproduce, check or back-fill what Twilio users see.
* :func:`emodel` is the ITU-T G.107 (06/2015) narrowband E-model with its default
  parameters, codec impairments from ITU-T G.113 Appendix I and the G.107 delay
  impairments. Use it to plan ("what MOS would this delay and loss give with G.729?") and
  to score jitter-buffer simulations.

All functions accept scalars, numpy arrays and pandas Series (broadcast positionally) and
return the same kind: a float for scalars, an array for arrays, a Series with the index of
the first Series input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from voiceinsights._exceptions import AnalysisInputError
from voiceinsights.analysis._arrays import (
    ArrayLike,
    FloatArray,
    as_float_array,
    chunked,
    wrap_like,
)

__all__ = [
    "CODECS",
    "G107_DEFAULTS",
    "R_MOS_1",
    "Codec",
    "emodel",
    "impairments",
    "mos_to_r",
    "r_factor",
    "r_to_mos",
    "twilio_sdk",
]


def _sdk_kernel(rtt: FloatArray, jit: FloatArray, loss: FloatArray) -> FloatArray:
    valid = (
        np.isfinite(rtt)
        & np.isfinite(jit)
        & np.isfinite(loss)
        & (rtt >= 0)
        & (jit >= 0)
        & (loss >= 0)
    )
    with np.errstate(invalid="ignore", over="ignore"):
        el = rtt + jit * 2 + 10
        r: FloatArray = np.where(
            el < 160, 94.768 - el / 40, np.where(el < 1000, 94.768 - (el - 120) / 10, 0.0)
        )
        r = np.where(loss <= r / 2.5, np.maximum(r - loss * 2.5, 6.52), 0.0)
        mos = 1 + 0.035 * r + (0.000007 * r) * (r - 60) * (100 - r)
    out: FloatArray = np.where(valid, mos, np.nan)
    return out


def twilio_sdk(rtt_ms: ArrayLike, jitter_ms: ArrayLike, loss_pct: ArrayLike) -> Any:
    """MOS by the Twilio Voice SDK's formula.

    Parameters
    ----------
    rtt_ms : float, array-like or Series
        Round-trip time in milliseconds.
    jitter_ms : float, array-like or Series
        Interarrival jitter in milliseconds.
    loss_pct : float, array-like or Series
        Packet loss of the interval in percent (0..100; the SDK's ``packetsLostFraction``).

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        MOS (about 1.0 .. 4.4333, not clamped), NaN wherever the SDK returns null: when any
        of the three inputs is not a finite number >= 0 (NaN, None, inf, negative).

    Notes
    -----
    With effective latency ``EL = rtt + 2 jitter + 10`` (ms)::

        R = 94.768 - EL / 40            for EL < 160
        R = 94.768 - (EL - 120) / 10    for 160 <= EL < 1000
        R = 0                           for EL >= 1000
        R = max(R - 2.5 loss, 6.52)     if loss <= R / 2.5, else R = 0
        MOS = 1 + 0.035 R + 7e-6 R (R - 60) (100 - R)

    Examples
    --------
    >>> round(twilio_sdk(100, 10, 0), 3)
    4.374
    >>> twilio_sdk(-1, 10, 0)
    nan
    """
    rtt = as_float_array(rtt_ms)
    jit = as_float_array(jitter_ms)
    loss = as_float_array(loss_pct)
    mos = chunked(_sdk_kernel, rtt, jit, loss)
    return wrap_like(mos, rtt_ms, jitter_ms, loss_pct, name="mos")


# --------------------------------------------------------------------------- E-model


@dataclass(frozen=True)
class Codec:
    """Equipment impairment factor and packet-loss robustness of a narrowband codec.

    ``ie`` is the equipment impairment factor Ie and ``bpl`` the packet-loss robustness
    factor Bpl (random loss) on the narrowband (G.107) R scale; ``source`` says where the
    values come from.
    """

    name: str
    ie: float
    bpl: float
    source: str


_G113 = "ITU-T G.113 (11/2007) Appendix I, Tables I.1 and I.3"

#: Codec values by name. ``opus`` has no ITU-T narrowband value: see its ``source``.
CODECS: Final[dict[str, Codec]] = {
    c.name: c
    for c in (
        Codec("g711", 0.0, 4.3, _G113 + " (G.711 without packet-loss concealment)"),
        Codec("pcmu", 0.0, 4.3, _G113 + " (G.711 without packet-loss concealment)"),
        Codec("pcma", 0.0, 4.3, _G113 + " (G.711 without packet-loss concealment)"),
        Codec("g711-plc", 0.0, 25.1, _G113 + " (G.711 with G.711 Appendix I PLC)"),
        Codec("pcmu-plc", 0.0, 25.1, _G113 + " (G.711 with G.711 Appendix I PLC)"),
        Codec("g729a-vad", 11.0, 19.0, _G113 + " (G.729A with VAD)"),
        Codec("g723.1-vad", 15.0, 16.1, _G113 + " (G.723.1 6.3 kbit/s with VAD)"),
        Codec(
            "opus",
            0.0,
            25.1,
            "no ITU-T narrowband Ie/Bpl exists for Opus (G.113 lists none); voiceinsights "
            "uses G.711-with-PLC's G.113 Appendix I values (Ie 0, Bpl 25.1) as a proxy for a "
            "codec with built-in concealment at or above toll quality. Pass ie=/bpl= to use "
            "your own.",
        ),
    )
}

#: G.107 (06/2015) Table 3 default values, in dB, dBm0, dB(A), ms or plain numbers.
G107_DEFAULTS: Final[dict[str, float]] = {
    "slr": 8.0,  # send loudness rating, dB
    "rlr": 2.0,  # receive loudness rating, dB
    "stmr": 15.0,  # sidetone masking rating, dB
    "lstr": 18.0,  # listener sidetone rating, dB
    "ds": 3.0,  # D-value of telephone, send side
    "dr": 3.0,  # D-value of telephone, receive side
    "telr": 65.0,  # talker echo loudness rating, dB
    "wepl": 110.0,  # weighted echo path loss, dB
    "t_ms": 0.0,  # mean one-way delay of the echo path, ms
    "tr_ms": 0.0,  # round-trip delay in a 4-wire loop, ms
    "qdu": 1.0,  # number of quantization distortion units
    "nc": -70.0,  # circuit noise referred to the 0 dBr point, dBm0p
    "nfor": -64.0,  # noise floor at the receive side, dBmp
    "ps": 35.0,  # room noise at the send side, dB(A)
    "pr": 35.0,  # room noise at the receive side, dB(A)
    "a": 0.0,  # advantage factor
}


def _idd(ta: FloatArray) -> FloatArray:
    """G.107 7.4 Idd = 25 {(1 + X^6)^(1/6) - 3 (1 + (X/3)^6)^(1/6) + 2},
    X = log2(Ta / 100), for Ta > 100 ms, else 0 (NaN stays NaN).

    Ta is clamped to >= 100 ms first: there X = 0 and the bracket is exactly
    1 - 3 + 2 = 0, so no mask is needed.
    """
    x = np.log2(np.maximum(np.asarray(ta, dtype=np.float64), 100.0) / 100)
    x2 = x * x
    x6 = x2 * x2 * x2
    idd: FloatArray = 25 * ((1 + x6) ** (1 / 6) - 3 * (1 + x6 / 729) ** (1 / 6) + 2)
    return idd


def impairments(
    delay_ms: ArrayLike = 0.0,
    loss_pct: ArrayLike = 0.0,
    codec: str = "g711",
    *,
    burst_r: ArrayLike = 1.0,
    ie: float | None = None,
    bpl: float | None = None,
    **params: float,
) -> dict[str, Any]:
    """The G.107 E-model's terms: ``ro, is, idte, idle, idd, id, ie_eff, a, r``.

    Parameters are those of :func:`r_factor`. Values are numpy arrays (0-d for scalars).
    """
    unknown = set(params) - set(G107_DEFAULTS)
    if unknown:
        raise AnalysisInputError(
            f"unknown E-model parameters {sorted(unknown)}; known: {sorted(G107_DEFAULTS)}"
        )
    if codec not in CODECS and (ie is None or bpl is None):
        raise AnalysisInputError(
            f"unknown codec {codec!r}; known: {sorted(CODECS)} (or pass ie= and bpl=)"
        )
    p = {**G107_DEFAULTS, **params}
    slr, rlr, stmr, lstr = p["slr"], p["rlr"], p["stmr"], p["lstr"]
    ds, telr, wepl = p["ds"], p["telr"], p["wepl"]
    t, tr, qdu = p["t_ms"], p["tr_ms"], p["qdu"]
    nc, nfor, ps, pr = p["nc"], p["nfor"], p["ps"], p["pr"]
    ta = as_float_array(delay_ms)
    ppl = as_float_array(loss_pct)
    burst = as_float_array(burst_r)
    c = CODECS.get(codec)
    ie_v = float(ie) if ie is not None else c.ie  # type: ignore[union-attr]
    bpl_v = float(bpl) if bpl is not None else c.bpl  # type: ignore[union-attr]

    # Basic signal-to-noise ratio Ro (G.107 7.2).
    olr = slr + rlr
    nfo = nfor + rlr
    pre = pr + 10 * math.log10(1 + 10 ** ((10 - lstr) / 10))
    nor = rlr - 121 + pre + 0.008 * (pre - 35) ** 2
    nos = ps - slr - ds - 100 + 0.004 * (ps - olr - ds - 14) ** 2
    no = 10 * math.log10(10 ** (nc / 10) + 10 ** (nos / 10) + 10 ** (nor / 10) + 10 ** (nfo / 10))
    ro = 15 - 1.5 * (slr + no)

    # Simultaneous impairment Is = Iolr + Ist + Iq (G.107 7.3).
    xolr = olr + 0.2 * (64 + no - rlr)
    iolr = 20 * ((1 + (xolr / 8) ** 8) ** (1 / 8) - xolr / 8)
    stmro = -10 * math.log10(10 ** (-stmr / 10) + math.exp(-t / 4) * 10 ** (-telr / 10))
    ist = (
        12 * (1 + ((stmro - 13) / 6) ** 8) ** (1 / 8)
        - 28 * (1 + ((stmro + 1) / 19.4) ** 35) ** (1 / 35)
        - 13 * (1 + ((stmro - 3) / 33) ** 13) ** (1 / 13)
        + 29
    )
    q = 37 - 15 * math.log10(qdu)
    g = 1.07 + 0.258 * q + 0.0602 * q**2
    y = (ro - 100) / 15 + 46 / 8.4 - g / 9
    z = 46 / 30 - g / 40
    iq = 15 * math.log10(1 + 10**y + 10**z)
    is_ = iolr + ist + iq

    # Delay impairment Id = Idte + Idle + Idd (G.107 7.4).
    terv = telr - 40 * math.log10((1 + t / 10) / (1 + t / 150)) + 6 * math.exp(-0.3 * t**2)
    if stmr < 9:
        terv = terv + ist / 2
    roe = -1.5 * (no - rlr)
    re = 80 + 2.5 * (terv - 14)
    idte = ((roe - re) / 2 + math.sqrt((roe - re) ** 2 / 4 + 100) - 1) * (1 - math.exp(-t))
    if stmr > 20:  # G.107: Idte is replaced for very high sidetone masking
        idtes = math.sqrt(idte**2 + ist**2)
        idte = idtes
    rle = 10.5 * (wepl + 7) * (tr + 1) ** -0.25
    ror = -1.5 * (no - rlr)
    idle = (ror - rle) / 2 + math.sqrt((ror - rle) ** 2 / 4 + 169)
    with np.errstate(divide="ignore", invalid="ignore"):
        idd = _idd(ta)

        # Effective equipment impairment from packet loss (G.107 7.5).
        ie_eff = ie_v + (95 - ie_v) * ppl / (ppl / burst + bpl_v)
    id_ = idte + idle + idd
    r = ro - is_ - id_ - ie_eff + p["a"]
    return {
        "ro": ro,
        "is": is_,
        "idte": idte,
        "idle": idle,
        "idd": idd,
        "id": id_,
        "ie_eff": ie_eff,
        "a": p["a"],
        "r": r,
    }


def r_factor(
    delay_ms: ArrayLike = 0.0,
    loss_pct: ArrayLike = 0.0,
    codec: str = "g711",
    *,
    burst_r: ArrayLike = 1.0,
    ie: float | None = None,
    bpl: float | None = None,
    **params: float,
) -> Any:
    """Transmission rating R of the ITU-T G.107 narrowband E-model.

    ``R = Ro - Is - Id - Ie,eff + A`` with the full G.107 (06/2015) equations for Ro, Is
    and Id (Idte, Idle, Idd). All defaults give R = 93.2062.

    Parameters
    ----------
    delay_ms : float, array-like or Series
        Absolute one-way (mouth-to-ear) delay Ta in milliseconds. Only Idd depends on it.
        Derive it from an RTT as ``rtt_ms / 2`` plus jitter-buffer and codec delay.
    loss_pct : float, array-like or Series
        Packet-loss probability Ppl in percent (0..100).
    codec : str
        A key of :data:`CODECS` (``g711``/``pcmu``, ``g711-plc``, ``g729a-vad``,
        ``g723.1-vad``, ``opus``) giving Ie and Bpl.
    burst_r : float, array-like or Series
        Burst ratio BurstR: 1 for random loss, > 1 for bursty loss.
    ie, bpl : float, optional
        Override the codec's equipment impairment factor Ie and robustness factor Bpl.
    **params : float
        Any of :data:`G107_DEFAULTS` (``slr, rlr, stmr, lstr, ds, dr, telr, wepl, t_ms,
        tr_ms, qdu, nc, nfor, ps, pr, a``). G.107 planning often sets ``t_ms`` = Ta and
        ``tr_ms`` = 2 Ta; here they stay at their defaults (0) unless given.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        R (0..100 in practice; not clamped). NaN where delay or loss is NaN.

    Examples
    --------
    >>> round(r_factor(), 4)
    93.2062
    """
    r = _r_array(delay_ms, loss_pct, codec, burst_r, ie, bpl, params)
    return wrap_like(r, delay_ms, loss_pct, burst_r, name="r")


def _r_array(
    delay_ms: ArrayLike,
    loss_pct: ArrayLike,
    codec: str,
    burst_r: ArrayLike,
    ie: float | None,
    bpl: float | None,
    params: dict[str, float],
    *,
    to_mos: bool = False,
) -> FloatArray:
    """R (or its Annex B MOS) over arrays: the delay- and loss-independent terms once,
    the rest in chunks."""
    fixed = impairments(0.0, 0.0, codec, ie=ie, bpl=bpl, **params)
    base = float(fixed["ro"] - fixed["is"] - fixed["idte"] - fixed["idle"] + fixed["a"])
    c = CODECS.get(codec)
    ie_v = float(ie) if ie is not None else c.ie  # type: ignore[union-attr]
    bpl_v = float(bpl) if bpl is not None else c.bpl  # type: ignore[union-attr]

    def kernel(ta: FloatArray, ppl: FloatArray, burst: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            ie_eff = ie_v + (95 - ie_v) * ppl / (ppl / burst + bpl_v)
            r: FloatArray = base - _idd(ta) - ie_eff
        return _r_to_mos_array(r) if to_mos else r

    return chunked(
        kernel, as_float_array(delay_ms), as_float_array(loss_pct), as_float_array(burst_r)
    )


def emodel(
    delay_ms: ArrayLike = 0.0,
    loss_pct: ArrayLike = 0.0,
    codec: str = "g711",
    *,
    burst_r: ArrayLike = 1.0,
    ie: float | None = None,
    bpl: float | None = None,
    **params: float,
) -> Any:
    """MOS (conversational quality estimate, MOS-CQE) of the ITU-T G.107 E-model.

    :func:`r_factor` followed by :func:`r_to_mos`; same parameters. All defaults give
    R = 93.2 and MOS = 4.41.

    Examples
    --------
    >>> round(emodel(), 2)
    4.41
    >>> round(emodel(delay_ms=150, loss_pct=2, codec="g711-plc"), 2)
    4.23
    """
    out = _r_array(delay_ms, loss_pct, codec, burst_r, ie, bpl, params, to_mos=True)
    return wrap_like(out, delay_ms, loss_pct, burst_r, name="mos")


def _r_to_mos_array(r: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore"):
        mos = 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6
        mos = np.where(r < 0, 1.0, np.where(r > 100, 4.5, mos))
    return np.where(np.isnan(r), np.nan, mos)


def r_to_mos(r: ArrayLike) -> Any:
    """MOS from the transmission rating R (ITU-T G.107 Annex B).

    ``MOS = 1`` for R < 0, ``4.5`` for R > 100, else
    ``1 + 0.035 R + R (R - 60) (100 - R) 7e-6``.

    Examples
    --------
    >>> r_to_mos(100)
    4.5
    """
    return wrap_like(_r_to_mos_array(as_float_array(r)), r, name="mos")


#: The smallest positive R at which Annex B's MOS is 1 again, 80 - sqrt(5400) = 6.5153
#: (the cubic dips slightly below 1 between R = 0 and this point; the Voice SDK's floor of
#: 6.52 is this value rounded). :func:`mos_to_r` returns R on [R_MOS_1, 100].
R_MOS_1: Final = 80 - math.sqrt(5400)


def mos_to_r(mos: ArrayLike) -> Any:
    """Transmission rating R for a MOS, the inverse of :func:`r_to_mos` (G.107 Appendix I).

    G.107 Appendix I inverts the Annex B relation by solving its cubic in closed form.
    Here the cubic ``R^3 - 160 R^2 + 1000 R + (MOS - 1) / 7e-6 = 0`` is solved with
    Viète's trigonometric method: with ``R = x + 160/3`` it becomes ``x^3 + p x + q = 0``,
    ``p = 1000 - 160^2/3``, ``q = (MOS - 1)/7e-6 + 1000 * 160/3 - 2 (160/3)^3``, and its
    three real roots are ``2 sqrt(-p/3) cos(phi/3 - 2 pi k / 3)``,
    ``phi = arccos(3 q / (2 p) sqrt(-3 / p))``. The middle root (k = 1) is the one on the
    rising branch of Annex B, so the inverse is exact (to rounding) for 1 <= MOS <= 4.5
    and returns R in [R_MOS_1, 100] (about 6.52 .. 100). MOS outside [1, 4.5] or NaN
    gives NaN.

    Examples
    --------
    >>> round(mos_to_r(4.5), 9)
    100.0
    >>> round(mos_to_r(r_to_mos(80.0)), 9)
    80.0
    """
    m = as_float_array(mos)
    # Annex B evaluated at R_MOS_1 rounds to 1 - 1e-16: accept MOS within 1e-9 of 1.
    ok = (m >= 1 - 1e-9) & (m <= 4.5)
    mm = np.where(ok, np.maximum(m, 1.0), 2.0)
    shift = 160 / 3
    p = 1000 - 160**2 / 3
    q = (mm - 1) / 7e-6 + 1000 * shift - 2 * shift**3
    arg = np.clip(3 * q / (2 * p) * math.sqrt(-3 / p), -1.0, 1.0)
    phi = np.arccos(arg)
    r = 2 * math.sqrt(-p / 3) * np.cos(phi / 3 - 2 * math.pi / 3) + shift
    return wrap_like(np.where(ok, r, np.nan), mos, name="r")

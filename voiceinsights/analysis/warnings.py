"""Replay the Twilio Voice SDK's quality warnings over per-second samples.

The Voice SDK's stats monitor keeps the last 10 samples of a call and, after each new
sample, checks every rule below in this order; a rule whose window holds a null value is
skipped for that sample (nothing is filled in). A warning is *raised* when its raise
condition holds and it is not already active; it is *cleared* when its clear condition
holds, it is active and at least ``min_clear_s`` (5 s) passed since it was raised.

=========================== ======================= ==== ================ ==================
warning                     column                  win  raise            clear
=========================== ======================= ==== ================ ==================
high-rtt                    rtt_ms                  10   >= 3 above 400   0 above
high-jitter                 jitter_ms               10   >= 3 above 30    0 above
low-mos                     mos                     10   >= 3 below 3     0 below
high-packet-loss            packets_lost_pct        10   >= 3 above 1     0 above
high-packets-lost-fraction  packets_lost_pct        7    mean > 3         mean <= 1
low-bytes-received          bytes_received          3    3 below 1        <= 2 below
low-bytes-sent              bytes_sent              3    3 below 1        <= 2 below
=========================== ======================= ==== ================ ==================

At a call's start the window is whatever samples exist (the SDK slices the last N of a
shorter buffer), except the mean rule, which waits for a full window of 7. Because the SDK
sets ``mos`` to null on a call's first sample, ``low-mos`` can only fire from the 11th
sample on, as in the SDK.

``constant-audio-input-level`` / ``-output-level`` are computed by the SDK from 50 ms
volume readings that samples do not carry. :func:`detect` approximates them from the
per-second levels (population standard deviation of the last 10 levels < 327.67 raises,
>= clears) and marks those rows ``approximate=True``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from voiceinsights._exceptions import AnalysisInputError
from voiceinsights.analysis._frames import to_pandas

__all__ = ["SDK_DEFAULTS", "WARNING_COLUMNS", "Rule", "compare", "detect", "with_thresholds"]

Kind = Literal["max", "min", "maxAverage", "minStandardDeviation"]


@dataclass(frozen=True)
class Rule:
    """One warning rule of the SDK's stats monitor.

    Attributes
    ----------
    name : str
        Warning name as the SDK emits it.
    column : str
        Sample column (schema name) the rule watches.
    kind : {"max", "min", "maxAverage", "minStandardDeviation"}
        SDK threshold name: count of values above / below ``threshold``, window mean above
        ``threshold``, or window standard deviation below ``threshold``.
    threshold : float
        Threshold in the column's unit.
    window : int
        Number of most recent samples in the window.
    raise_count, clear_count : int
        For ``max``/``min``: raise when at least ``raise_count`` values cross, clear when
        at most ``clear_count`` do.
    clear_value : float
        For ``maxAverage``: clear when the mean is <= ``clear_value``.
    full_window : bool
        Evaluate only once ``window`` samples exist.
    approximate : bool
        The SDK computes it from data samples do not carry.
    """

    name: str
    column: str
    kind: Kind
    threshold: float
    window: int = 10
    raise_count: int = 3
    clear_count: int = 0
    clear_value: float = float("nan")
    full_window: bool = False
    approximate: bool = False


#: The Voice SDK's default rules, in the order the SDK checks them.
SDK_DEFAULTS: Final[tuple[Rule, ...]] = (
    Rule("high-rtt", "rtt_ms", "max", 400),
    Rule("high-jitter", "jitter_ms", "max", 30),
    Rule("low-mos", "mos", "min", 3),
    Rule("high-packet-loss", "packets_lost_pct", "max", 1),
    Rule(
        "high-packets-lost-fraction",
        "packets_lost_pct",
        "maxAverage",
        3,
        window=7,
        clear_value=1,
        full_window=True,
    ),
    Rule("low-bytes-received", "bytes_received", "min", 1, window=3, raise_count=3, clear_count=2),
    Rule("low-bytes-sent", "bytes_sent", "min", 1, window=3, raise_count=3, clear_count=2),
    Rule(
        "constant-audio-input-level",
        "audio_input_level",
        "minStandardDeviation",
        327.67,
        window=10,
        full_window=True,
        approximate=True,
    ),
    Rule(
        "constant-audio-output-level",
        "audio_output_level",
        "minStandardDeviation",
        327.67,
        window=10,
        full_window=True,
        approximate=True,
    ),
)

#: Columns of the frame :func:`detect` returns.
WARNING_COLUMNS: Final = (
    "call_sid",
    "timestamp",
    "name",
    "event",
    "threshold_name",
    "threshold_value",
    "values",
    "approximate",
)


def with_thresholds(rules: Sequence[Rule] = SDK_DEFAULTS, **thresholds: float) -> tuple[Rule, ...]:
    """Copy of ``rules`` with thresholds changed by warning name.

    Names use underscores for dashes: ``with_thresholds(high_rtt=300, low_mos=3.5)``.
    """
    by_name = {r.name.replace("-", "_"): r for r in rules}
    unknown = set(thresholds) - set(by_name)
    if unknown:
        raise AnalysisInputError(f"unknown warnings {sorted(unknown)}; known: {sorted(by_name)}")
    return tuple(
        replace(r, threshold=float(thresholds[key])) if key in thresholds else r
        for key, r in ((r.name.replace("-", "_"), r) for r in rules)
    )


def _window_sum(x: np.ndarray, start: np.ndarray, window: int) -> np.ndarray:
    """Sum of ``x`` over the last ``window`` rows of each row's own call.

    Added oldest first, like the SDK's ``reduce``, so means agree with it to the last bit.
    """
    n = x.size
    idx = np.arange(n)
    out = np.zeros(n, dtype=np.float64)
    for k in range(min(window, n) - 1, -1, -1):
        ok = idx[k:] - k >= start[k:]
        out[k:] += np.where(ok, x[: n - k], 0.0)
    return out


def _window_count(flag: np.ndarray, start: np.ndarray, window: int) -> np.ndarray:
    """Number of True values of ``flag`` in each row's window (exact integer prefix sums)."""
    prefix = np.concatenate(([0], np.cumsum(flag, dtype=np.int64)))
    idx = np.arange(flag.size)
    lo = np.maximum(idx + 1 - window, start)
    out: np.ndarray = prefix[idx + 1] - prefix[lo]
    return out


def _conditions(rule: Rule, values: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample raise and clear conditions of ``rule`` (vectorised over the fleet)."""
    idx = np.arange(values.size)
    n_in_window = np.minimum(idx - start + 1, rule.window)
    null = np.isnan(values)
    has_null = _window_count(null, start, rule.window) > 0
    usable = ~has_null
    if rule.full_window:
        usable &= n_in_window >= rule.window
    v = np.where(null, 0.0, values)
    if rule.kind in ("max", "min"):
        crossed = v > rule.threshold if rule.kind == "max" else v < rule.threshold
        count = _window_count(crossed, start, rule.window)
        return usable & (count >= rule.raise_count), usable & (count <= rule.clear_count)
    total = _window_sum(v, start, rule.window)
    mean = total / n_in_window
    if rule.kind == "maxAverage":
        return usable & (mean > rule.threshold), usable & (mean <= rule.clear_value)
    # minStandardDeviation: population standard deviation over the window.
    sq = _window_sum(v * v, start, rule.window)
    var = np.maximum(sq / n_in_window - mean * mean, 0.0)
    std = np.sqrt(var)
    return usable & (std < rule.threshold), usable & (std >= rule.threshold)


def _state_machine(
    raise_idx: np.ndarray, clear_idx: np.ndarray, t_s: np.ndarray, min_clear_s: float
) -> list[tuple[int, str]]:
    """Events of one call: alternate raise / clear, a clear >= min_clear_s after a raise."""
    events: list[tuple[int, str]] = []
    pos = -1
    while True:
        k = np.searchsorted(raise_idx, pos, side="right")
        if k >= raise_idx.size:
            return events
        r = int(raise_idx[k])
        events.append((r, "raised"))
        # first clear condition after the raise that is at least min_clear_s later
        c0 = np.searchsorted(clear_idx, r, side="right")
        cands = clear_idx[c0:]
        ok = np.flatnonzero(t_s[cands] - t_s[r] >= min_clear_s - 1e-9)
        if ok.size == 0:
            return events
        c = int(cands[ok[0]])
        events.append((c, "cleared"))
        pos = c


def detect(
    samples: Any,
    thresholds: Sequence[Rule] = SDK_DEFAULTS,
    *,
    by: str = "call_sid",
    min_clear_s: float = 5.0,
) -> pd.DataFrame:
    """Replay the SDK's warning rules over each call's samples.

    Parameters
    ----------
    samples : DataFrame, pyarrow Table or DuckDB relation
        Per-second samples with ``by`` (``call_sid``), ``timestamp`` (datetimes; numbers
        are read as ms since the epoch, as the SDK sends them) and the columns the
        rules read (``rtt_ms, jitter_ms, mos, packets_lost_pct, bytes_received,
        bytes_sent, audio_input_level, audio_output_level``). A missing column skips its
        rules. Values are used as they are: nulls stay nulls.
    thresholds : sequence of Rule
        Rules to apply (:data:`SDK_DEFAULTS`, or :func:`with_thresholds`).
    by : str
        Column identifying a call (``run_id`` for probe samples).
    min_clear_s : float
        Seconds a warning stays raised at least (the SDK's 5 s).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`WARNING_COLUMNS`: ``call_sid`` (the ``by`` value), ``timestamp`` of
        the sample at which the event fired, ``name``, ``event`` (``raised``/``cleared``),
        ``threshold_name`` and ``threshold_value`` as the SDK reports them, ``values``
        (the window's values, a list) and ``approximate`` (constant-audio rules). Sorted by
        call, time and rule order.
    """
    df = to_pandas(samples)
    for col in (by, "timestamp"):
        if col not in df.columns:
            raise AnalysisInputError(f"samples need a {col!r} column; got {list(df.columns)}")
    keep = [by, "timestamp", *{r.column for r in thresholds if r.column in df.columns}]
    df = df[keep].sort_values([by, "timestamp"], kind="stable").reset_index(drop=True)
    out_cols = list(WARNING_COLUMNS)
    if df.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in out_cols})
    call = df[by].to_numpy()
    new_call = np.ones(len(df), dtype=bool)
    new_call[1:] = call[1:] != call[:-1]
    start = np.maximum.accumulate(np.where(new_call, np.arange(len(df)), 0))
    if pd.api.types.is_numeric_dtype(df["timestamp"]):  # ms since the epoch, as the SDK
        ts = pd.to_datetime(df["timestamp"], unit="ms", utc=True)
    else:
        ts = pd.to_datetime(df["timestamp"], utc=True)
    t_s = (ts - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()
    call_bounds = np.append(np.flatnonzero(new_call), len(df))
    rows: list[tuple[int, int, str, Rule]] = []
    for order, rule in enumerate(thresholds):
        if rule.column not in df.columns:
            continue
        values = pd.to_numeric(df[rule.column], errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        can_raise, can_clear = _conditions(rule, values, start)
        raise_all = np.flatnonzero(can_raise)
        if raise_all.size == 0:
            continue
        clear_all = np.flatnonzero(can_clear)
        # Only calls with a raise condition can produce events.
        for call_start in np.unique(start[raise_all]).tolist():
            call_end = int(call_bounds[np.searchsorted(call_bounds, call_start, side="right")])
            r_idx = raise_all[
                np.searchsorted(raise_all, call_start) : np.searchsorted(raise_all, call_end)
            ]
            c_idx = clear_all[
                np.searchsorted(clear_all, call_start) : np.searchsorted(clear_all, call_end)
            ]
            for i, event in _state_machine(r_idx, c_idx, t_s, min_clear_s):
                rows.append((i, order, event, rule))
    rows.sort(key=lambda x: (x[0], x[1], x[2] != "raised"))
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in out_cols}).astype(
            {"approximate": bool}
        )
    # Build the output column by column: per-event pandas indexing would dominate.
    raw = {col: df[col].to_numpy(dtype=object) for col in {r[3].column for r in rows}}
    idx = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    windows = []
    for i, _, _, rule in rows:
        lo = max(int(start[i]), i + 1 - rule.window)
        windows.append(raw[rule.column][lo : i + 1].tolist())
    out = pd.DataFrame(
        {
            "call_sid": call[idx],
            "timestamp": ts.iloc[idx].reset_index(drop=True),
            "name": [r[3].name for r in rows],
            "event": [r[2] for r in rows],
            "threshold_name": [r[3].kind for r in rows],
            "threshold_value": [float(r[3].threshold) for r in rows],
            "values": windows,
            "approximate": [r[3].approximate for r in rows],
        }
    )
    out["approximate"] = out["approximate"].astype(bool)
    return out


def compare(
    detected: Any, reported: Any, *, tolerance_s: float = 1.0, include_approximate: bool = False
) -> pd.DataFrame:
    """Where forwarded SDK warnings and the replay disagree.

    The k-th ``raised`` (or ``cleared``) event of a warning on a call in one frame is paired
    with the k-th of the other.

    Parameters
    ----------
    detected : DataFrame
        Output of :func:`detect`.
    reported : DataFrame, pyarrow Table or DuckDB relation
        The ``warnings`` table (``call_sid, timestamp, name, event``); ``event`` may be
        ``raised``/``cleared`` or the SDK's ``warning``/``warning-cleared``.
    tolerance_s : float
        Largest time difference (s) for a pair to count as agreeing.
    include_approximate : bool
        Also compare the approximate constant-audio warnings (off by default).

    Returns
    -------
    pandas.DataFrame
        One row per paired or unpaired event: ``call_sid, name, event, n`` (ordinal),
        ``detected_at, reported_at, delta_s`` and ``status``: ``match``, ``time-differs``,
        ``replay-only`` or ``reported-only``. Sorted by call, name and time.
    """
    det = to_pandas(detected)
    rep = to_pandas(reported)
    if not include_approximate and "approximate" in det.columns:
        det = det[~det["approximate"].astype(bool)]
        approx = {r.name for r in SDK_DEFAULTS if r.approximate}
        rep = rep[~rep["name"].isin(approx)]
    rep = rep.assign(
        event=rep["event"].replace({"warning": "raised", "warning-cleared": "cleared"})
    )
    keys = ["call_sid", "name", "event"]

    def numbered(frame: pd.DataFrame) -> pd.DataFrame:
        f = frame[[*keys, "timestamp"]].copy()
        f["timestamp"] = pd.to_datetime(f["timestamp"], utc=True)
        f = f.sort_values([*keys, "timestamp"], kind="stable")
        f["n"] = f.groupby(keys, sort=False).cumcount()
        return f

    merged = numbered(det).merge(
        numbered(rep), on=[*keys, "n"], how="outer", suffixes=("_detected", "_reported")
    )
    merged = merged.rename(
        columns={"timestamp_detected": "detected_at", "timestamp_reported": "reported_at"}
    )
    merged["delta_s"] = (merged["detected_at"] - merged["reported_at"]).dt.total_seconds()
    status = np.where(
        merged["reported_at"].isna(),
        "replay-only",
        np.where(
            merged["detected_at"].isna(),
            "reported-only",
            np.where(merged["delta_s"].abs() <= tolerance_s, "match", "time-differs"),
        ),
    )
    merged["status"] = status
    first = merged["detected_at"].fillna(merged["reported_at"])
    merged = merged.assign(_t=first).sort_values(["call_sid", "name", "_t", "event"])
    return merged.drop(columns="_t").reset_index(drop=True)[
        ["call_sid", "name", "event", "n", "detected_at", "reported_at", "delta_s", "status"]
    ]

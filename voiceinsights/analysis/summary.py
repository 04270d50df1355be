"""Call summaries, fleet quality and feedback against MOS, aggregated in DuckDB SQL.

Inputs are anything DuckDB scans: pandas DataFrames, pyarrow Tables, DuckDB relations (for
example ``store.relation("samples")``) with the schema's column names, or a store object
(anything with ``relation(table)``) from which the tables are taken. The per-sample
aggregation runs as one SQL query next to the data (on the relation's own connection for
DuckDB relations); only per-call results come back to pandas.

Tags (:data:`TAG_RULES`) follow the thresholds of Twilio Voice Insights' published call
tags where they exist (high_packet_loss > 5 %, high_latency RTT > 400 ms, low_mos < 3.5);
how many samples must cross them is ours and documented in docs/analysis.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import duckdb
import numpy as np
import pandas as pd

from voiceinsights._exceptions import AnalysisInputError
from voiceinsights.analysis import calltree as _calltree
from voiceinsights.analysis import quality as _quality
from voiceinsights.analysis._frames import to_pandas

__all__ = ["CALL_COLUMNS", "TAG_RULES", "calls", "feedback_vs_mos", "fleet", "sample_stats"]

#: Tag name -> rule, as applied by :func:`calls` (thresholds in the columns' units).
TAG_RULES: Final[dict[str, str]] = {
    "high_jitter": "at least 3 samples with jitter_ms > 30 (the SDK's high-jitter level)",
    "high_packet_loss": "a sample with packets_lost_pct > 5 (Insights: > 5 %)",
    "high_latency": "a sample with rtt_ms > 400 (Insights, SDK edge: RTT > 400 ms)",
    "low_mos": "a sample with mos < 3.5 (Insights, SDK edge: MOS < 3.5)",
    "silence": "3 consecutive samples with bytes_received = 0 (the SDK's "
    "low-bytes-received condition)",
    "ice_failure": "an ice-connectivity-lost warning was raised (needs the warnings input)",
}

#: Columns of the frame :func:`calls` returns, in order.
CALL_COLUMNS: Final = (
    "call_sid",
    "parent_call_sid",
    "root_call_sid",
    "direction",
    "status",
    "call_type",
    "media_region",
    "from_address",
    "to_address",
    "identity",
    "codec_name",
    "start_time",
    "end_time",
    "duration_s",
    "samples",
    "first_sample_at",
    "last_sample_at",
    "mos_mean",
    "mos_min",
    "mos_p5",
    "jitter_mean_ms",
    "jitter_p95_ms",
    "jitter_max_ms",
    "rtt_mean_ms",
    "rtt_p95_ms",
    "rtt_max_ms",
    "packets_received",
    "packets_lost",
    "loss_pct",
    "loss_max_pct",
    "bytes_received",
    "bytes_sent",
    "warnings_raised",
    "warning_seconds_s",
    "feedback_score",
    "feedback_issue",
    "call_quality",
    "tags",
)

# One pass over the samples. Sums and counts (HUGEINT in DuckDB, which pandas receives as
# float64) are cast to BIGINT so they arrive as exact integers. The "a sample crosses the
# threshold" flags reuse max/min (count_if(x > t) >= 1 is max(x) > t, with DuckDB's NaN
# ordering in both) instead of three more per-row counters. The codec is the one most
# samples name: counted for the SDK's two codecs (opus, pcmu) with count_if, which costs
# far less than mode() over strings; calls naming another codec are counted exactly by
# _CODEC_SQL. The exact percentiles are the costliest aggregates by far; docs/analysis.md
# (Performance) lists the alternatives measured against them.
_SAMPLE_SQL = """
SELECT
    {by} AS call_sid,
    {identity} AS identity,
    count_if(codec_name = 'opus')::BIGINT AS _n_opus,
    count_if(codec_name = 'pcmu')::BIGINT AS _n_pcmu,
    count(codec_name)::BIGINT AS _n_codec,
    count(*)::BIGINT AS samples,
    min(timestamp) AS first_sample_at,
    max(timestamp) AS last_sample_at,
    avg(mos) AS mos_mean,
    min(mos) AS mos_min,
    {mos_p5} AS mos_p5,
    avg(jitter_ms) AS jitter_mean_ms,
    {jitter_p95} AS jitter_p95_ms,
    max(jitter_ms) AS jitter_max_ms,
    avg(rtt_ms) AS rtt_mean_ms,
    {rtt_p95} AS rtt_p95_ms,
    max(rtt_ms) AS rtt_max_ms,
    sum(packets_received)::BIGINT AS packets_received,
    sum(greatest(packets_lost, 0))::BIGINT AS packets_lost,
    avg(packets_lost_pct)::DOUBLE AS _loss_pct_mean,
    max(packets_lost_pct)::DOUBLE AS loss_max_pct,
    sum(bytes_received)::BIGINT AS bytes_received,
    sum(bytes_sent)::BIGINT AS bytes_sent,
    count_if(jitter_ms > {jitter})::BIGINT AS _n_high_jitter,
    coalesce(max(packets_lost_pct) > {loss}, false) AS _high_loss,
    coalesce(max(rtt_ms) > {rtt}, false) AS _high_rtt,
    coalesce(min(mos) < {mos}, false) AS _low_mos,
    count_if(bytes_received = 0)::BIGINT AS _n_zero_bytes
FROM {src}
GROUP BY ALL
"""

# Runs of 3 consecutive samples with no bytes received, only over the calls that have at
# least 3 such samples (a window over every sample would cost a sort of the whole table).
_SILENCE_SQL = """
SELECT {by} AS call_sid
FROM (
    SELECT {by}, count_if(bytes_received = 0) OVER (
        PARTITION BY {by} ORDER BY timestamp
        ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS zero3
    FROM {src}
    {where}
)
GROUP BY ALL
HAVING max(zero3) >= 3
"""

# Samples per codec, for the calls that name a codec other than opus and pcmu.
_CODEC_SQL = """
SELECT {by} AS call_sid, codec_name, count(*)::BIGINT AS n
FROM src
WHERE codec_name IS NOT NULL {where}
GROUP BY ALL
"""

_SAMPLE_COLUMNS = (
    "timestamp",
    "codec_name",
    "mos",
    "jitter_ms",
    "rtt_ms",
    "packets_received",
    "packets_lost",
    "packets_lost_pct",
    "bytes_received",
    "bytes_sent",
)


def _columns(data: Any) -> list[str]:
    if isinstance(data, duckdb.DuckDBPyRelation):
        return list(data.columns)
    if isinstance(data, pd.DataFrame):
        return list(data.columns)
    names = getattr(data, "column_names", None)  # pyarrow
    if names is not None:
        return list(names)
    return list(to_pandas(data).columns)


def _query(data: Any, sql: str) -> pd.DataFrame:
    """Run ``sql`` (which reads table ``src``) over ``data`` where ``data`` lives."""
    if isinstance(data, duckdb.DuckDBPyRelation):
        rel = data.query("src", sql)
        assert rel is not None
        result: pd.DataFrame = rel.df()
        return result
    con = duckdb.connect()
    try:
        obj = data
        if not isinstance(obj, pd.DataFrame) and getattr(obj, "column_names", None) is None:
            obj = to_pandas(obj)
        con.register("src", obj)
        frame: pd.DataFrame = con.sql(sql).df()
        return frame
    finally:
        con.close()


def _from_store(obj: Any, table: str) -> Any:
    try:
        return obj.relation(table)
    except Exception:  # a store without that table: treat as absent
        return None


def sample_stats(
    samples: Any,
    *,
    by: str = "call_sid",
    percentiles: bool = True,
    jitter_ms: float = 30.0,
    loss_pct: float = 5.0,
    rtt_ms: float = 400.0,
    mos: float = 3.5,
) -> pd.DataFrame:
    """Per-call aggregates of per-second samples (one SQL query).

    Returns ``call_sid`` (the ``by`` value), ``identity, codec_name, samples,
    first_sample_at, last_sample_at, mos_mean, mos_min, mos_p5, jitter_mean_ms,
    jitter_p95_ms, jitter_max_ms, rtt_mean_ms, rtt_p95_ms, rtt_max_ms, packets_received,
    packets_lost, loss_pct, loss_max_pct, bytes_received, bytes_sent`` and the tag inputs
    ``_n_high_jitter, _n_zero_bytes`` (counts of samples over the jitter threshold and with
    no bytes received) and ``_high_loss, _high_rtt, _low_mos, _silence`` (booleans: a
    sample crossed the threshold; three consecutive zero-byte samples). Percentiles are
    exact (``quantile_cont``); ``loss_pct`` is lost / (received + lost) over the call, from
    the per-second packet counts (the mean of ``packets_lost_pct`` if counts are absent).
    ``percentiles=False`` skips the three percentiles (null), the costliest aggregates.
    """
    cols = _columns(samples)
    missing = [c for c in (by, *_SAMPLE_COLUMNS) if c not in cols]
    if missing:
        raise AnalysisInputError(f"samples lack columns {missing}")
    quoted = f'"{by}"'
    quantiles = {
        "mos_p5": "quantile_cont(mos, 0.05)",
        "jitter_p95": "quantile_cont(jitter_ms, 0.95)",
        "rtt_p95": "quantile_cont(rtt_ms, 0.95)",
    }
    if not percentiles:
        quantiles = dict.fromkeys(quantiles, "NULL::DOUBLE")
    sql = _SAMPLE_SQL.format(
        src="src",
        by=quoted,
        identity="any_value(identity)" if "identity" in cols else "NULL::VARCHAR",
        jitter=float(jitter_ms),
        loss=float(loss_pct),
        rtt=float(rtt_ms),
        mos=float(mos),
        **quantiles,
    )
    stats = _query(samples, sql)
    lost = stats["packets_lost"].astype("float64").fillna(0.0)
    packets = stats["packets_received"].astype("float64").fillna(0.0) + lost
    stats["loss_pct"] = np.where(
        packets > 0, 100.0 * lost / packets.where(packets > 0, 1.0), stats["_loss_pct_mean"]
    )
    stats["codec_name"] = _codecs(samples, stats, quoted)
    candidates = stats.loc[stats["_n_zero_bytes"] >= 3, "call_sid"].astype(str).tolist()
    silent: set[str] = set()
    if candidates:
        where = _among(quoted, candidates)
        found = _query(samples, _SILENCE_SQL.format(by=quoted, src="src", where=where))
        silent = set(found["call_sid"].astype(str))
    stats["_silence"] = stats["call_sid"].astype(str).isin(silent)
    return stats.drop(columns=["_loss_pct_mean", "_n_opus", "_n_pcmu", "_n_codec"])


def _among(quoted: str, sids: list[str], keyword: str = "WHERE") -> str:
    """A filter on the calls ``sids`` (none past 5,000: the query then reads them all)."""
    if len(sids) > 5000:
        return ""
    values = ", ".join("'" + c.replace("'", "''") + "'" for c in sids)
    return f"{keyword} {quoted}::VARCHAR IN ({values})"


def _codecs(samples: Any, stats: pd.DataFrame, quoted: str) -> pd.Series:
    """Each call's codec: the one most of its samples name (a tie: the first by name)."""
    # count_if over only null predicates is null in DuckDB, not 0.
    opus = stats["_n_opus"].fillna(0).to_numpy(dtype="int64")
    pcmu = stats["_n_pcmu"].fillna(0).to_numpy(dtype="int64")
    choice = np.full(len(stats), None, dtype=object)
    choice[opus > 0] = "opus"
    choice[pcmu > opus] = "pcmu"
    codec = pd.Series(choice, index=stats.index, dtype="object")
    other = stats["_n_codec"].fillna(0).to_numpy(dtype="int64") > opus + pcmu
    if other.any():
        sids = stats.loc[other, "call_sid"].astype(str).tolist()
        counts = _query(samples, _CODEC_SQL.format(by=quoted, where=_among(quoted, sids, "AND")))
        counts["call_sid"] = counts["call_sid"].astype(str)
        counts = counts[counts["call_sid"].isin(set(sids))]
        best = (
            counts.sort_values(["call_sid", "n", "codec_name"], ascending=[True, False, True])
            .drop_duplicates("call_sid")
            .set_index("call_sid")["codec_name"]
        )
        codec[other] = stats.loc[other, "call_sid"].astype(str).map(best).to_numpy()
    return codec


_WARN_SQL = """
WITH e AS (
    SELECT call_sid, name, timestamp,
        CASE WHEN event IN ('raised', 'warning') THEN 'raised' ELSE 'cleared' END AS ev
    FROM src
), n AS (
    SELECT *, row_number() OVER (PARTITION BY call_sid, name, ev ORDER BY timestamp) AS k
    FROM e
)
SELECT r.call_sid, r.name, r.timestamp AS raised_at, c.timestamp AS cleared_at
FROM n r LEFT JOIN n c
  ON c.ev = 'cleared' AND c.call_sid = r.call_sid AND c.name = r.name AND c.k = r.k
WHERE r.ev = 'raised'
"""


def _warning_stats(warnings: Any, ends: pd.Series) -> pd.DataFrame:
    """warnings_raised, warning_seconds_s and ice_failure per call.

    A warning never cleared counts until ``ends`` (the call's last sample or end time).
    """
    pairs = _query(warnings, _WARN_SQL)
    if pairs.empty:
        return pd.DataFrame(columns=["warnings_raised", "warning_seconds_s", "_ice"]).rename_axis(
            "call_sid"
        )
    pairs["raised_at"] = pd.to_datetime(pairs["raised_at"], utc=True)
    pairs["cleared_at"] = pd.to_datetime(pairs["cleared_at"], utc=True)
    end = pairs["call_sid"].map(ends)
    stop = pairs["cleared_at"].fillna(end)
    secs = (stop - pairs["raised_at"]).dt.total_seconds().clip(lower=0)
    pairs["secs"] = secs.fillna(0.0)
    pairs["ice"] = pairs["name"] == "ice-connectivity-lost"
    g = pairs.groupby("call_sid")
    return pd.DataFrame(
        {
            "warnings_raised": g.size(),
            "warning_seconds_s": g["secs"].sum(),
            "_ice": g["ice"].any(),
        }
    )


def calls(
    samples: Any = None,
    legs: Any = None,
    *,
    warnings: Any = None,
    feedback: Any = None,
    summaries: Any = None,
    by: str = "call_sid",
    percentiles: bool = True,
) -> pd.DataFrame:
    """One row per leg, like a Voice Insights call summary.

    Parameters
    ----------
    samples : DataFrame, Arrow table, DuckDB relation or store
        Per-second SDK samples (``samples`` columns). A store object (anything with
        ``relation(name)``) supplies ``samples``, ``calls``, ``warnings``, ``feedback``
        and ``insights_summaries`` itself.
    legs : DataFrame, optional
        Legs: the ``calls`` view, ``rest_calls`` rows or ``call_events`` rows (anything
        :func:`voiceinsights.analysis.calltree.build` takes). Gives status, direction,
        addresses, times and the tree; legs without samples get empty quality columns.
    warnings : optional
        The ``warnings`` table (reported SDK warnings) or the output of
        :func:`voiceinsights.analysis.warnings.detect`.
    feedback : optional
        The ``feedback`` table (``call_sid, score, issue``).
    summaries : optional
        The ``insights_summaries`` table: gives ``media_region`` (and ``call_type`` where
        ``legs`` lacks it).
    by : str
        Sample column naming the leg (``run_id`` for probe samples).
    percentiles : bool
        Compute the exact percentiles ``mos_p5, jitter_p95_ms, rtt_p95_ms`` (about half
        the aggregation time on large tables); False leaves them null.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CALL_COLUMNS`. ``warning_seconds_s`` sums, over the leg's raised
        warnings, the time until each cleared (until the last sample when never
        cleared); it is null when no warnings input was given. ``call_quality`` is
        :func:`voiceinsights.analysis.quality.call_quality` of ``mos_mean``; ``tags``
        lists the :data:`TAG_RULES` that hold.
    """
    if samples is not None and callable(getattr(samples, "relation", None)):
        store = samples
        samples = _from_store(store, "samples")
        legs = legs if legs is not None else _from_store(store, "calls")
        warnings = warnings if warnings is not None else _from_store(store, "warnings")
        feedback = feedback if feedback is not None else _from_store(store, "feedback")
        summaries = summaries if summaries is not None else _from_store(store, "insights_summaries")
    if samples is None and legs is None:
        raise AnalysisInputError("calls() needs samples, legs or a store")
    stats = (
        sample_stats(samples, by=by, percentiles=percentiles).set_index("call_sid")
        if samples is not None
        else pd.DataFrame(index=pd.Index([], name="call_sid"))
    )
    if legs is not None and len(_columns(legs)):
        tree = _calltree.build(legs).legs.set_index("call_sid")
        leg_cols = to_pandas(legs)
        extra = [c for c in ("call_type",) if c in leg_cols.columns]
        if extra:
            tree = tree.join(
                leg_cols.drop_duplicates("call_sid", keep="last").set_index("call_sid")[extra]
            )
        out = tree.join(stats, how="outer")
    else:
        out = stats
    out = out.copy()
    out.index.name = "call_sid"
    for col in CALL_COLUMNS[1:]:
        if col not in out.columns:
            out[col] = None
    if summaries is not None:
        ins = _query(summaries, "SELECT call_sid, media_region, call_type FROM src")
        ins = ins.drop_duplicates("call_sid", keep="last").set_index("call_sid")
        out["media_region"] = ins["media_region"].reindex(out.index)
        out["call_type"] = out["call_type"].where(
            out["call_type"].notna(), ins["call_type"].reindex(out.index)
        )
    ends = out["last_sample_at"]
    ends = pd.to_datetime(ends, utc=True).fillna(pd.to_datetime(out["end_time"], utc=True))
    if warnings is not None:
        ws = _warning_stats(warnings, ends)
        out["warnings_raised"] = ws["warnings_raised"].reindex(out.index).fillna(0).astype("int64")
        out["warning_seconds_s"] = ws["warning_seconds_s"].reindex(out.index).fillna(0.0)
        ice = ws["_ice"].reindex(out.index).fillna(False).astype(bool)
    else:
        out["warnings_raised"] = pd.NA
        out["warning_seconds_s"] = np.nan
        ice = pd.Series(False, index=out.index)
    if feedback is not None:
        fb = to_pandas(_query(feedback, "SELECT * FROM src"))
        if "received_at" in fb.columns:
            fb = fb.sort_values("received_at", kind="stable")
        fb = fb.drop_duplicates("call_sid", keep="last").set_index("call_sid")
        out["feedback_score"] = fb["score"].reindex(out.index)
        out["feedback_issue"] = fb["issue"].reindex(out.index)
    for col in ("samples", "packets_received", "packets_lost", "bytes_received", "bytes_sent"):
        out[col] = pd.to_numeric(out[col]).astype("Int64")
    out["call_quality"] = _quality.call_quality(pd.to_numeric(out["mos_mean"]))
    out["tags"] = _tags(out, ice)
    return out.reset_index()[list(CALL_COLUMNS)]


def _tags(out: pd.DataFrame, ice: pd.Series) -> list[list[str]]:
    def flag(col: str, k: int) -> np.ndarray:
        if col not in out:
            return np.zeros(len(out), dtype=bool)
        return np.asarray(pd.to_numeric(out[col], errors="coerce").fillna(0) >= k)

    def present(col: str) -> np.ndarray:
        if col not in out:
            return np.zeros(len(out), dtype=bool)
        return np.asarray(out[col].fillna(False).astype(bool))

    flags = {
        "high_jitter": flag("_n_high_jitter", 3),
        "high_packet_loss": present("_high_loss"),
        "high_latency": present("_high_rtt"),
        "low_mos": present("_low_mos"),
        "silence": present("_silence"),
        "ice_failure": np.asarray(ice, dtype=bool),
    }
    names = list(flags)
    if not len(out):
        return []
    # Encode each row's flags as a bit pattern and build each distinct tag list once.
    code = np.zeros(len(out), dtype=np.int64)
    for bit, n in enumerate(names):
        code |= flags[n].astype(np.int64) << bit
    lists = {
        int(c): [n for bit, n in enumerate(names) if int(c) >> bit & 1] for c in np.unique(code)
    }
    return [list(lists[c]) for c in code.tolist()]


def fleet(
    summary: Any,
    by: str | Sequence[str] = "day",
    *,
    time_column: str = "start_time",
) -> pd.DataFrame:
    """Quality of a fleet of calls by day and/or any dimension.

    Parameters
    ----------
    summary : DataFrame
        Output of :func:`calls` (or any frame with its columns).
    by : str or sequence of str
        Grouping: ``"day"`` (UTC date of ``time_column``, or of ``first_sample_at`` when
        that is null) and/or columns of ``summary`` such as ``direction``, ``codec_name``,
        ``call_type``, ``identity`` or a region column you joined in.
    time_column : str
        Column the day is taken from.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``calls``, ``calls_with_samples``, ``mos_mean`` (mean of the
        calls' mean MOS), ``mos_p5`` (5th percentile of the calls' mean MOS),
        ``mos_min``, MOS distribution as counts ``excellent, great, good, fair,
        degraded`` (:mod:`voiceinsights.analysis.quality` bands of each call's mean MOS),
        ``jitter_mean_ms``, ``jitter_p95_ms`` (of the calls' p95), ``rtt_mean_ms``,
        ``loss_pct`` (lost / sent over the group), ``warnings_raised``, and for every tag
        ``<tag>_pct``: the percentage of calls with it.
    """
    df = to_pandas(summary).copy()
    dims = [by] if isinstance(by, str) else list(by)
    if "day" in dims:
        t = pd.to_datetime(df[time_column], utc=True)
        if "first_sample_at" in df:
            t = t.fillna(pd.to_datetime(df["first_sample_at"], utc=True))
        df["day"] = t.dt.strftime("%Y-%m-%d")
    missing = [d for d in dims if d not in df.columns]
    if missing:
        raise AnalysisInputError(f"cannot group by {missing}: not columns of the summary")
    for tag in TAG_RULES:
        df[f"_tag_{tag}"] = (
            df["tags"].map(lambda ts, t=tag: t in ts if ts is not None else False).astype(int)
        )
    df["_has"] = df["samples"].notna() & (pd.to_numeric(df["samples"]).fillna(0) > 0)
    con = duckdb.connect()
    try:
        con.register("s", df.drop(columns=["tags"]))
        keys = ", ".join(f'"{d}"' for d in dims)
        bands = ", ".join(f"count_if(call_quality = '{b}')::BIGINT AS {b}" for b in _quality.LABELS)
        tags = ", ".join(f"100.0 * avg(_tag_{t}) AS {t}_pct" for t in TAG_RULES)
        sql = f"""
            SELECT {keys}, count(*)::BIGINT AS calls,
                count_if(_has)::BIGINT AS calls_with_samples,
                avg(mos_mean) AS mos_mean, quantile_cont(mos_mean, 0.05) AS mos_p5,
                min(mos_min) AS mos_min, {bands},
                avg(jitter_mean_ms) AS jitter_mean_ms,
                avg(jitter_p95_ms) AS jitter_p95_ms, avg(rtt_mean_ms) AS rtt_mean_ms,
                CASE WHEN sum(packets_received) + sum(packets_lost) > 0
                     THEN 100.0 * sum(packets_lost) / (sum(packets_received)
                          + sum(packets_lost)) END AS loss_pct,
                sum(warnings_raised) AS warnings_raised, {tags}
            FROM s GROUP BY {keys} ORDER BY {keys}
        """
        result: pd.DataFrame = con.sql(sql).df()
        return result
    finally:
        con.close()


def feedback_vs_mos(summary: Any, feedback: Any = None) -> pd.DataFrame:
    """How users' feedback scores relate to the measured MOS.

    Parameters
    ----------
    summary : DataFrame
        Output of :func:`calls` (with ``feedback_score``), or per-call rows with
        ``call_sid`` and ``mos_mean``.
    feedback : optional
        ``feedback`` rows (``call_sid, score, issue``; the latest by ``received_at`` per
        call). Only calls with a feedback row count; a feedback that declined to score
        (``score`` null) counts under ``<NA>``. Without it, calls count when ``summary``
        gives them a score or an issue: a feedback with neither cannot be told from no
        feedback at all.

    Returns
    -------
    pandas.DataFrame
        One row per score (1..5, and ``<NA>`` for declined): ``calls``, ``mos_mean``,
        ``mos_median``, ``mos_p25``, ``mos_p75``, ``low_mos_pct`` (calls with the low_mos
        tag), ``top_issue`` and ``issues`` (counts per issue). ``attrs["spearman_rho"]``
        holds Spearman's rank correlation between score and ``mos_mean`` over calls with
        both (NaN with fewer than 3).
    """
    df = to_pandas(summary).copy()
    if feedback is None:
        if "feedback_score" not in df:
            raise AnalysisInputError("feedback_vs_mos needs feedback_score or a feedback table")
        if "feedback_issue" not in df:
            df["feedback_issue"] = None
        df = df[df["feedback_score"].notna() | df["feedback_issue"].notna()]
    else:
        fb = to_pandas(feedback)
        if "received_at" in fb.columns:
            fb = fb.sort_values("received_at", kind="stable")
        fb = fb.drop_duplicates("call_sid", keep="last")
        df = df.drop(columns=[c for c in ("feedback_score", "feedback_issue") if c in df])
        df = df.merge(
            fb.rename(columns={"score": "feedback_score", "issue": "feedback_issue"})[
                ["call_sid", "feedback_score", "feedback_issue"]
            ],
            on="call_sid",
            how="inner",
        )
    if "tags" in df:
        df["_low"] = df["tags"].map(lambda t: t is not None and "low_mos" in t).astype(int)
    else:
        df["_low"] = (pd.to_numeric(df["mos_mean"]) < 3.5).astype(int)
    df = df[["feedback_score", "feedback_issue", "mos_mean", "_low"]]
    con = duckdb.connect()
    try:
        con.register("f", df)
        out: pd.DataFrame = con.sql("""
            SELECT feedback_score::INTEGER AS score, count(*) AS calls,
                avg(mos_mean) AS mos_mean, median(mos_mean) AS mos_median,
                quantile_cont(mos_mean, 0.25) AS mos_p25,
                quantile_cont(mos_mean, 0.75) AS mos_p75,
                100.0 * avg(_low) AS low_mos_pct,
                mode(feedback_issue) AS top_issue,
                histogram(feedback_issue) FILTER (WHERE feedback_issue IS NOT NULL)
                    AS issues
            FROM f GROUP BY ALL ORDER BY score NULLS LAST
        """).df()
        both = df.dropna(subset=["feedback_score", "mos_mean"])
        rho = float("nan")
        if len(both) >= 3:
            rho = float(
                pd.to_numeric(both["feedback_score"])
                .rank()
                .corr(pd.to_numeric(both["mos_mean"]).rank())
            )
        out.attrs["spearman_rho"] = rho
        out.attrs["calls_with_feedback"] = len(both)
        return out
    finally:
        con.close()

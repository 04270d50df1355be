"""Calls through the impairment relay: the probe's figures against the relay's ground truth.

The relay runs as its own process (``voiceinsights relay``) so its timing does not share
an event loop with the probe; its JSON Lines log is the reference. Assertions compare the
probe with that log, not with wall-clock luck.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import voiceinsights.probe as probe
from voiceinsights.analysis import jitter as rfc_jitter
from voiceinsights.analysis import quality
from voiceinsights.probe.relay import read_log

from .conftest import Proc

pytestmark = pytest.mark.network


def _through_relay(
    start_proc: Callable[..., Proc],
    echo_url: str,
    tmp_path: Path,
    *args: str,
    duration_s: float = 5.0,
    pesq: bool = False,
) -> tuple[probe.ProbeReport, pd.DataFrame]:
    log = tmp_path / f"relay-{len(list(tmp_path.iterdir()))}.jsonl"
    relay = start_proc("relay", echo_url, "--log", str(log), *args)
    report = probe.run(relay.url, duration_s=duration_s, check=False, pesq=pesq)
    relay.stop()
    assert report.ok, report.error
    return report, read_log(str(log))


def _rtp(log: pd.DataFrame, direction: str) -> pd.DataFrame:
    return log[(log["direction"] == direction) & (log["kind"] == "rtp")].reset_index(drop=True)


def test_loss_per_direction_and_rtt(
    start_proc: Callable[..., Proc], echo_url: str, tmp_path: Path
) -> None:
    report, log = _through_relay(
        start_proc,
        echo_url,
        tmp_path,
        "--delay-ms",
        "50",
        "--loss-pct",
        "4",
        "--seed",
        "11",
    )
    # Way back (echo -> caller): the probe's loss from RTP sequence numbers equals the
    # relay's drops among the sequence numbers the stream covered.
    back = _rtp(log, "to-caller")
    assert report.arrivals is not None
    seq = report.arrivals["sequence_number"].to_numpy()
    lo, hi = int(seq.min()), int(seq.max())  # no 16-bit wrap in a 5 s call at 50 pps...
    if hi - lo > 60000:  # ...unless the random start was near it: unwrap
        seq = np.where(seq < 30000, seq + 65536, seq)
        lo, hi = int(seq.min()), int(seq.max())
    bseq = back["sequence_number"].to_numpy()
    bseq = np.where(bseq < lo - 30000, bseq + 65536, bseq)
    in_range = back[(bseq >= lo) & (bseq <= hi)]
    dropped_back = int(in_range["dropped"].sum())
    assert dropped_back > 0
    assert report.inbound_packets_lost == dropped_back
    assert report.totals["packetsLost"] == dropped_back  # aiortc's inbound-rtp agrees

    # Way in (caller -> echo): the echo's RTCP receiver reports count the drops up to the
    # moment each report was sent; the last report the probe read must equal the relay's
    # cumulative drop count at the time one of the echo's reports passed the relay.
    way_in = _rtp(log, "to-echo")
    rtcp_back = log[(log["direction"] == "to-caller") & (log["kind"] == "rtcp")]
    cumulative = {
        int(way_in[way_in["received_s"] < t]["dropped"].sum()) for t in rtcp_back["received_s"]
    }
    assert report.outbound_packets_lost is not None
    assert report.outbound_packets_lost > 0
    assert report.outbound_packets_lost in cumulative

    # RTT: 50 ms each way imposed; samples after the first seconds within +-10 ms of 100.
    rtts = [s["rtt"] for s in report.samples[2:] if s["rtt"] is not None]
    assert rtts
    assert all(abs(r - 100.0) <= 10.0 for r in rtts), rtts
    # The audio itself takes at least the imposed round trip to come back.
    assert report.audio_rtt_ms is not None
    assert report.audio_rtt_ms >= 95


def test_rfc3550_jitter_matches_the_relay_ground_truth(
    start_proc: Callable[..., Proc], echo_url: str, tmp_path: Path
) -> None:
    report, log = _through_relay(
        start_proc,
        echo_url,
        tmp_path,
        "--delay-ms",
        "40",
        "--jitter-ms",
        "15",
        "--seed",
        "5",
    )
    # Expected value: the RFC 3550 estimator run independently on the relay's own record
    # of when it forwarded each returning packet (its send log), in forwarding order.
    back = _rtp(log, "to-caller")
    back = back[back["sent_s"].notna()].sort_values("sent_s", kind="stable")
    j = np.asarray(rfc_jitter.rfc3550(back["sent_s"], back["rtp_timestamp"], 48000))
    sent = back["sent_s"].to_numpy()
    expected = float(j[sent >= sent[0] + 1.0].mean())
    # The imposed jitter is large against loopback noise: uniform +-15 ms per hop.
    assert expected > 5.0
    assert report.rfc3550_jitter_ms == pytest.approx(expected, rel=0.20)
    # The SDK-style per-second jitter (aiortc's inbound-rtp, converted from clock units)
    # agrees in magnitude with the estimator on the same stream.
    sdk = report.stats["jitter"]
    assert sdk is not None
    assert sdk["average"] == pytest.approx(expected, rel=0.5)


def test_call_quality_never_improves_as_impairment_grows(
    start_proc: Callable[..., Proc], echo_url: str, tmp_path: Path
) -> None:
    levels = [  # (relay arguments, call length: long RTTs need time for RTCP to report)
        (("--delay-ms", "0"), 4.0),
        (("--delay-ms", "120", "--jitter-ms", "10", "--loss-pct", "2", "--seed", "3"), 4.0),
        (("--delay-ms", "250", "--jitter-ms", "40", "--loss-pct", "8", "--seed", "3"), 8.0),
    ]
    pesq = importlib.util.find_spec("pesq") is not None
    reports = []
    for args, duration in levels:
        report, _ = _through_relay(
            start_proc, echo_url, tmp_path, *args, duration_s=duration, pesq=pesq
        )
        reports.append(report)
    mos = [r.mos_avg for r in reports]
    assert all(m is not None for m in mos), [(r.samples, r.error) for r in reports]
    assert mos[0] > mos[1] > mos[2]  # type: ignore[operator]
    ranks = [quality.LABELS.index(r.call_quality) for r in reports]
    assert ranks == sorted(ranks)  # labels run best -> worst
    assert reports[-1].call_quality in {"fair", "degraded"}
    # The playout simulation also sees the heavy impairment (its mild steps can be
    # swamped by scheduling stalls of a loaded machine, so only the ends are compared).
    eff = [r.effective_mos for r in reports]
    assert eff[0] > eff[2]  # type: ignore[operator]
    assert eff[1] > eff[2]  # type: ignore[operator]
    if pesq:  # listening quality of the rebuilt playout falls too
        scores = [r.pesq_mos for r in reports]
        assert all(p is not None for p in scores), scores
        assert scores[0] > scores[2]  # type: ignore[operator]

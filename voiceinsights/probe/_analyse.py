"""Fill a :class:`ProbeReport` from what the call recorded, using the analysis layer.

Nothing is computed here that :mod:`voiceinsights.analysis` already knows how to compute:
SDK MOS (in the samples), quality bands, SDK warnings, RFC 3550 jitter, loss from sequence
numbers and the jitter-buffer simulation all come from there. This module only gathers the
inputs (samples, the arrival record, aiortc's stats and SDP) and stores the outputs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from voiceinsights.analysis import jitter as _jitter
from voiceinsights.analysis import jitterbuffer as _jitterbuffer
from voiceinsights.analysis import loss as _loss
from voiceinsights.analysis import quality as _quality
from voiceinsights.analysis import warnings as _warnings
from voiceinsights.probe._report import ProbeReport, summarize
from voiceinsights.probe._rtp import ArrivalRecorder
from voiceinsights.probe._signal import ReceivedAudio, audio_round_trip_ms
from voiceinsights.probe._stats import RawStats

__all__ = ["JITTER_WARMUP_S", "analyse", "candidates_from_sdp", "mean_jitter_ms", "selected_pair"]

#: Arrivals of the first second are left out of the mean RFC 3550 jitter: the estimator
#: starts at 0 and needs about 16 packets to settle.
JITTER_WARMUP_S = 1.0


def candidates_from_sdp(sdp: str, *, remote: bool) -> list[dict[str, Any]]:
    """ICE candidates of an SDP as ``RTCIceCandidateStats``-like dicts."""
    out = []
    for line in sdp.splitlines():
        line = line.strip()
        if not line.startswith("a=candidate:"):
            continue
        parts = line[len("a=candidate:") :].split()
        if len(parts) < 8:
            continue
        out.append(
            {
                "foundation": parts[0],
                "component": int(parts[1]),
                "protocol": parts[2].lower(),
                "priority": int(parts[3]),
                "address": parts[4],
                "ip": parts[4],
                "port": int(parts[5]),
                "candidateType": parts[7],
                "isRemote": remote,
            }
        )
    return out


def mean_jitter_ms(
    arrival_s: npt.ArrayLike, rtp_timestamp: npt.ArrayLike, clock_rate: float
) -> tuple[float | None, float | None]:
    """``(mean, final)`` RFC 3550 jitter in ms over packets after the warm-up second."""
    arrival = np.asarray(arrival_s, dtype=np.float64)
    if arrival.size < 2:
        return None, None
    j = np.asarray(_jitter.rfc3550(arrival, rtp_timestamp, clock_rate), dtype=np.float64)
    settled = j[arrival >= arrival[0] + JITTER_WARMUP_S]
    if settled.size == 0:
        settled = j
    return float(settled.mean()), float(j[-1])


def selected_pair(pc: Any) -> dict[str, Any] | None:
    try:
        transport = pc.getTransceivers()[0].receiver.transport.transport
        pair = transport._connection._nominated.get(1)
    except (AttributeError, IndexError):
        return None
    if pair is None:
        return None

    def cand(c: Any, remote: bool) -> dict[str, Any]:
        return {
            "address": c.host,
            "ip": c.host,
            "port": c.port,
            "protocol": c.transport.lower(),
            "candidateType": c.type,
            "priority": c.priority,
            "isRemote": remote,
        }

    return {
        "localCandidate": cand(pair.local_candidate, False),
        "remoteCandidate": cand(pair.remote_candidate, True),
    }


def _sdk_warnings(report: ProbeReport) -> list[dict[str, Any]]:
    if not report.samples:
        return []
    frame = report.samples_frame()
    events = _warnings.detect(frame, by="run_id")
    out = []
    for row in events.to_dict("records"):
        ts = row["timestamp"]
        values = row.get("values")
        out.append(
            {
                "name": row["name"],
                "event": row["event"],
                "timestamp": ts.timestamp() * 1000.0 if hasattr(ts, "timestamp") else ts,
                "threshold": {"name": row["threshold_name"], "value": row["threshold_value"]},
                "values": list(values) if values is not None else [],
                "approximate": bool(row.get("approximate", False)),
            }
        )
    return out


def analyse(
    report: ProbeReport,
    samples: list[dict[str, Any]],
    recorder: ArrivalRecorder,
    last_raw: RawStats | None,
    *,
    signal: npt.NDArray[np.int16],
    sent_at_s: list[float],
    received: ReceivedAudio,
    clock_rate: int,
    jitter_buffer_ms: float | str = 60.0,
    local_sdp: str = "",
    remote_sdp: str = "",
    pair: dict[str, Any] | None = None,
    pesq: bool = False,
) -> None:
    """Fill ``report``'s statistics from the recorded call (in place).

    ``pair`` is the selected candidate pair (:func:`selected_pair`, read while the call
    was up); ``local_sdp``/``remote_sdp`` give the candidates.
    """
    report.samples = samples
    report.stats = {
        "jitter": summarize([s.get("jitter") for s in samples]),
        "mos": summarize([s.get("mos") for s in samples]),
        "rtt": summarize([s.get("rtt") for s in samples]),
    }
    mos_avg = report.mos_avg
    report.call_quality = _quality.call_quality(mos_avg) if mos_avg is not None else None
    report.totals = dict(samples[-1]["totals"]) if samples else {}
    report.warnings = _sdk_warnings(report)

    report.ice_candidates = candidates_from_sdp(local_sdp, remote=False) + candidates_from_sdp(
        remote_sdp, remote=True
    )
    report.selected_pair = pair
    if pair is not None:
        report.is_turn_required = pair["localCandidate"]["candidateType"] == "relay"

    if last_raw is not None and last_raw.remote_packets_lost is not None:
        report.outbound_packets_lost = last_raw.remote_packets_lost
        if last_raw.packets_sent > 0:
            report.outbound_loss_pct = last_raw.remote_packets_lost / last_raw.packets_sent * 100

    arrivals = recorder.frame()
    report.arrivals = arrivals
    if len(arrivals) >= 2:
        arrival = arrivals["arrival_time_s"].to_numpy()
        ts = arrivals["rtp_timestamp"].to_numpy()
        seq = arrivals["sequence_number"].to_numpy()
        report.rfc3550_jitter_ms, report.rfc3550_jitter_final_ms = mean_jitter_ms(
            arrival, ts, clock_rate
        )
        lost = _loss.from_sequence(seq)
        report.inbound_packets_expected = lost.expected
        report.inbound_packets_lost = lost.lost
        report.rfc3550_loss_pct = lost.loss_pct
        rtt = report.stats.get("rtt")
        one_way = rtt["average"] / 2.0 if rtt else 0.0
        codec = "opus" if report.codec_name == "opus" else "pcmu"
        result = _jitterbuffer.simulate(
            arrival,
            ts,
            clock_rate,
            jitter_buffer_ms,  # type: ignore[arg-type]
            sequence=seq,
            codec=codec,
            one_way_delay_ms=one_way,
        )
        report.effective_loss_pct = result.effective_loss_pct
        report.effective_mos = None if math.isnan(result.mos) else float(result.mos)
        report.jitter_buffer = {
            "mode": result.mode,
            "bufferMs": result.buffer_ms,
            "lateDiscarded": result.late_discarded,
            "addedDelayMs": result.added_delay_ms,
            "mouthToEarMs": result.mouth_to_ear_ms,
            "codec": result.codec,
        }
        if pesq:
            from voiceinsights.probe._pesq import pesq_from_arrivals

            report.pesq_mos = pesq_from_arrivals(signal, recorder, codec, late=result.late)
    if len(recorder) >= 10:
        times, frames, rate = recorder.decoded(report.codec_name)
        rebuilt = ReceivedAudio(received_at_s=times, frames=frames, sample_rate_hz=rate)
        report.audio_rtt_ms = audio_round_trip_ms(signal, sent_at_s, rebuilt)

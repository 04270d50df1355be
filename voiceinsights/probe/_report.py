"""The probe's report: everything a Twilio ``PreflightTest`` report holds, and more.

:class:`ProbeReport` holds the PreflightTest fields (``samples``, ``warnings``, ``stats``,
``callQuality``, ``networkTiming``, ``testTiming``, ``iceCandidateStats``,
``selectedIceCandidatePairStats``, ``isTurnRequired``, ``totals``) plus what the SDK
lacks: audio round-trip latency measured on the audio, RFC 3550 jitter and loss from the
caller's packet arrival record, effective loss and MOS after a jitter-buffer simulation,
outbound loss from the echo's receiver reports, and PESQ when computed.

It prints as text (``str``), JSON (:meth:`to_json`, in the PreflightTest shape with our
figures under ``"voiceinsights"``), HTML in notebooks and canonical store rows
(:meth:`to_rows`). It computes nothing itself: the figures come from
:mod:`voiceinsights.analysis` in :mod:`voiceinsights.probe._run`.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["SOURCE", "ProbeReport", "summarize"]

#: ``probe_runs.source`` of the runs this probe writes.
SOURCE = "voiceinsights-probe"


def summarize(values: list[float | None]) -> dict[str, float] | None:
    """``{"average", "min", "max"}`` of the finite values, ``None`` when there are none."""
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not finite:
        return None
    return {"average": sum(finite) / len(finite), "min": min(finite), "max": max(finite)}


def _ts(ms: float | None) -> dt.datetime | None:
    if ms is None:
        return None
    return dt.datetime.fromtimestamp(ms / 1000.0, tz=dt.UTC)


def _fmt(value: Any, unit: str = "", digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}{unit}"
    return f"{value}{unit}"


@dataclass
class ProbeReport:
    """Result of one probe (failed runs too).

    Times are ms since the epoch (``test_timing``, ``network_timing``), durations ms.
    """

    run_id: str
    target: str
    codec_name: str
    label: str | None = None
    status: str = "ok"
    failed_phase: str | None = None
    error: str | None = None
    test_timing: dict[str, float] = field(default_factory=dict)
    network_timing: dict[str, dict[str, float]] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, dict[str, float] | None] = field(default_factory=dict)
    call_quality: str | None = None
    totals: dict[str, float] = field(default_factory=dict)
    ice_candidates: list[dict[str, Any]] = field(default_factory=list)
    selected_pair: dict[str, Any] | None = None
    is_turn_required: bool | None = None
    # --- what the SDK lacks ---
    first_media_ms: float | None = None
    audio_rtt_ms: float | None = None
    rfc3550_jitter_ms: float | None = None
    rfc3550_jitter_final_ms: float | None = None
    rfc3550_loss_pct: float | None = None
    inbound_packets_expected: int | None = None
    inbound_packets_lost: int | None = None
    outbound_packets_lost: int | None = None
    outbound_loss_pct: float | None = None
    effective_loss_pct: float | None = None
    effective_mos: float | None = None
    jitter_buffer: dict[str, Any] | None = None
    pesq_mos: float | None = None
    teardown_error: str | None = None
    arrivals: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """Whether the probe completed."""
        return self.status == "ok"

    @property
    def mos_avg(self) -> float | None:
        """Average SDK MOS of the test (``stats.mos.average``)."""
        mos = self.stats.get("mos")
        return mos["average"] if mos else None

    def fail(self, phase: str, error: str) -> None:
        """Mark the run failed in ``phase`` (the first failure wins)."""
        if self.status != "failed":
            self.status = "failed"
            self.failed_phase = phase
            self.error = error

    # ------------------------------------------------------------------ shapes
    def to_dict(self) -> dict[str, Any]:
        """The report in the PreflightTest shape (camelCase), ours under ``voiceinsights``."""
        return {
            "callSid": None,
            "edge": self.target,
            "selectedEdge": self.target,
            "callQuality": self.call_quality,
            "iceCandidateStats": self.ice_candidates,
            "selectedIceCandidatePairStats": self.selected_pair,
            "isTurnRequired": self.is_turn_required,
            "networkTiming": self.network_timing,
            "samples": self.samples,
            "stats": self.stats,
            "testTiming": self.test_timing,
            "totals": self.totals,
            "warnings": self.warnings,
            "voiceinsights": {
                "runId": self.run_id,
                "label": self.label,
                "status": self.status,
                "failedPhase": self.failed_phase,
                "error": self.error,
                "codecName": self.codec_name,
                "firstMediaMs": self.first_media_ms,
                "audioRttMs": self.audio_rtt_ms,
                "rfc3550JitterMs": self.rfc3550_jitter_ms,
                "rfc3550JitterFinalMs": self.rfc3550_jitter_final_ms,
                "rfc3550LossPct": self.rfc3550_loss_pct,
                "inboundPacketsExpected": self.inbound_packets_expected,
                "inboundPacketsLost": self.inbound_packets_lost,
                "outboundPacketsLost": self.outbound_packets_lost,
                "outboundLossPct": self.outbound_loss_pct,
                "effectiveLossPct": self.effective_loss_pct,
                "effectiveMos": self.effective_mos,
                "jitterBuffer": self.jitter_buffer,
                "pesqMos": self.pesq_mos,
                "teardownError": self.teardown_error,
            },
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text (NaN written as null)."""
        return json.dumps(_finite(self.to_dict()), indent=indent, default=str)

    def samples_frame(self) -> pd.DataFrame:
        """The samples as a DataFrame with ``probe_samples``' columns."""
        rows = self.sample_rows()
        from voiceinsights.schema import get_table

        columns = list(get_table("probe_samples").column_names)
        return pd.DataFrame(rows, columns=columns)

    def sample_rows(self) -> list[dict[str, Any]]:
        """Canonical ``probe_samples`` rows."""
        out = []
        for s in self.samples:
            t = s.get("totals", {})
            out.append(
                {
                    "run_id": self.run_id,
                    "timestamp": _ts(s["timestamp"]),
                    "audio_input_level": s.get("audioInputLevel"),
                    "audio_output_level": s.get("audioOutputLevel"),
                    "bytes_received": s.get("bytesReceived"),
                    "bytes_sent": s.get("bytesSent"),
                    "packets_received": s.get("packetsReceived"),
                    "packets_sent": s.get("packetsSent"),
                    "packets_lost": s.get("packetsLost"),
                    "packets_lost_pct": s.get("packetsLostFraction"),
                    "jitter_ms": s.get("jitter"),
                    "rtt_ms": s.get("rtt"),
                    "mos": s.get("mos"),
                    "codec_name": s.get("codecName"),
                    "total_bytes_received": t.get("bytesReceived"),
                    "total_bytes_sent": t.get("bytesSent"),
                    "total_packets_received": t.get("packetsReceived"),
                    "total_packets_sent": t.get("packetsSent"),
                    "total_packets_lost": t.get("packetsLost"),
                    "total_packets_lost_pct": t.get("packetsLostFraction"),
                }
            )
        return out

    def run_row(self) -> dict[str, Any]:
        """The canonical ``probe_runs`` row."""
        stats = self.stats

        def stat(name: str, key: str) -> float | None:
            block = stats.get(name)
            return block[key] if block else None

        def phase(name: str) -> float | None:
            block = self.network_timing.get(name)
            return block.get("duration") if block else None

        return {
            "run_id": self.run_id,
            "source": SOURCE,
            "call_sid": None,
            "target": self.target,
            "label": self.label,
            "started_at": _ts(self.test_timing.get("start")),
            "ended_at": _ts(self.test_timing.get("end")),
            "duration_s": (
                self.test_timing["duration"] / 1000.0 if "duration" in self.test_timing else None
            ),
            "status": self.status,
            "failed_phase": self.failed_phase,
            "error": self.error,
            "codec_name": self.codec_name,
            "call_quality": self.call_quality,
            "mos_avg": stat("mos", "average"),
            "mos_min": stat("mos", "min"),
            "mos_max": stat("mos", "max"),
            "jitter_avg_ms": stat("jitter", "average"),
            "jitter_min_ms": stat("jitter", "min"),
            "jitter_max_ms": stat("jitter", "max"),
            "rtt_avg_ms": stat("rtt", "average"),
            "rtt_min_ms": stat("rtt", "min"),
            "rtt_max_ms": stat("rtt", "max"),
            "loss_pct": self.totals.get("packetsLostFraction") if self.samples else None,
            "signaling_ms": phase("signaling"),
            "ice_ms": phase("ice"),
            "dtls_ms": phase("dtls"),
            "peer_connection_ms": phase("peerConnection"),
            "first_media_ms": self.first_media_ms,
            "audio_rtt_ms": self.audio_rtt_ms,
            "rfc3550_jitter_ms": self.rfc3550_jitter_ms,
            "rfc3550_loss_pct": self.rfc3550_loss_pct,
            "effective_loss_pct": self.effective_loss_pct,
            "effective_mos": self.effective_mos,
            "pesq_mos": self.pesq_mos,
            "is_turn_required": self.is_turn_required,
            "report": _finite(self.to_dict()),
        }

    def to_rows(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """``(probe_runs row, probe_samples rows)``."""
        return self.run_row(), self.sample_rows()

    # ------------------------------------------------------------------ display
    def _lines(self) -> list[tuple[str, str]]:
        rows: list[tuple[str, str]] = [
            ("target", self.target),
            ("status", self.status if self.ok else f"FAILED in {self.failed_phase}"),
        ]
        if not self.ok:
            rows.append(("error", self.error or ""))
        if self.label:
            rows.append(("label", self.label))
        rows.append(("codec", self.codec_name))
        rows.append(("call quality", self.call_quality or "-"))
        for name, unit, digits in (("mos", "", 2), ("rtt", " ms", 1), ("jitter", " ms", 1)):
            block = self.stats.get(name)
            if block:
                rows.append(
                    (
                        f"{name} avg/min/max",
                        f"{_fmt(block['average'], '', digits)} / {_fmt(block['min'], '', digits)}"
                        f" / {_fmt(block['max'], '', digits)}{unit}",
                    )
                )
        if self.totals:
            rows.append(
                (
                    "packets in / lost",
                    f"{_fmt(self.totals.get('packetsReceived'))} / "
                    f"{_fmt(self.totals.get('packetsLost'))} "
                    f"({_fmt(self.totals.get('packetsLostFraction'), ' %', 2)})",
                )
            )
        timing = ", ".join(
            f"{k} {_fmt(v.get('duration'), ' ms', 0)}" for k, v in self.network_timing.items()
        )
        rows.append(("network timing", timing or "-"))
        rows.append(("first echoed audio", _fmt(self.first_media_ms, " ms", 0)))
        rows.append(("audio round trip", _fmt(self.audio_rtt_ms, " ms", 0)))
        rows.append(("RFC 3550 jitter", _fmt(self.rfc3550_jitter_ms, " ms", 2)))
        rows.append(("RFC 3550 loss in", _fmt(self.rfc3550_loss_pct, " %", 2)))
        rows.append(("loss out (RTCP)", _fmt(self.outbound_loss_pct, " %", 2)))
        rows.append(("effective loss", _fmt(self.effective_loss_pct, " %", 2)))
        rows.append(("effective MOS", _fmt(self.effective_mos, "", 2)))
        if self.pesq_mos is not None:
            rows.append(("PESQ MOS-LQO", _fmt(self.pesq_mos, "", 2)))
        pair = self.selected_pair or {}
        local, remote = pair.get("localCandidate") or {}, pair.get("remoteCandidate") or {}
        if local or remote:
            rows.append(
                (
                    "selected pair",
                    f"{local.get('address')}:{local.get('port')} {local.get('candidateType')}"
                    f" -> {remote.get('address')}:{remote.get('port')} "
                    f"{remote.get('candidateType')}",
                )
            )
        rows.append(("TURN required", _fmt(self.is_turn_required)))
        names = sorted({w.get("name", "?") for w in self.warnings if w.get("event") != "cleared"})
        rows.append(("warnings", ", ".join(names) or "none"))
        if self.teardown_error:
            rows.append(("teardown", self.teardown_error))
        return rows

    def to_text(self) -> str:
        """A human-readable summary."""
        rows = self._lines()
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        quality = self.call_quality or "-"
        mos = _fmt(self.mos_avg, "", 2)
        if self.ok:
            return f"<ProbeReport {self.target} ok quality={quality} mos={mos}>"
        return f"<ProbeReport {self.target} failed phase={self.failed_phase}: {self.error}>"

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in self._lines()
        )
        return f"<table class='voiceinsights-probe'><caption>Probe report</caption>{body}</table>"


def _finite(value: Any) -> Any:
    """``value`` with NaN/inf floats replaced by None (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value

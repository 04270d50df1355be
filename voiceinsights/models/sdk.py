"""Voice SDK events in the voiceinsights envelope: ``sample``, ``warning``,
``warning-cleared``, ``feedback`` and ``preflight-report`` (a ``PreflightTest`` report).

The envelope is the same for files, the collector and the browser forwarder::

    {"type": "sample", "call_sid": "CA...", "data": {the SDK object as emitted},
     "identity": "optional", "received_at": "optional ISO 8601"}

Inside ``data`` the SDK's own field names are used (``packetsLostFraction``, ``rtt``...).
Unmodelled fields land in ``extra`` keyed by their path from the envelope root
(``data.inputVolume``, ``data.totals.foo``, ``forwarder``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from voiceinsights._exceptions import ValidationError
from voiceinsights._time import parse_epoch_ms
from voiceinsights.models._base import (
    EpochMs,
    Row,
    Timestamp,
    WireModel,
    dumps,
    extra_json,
    make_row,
    validate,
)

__all__ = [
    "FEEDBACK_ISSUES",
    "SDK_EVENT_TYPES",
    "SdkEnvelope",
    "SdkFeedback",
    "SdkPreflightReport",
    "SdkSample",
    "SdkSampleTotals",
    "SdkWarning",
    "SdkWarningData",
    "parse_envelope",
    "sample_values",
]

FeedbackIssue = Literal[
    "dropped-call", "audio-latency", "one-way-audio", "choppy-audio", "noisy-call", "echo"
]
#: Issues ``call.postFeedback`` accepts.
FEEDBACK_ISSUES: tuple[str, ...] = FeedbackIssue.__args__  # type: ignore[attr-defined]
SdkEventType = Literal["sample", "warning", "warning-cleared", "feedback", "preflight-report"]
#: Envelope ``type`` values.
SDK_EVENT_TYPES: tuple[str, ...] = SdkEventType.__args__  # type: ignore[attr-defined]

_Level = int | None
_Count = int | None


class SdkSampleTotals(WireModel):
    """``sample.totals``: cumulative counters since the call started."""

    bytes_received: _Count = Field(default=None, alias="bytesReceived", ge=0)
    bytes_sent: _Count = Field(default=None, alias="bytesSent", ge=0)
    packets_lost: _Count = Field(default=None, alias="packetsLost", ge=0)
    packets_lost_fraction: float | None = Field(
        default=None, alias="packetsLostFraction", ge=0, le=100
    )
    packets_received: _Count = Field(default=None, alias="packetsReceived", ge=0)
    packets_sent: _Count = Field(default=None, alias="packetsSent", ge=0)


class SdkSample(WireModel):
    """One per-second ``sample`` (RTCSample) as the Voice SDK emits it.

    ``packetsLostFraction`` is a percentage (0..100) of this second's inbound packets;
    ``timestamp`` is milliseconds since the epoch; ``jitter`` and ``rtt`` are in ms.
    """

    timestamp: EpochMs = Field(alias="timestamp")
    audio_input_level: _Level = Field(default=None, alias="audioInputLevel", ge=0, le=32767)
    audio_output_level: _Level = Field(default=None, alias="audioOutputLevel", ge=0, le=32767)
    bytes_received: _Count = Field(default=None, alias="bytesReceived", ge=0)
    bytes_sent: _Count = Field(default=None, alias="bytesSent", ge=0)
    packets_received: _Count = Field(default=None, alias="packetsReceived", ge=0)
    packets_sent: _Count = Field(default=None, alias="packetsSent", ge=0)
    packets_lost: _Count = Field(default=None, alias="packetsLost", ge=0)
    packets_lost_fraction: float | None = Field(
        default=None, alias="packetsLostFraction", ge=0, le=100
    )
    jitter: float | None = Field(default=None, alias="jitter", ge=0)
    rtt: float | None = Field(default=None, alias="rtt", ge=0)
    mos: float | None = Field(default=None, alias="mos", ge=0, le=5)
    codec_name: str | None = Field(default=None, alias="codecName")
    totals: SdkSampleTotals | None = Field(default=None, alias="totals")

    def unmodelled_paths(self, prefix: str) -> dict[str, Any]:
        """Unmodelled fields keyed by their wire path under ``prefix``."""
        out = {f"{prefix}{k}": v for k, v in self.unmodelled().items()}
        if self.totals is not None:
            out.update({f"{prefix}totals.{k}": v for k, v in self.totals.unmodelled().items()})
        return out


def sample_values(sample: SdkSample) -> dict[str, Any]:
    """The shared sample columns (``samples`` and ``probe_samples``) of one SDK sample."""
    t = sample.totals or SdkSampleTotals()
    return {
        "timestamp": sample.timestamp,
        "audio_input_level": sample.audio_input_level,
        "audio_output_level": sample.audio_output_level,
        "bytes_received": sample.bytes_received,
        "bytes_sent": sample.bytes_sent,
        "packets_received": sample.packets_received,
        "packets_sent": sample.packets_sent,
        "packets_lost": sample.packets_lost,
        "packets_lost_pct": sample.packets_lost_fraction,
        "jitter_ms": sample.jitter,
        "rtt_ms": sample.rtt,
        "mos": sample.mos,
        "codec_name": sample.codec_name,
        "total_bytes_received": t.bytes_received,
        "total_bytes_sent": t.bytes_sent,
        "total_packets_received": t.packets_received,
        "total_packets_sent": t.packets_sent,
        "total_packets_lost": t.packets_lost,
        "total_packets_lost_pct": t.packets_lost_fraction,
    }


class SdkThreshold(WireModel):
    """``warningData.threshold``: ``{name: "max" | "min" | "maxAverage" | ..., value}``."""

    name: str | None = None
    value: float | None = None


class SdkWarningData(WireModel):
    """``warningData``: the stat's ``name``, the ``threshold``, ``values`` and ``samples``."""

    name: str | None = None
    threshold: SdkThreshold | None = None
    values: list[Any] | None = None
    samples: list[dict[str, Any]] | None = None

    def newest_sample_time(self) -> datetime | None:
        """Timestamp of the newest sample in ``samples`` (None when there are none)."""
        newest: datetime | None = None
        for i, sample in enumerate(self.samples or []):
            try:
                ts = parse_epoch_ms(sample.get("timestamp"))
            except ValidationError as exc:
                raise ValidationError(str(exc), field=f"data.data.samples.{i}.timestamp") from None
            if ts is not None and (newest is None or ts > newest):
                newest = ts
        return newest


class SdkWarning(WireModel):
    """Envelope ``data`` of ``warning`` / ``warning-cleared``: ``{name, data: warningData}``."""

    name: str = Field(min_length=1)
    data: SdkWarningData | None = None


class SdkFeedback(WireModel):
    """Envelope ``data`` of ``feedback``: ``call.postFeedback(score, issue)``."""

    score: int | None = Field(default=None, ge=1, le=5)
    issue: FeedbackIssue | None = None


class _Timing(WireModel):
    start: float | None = None
    end: float | None = None
    duration: float | None = Field(default=None, ge=0)


class _NetworkTiming(WireModel):
    signaling: _Timing | None = None
    ice: _Timing | None = None
    dtls: _Timing | None = None
    peer_connection: _Timing | None = Field(default=None, alias="peerConnection")


class _Stat(WireModel):
    average: float | None = None
    max: float | None = None
    min: float | None = None


class _Stats(WireModel):
    jitter: _Stat | None = None
    mos: _Stat | None = None
    rtt: _Stat | None = None


class SdkPreflightReport(WireModel):
    """A ``PreflightTest`` report (the ``completed`` event's argument)."""

    call_sid: str = Field(alias="callSid", min_length=2)
    call_quality: str | None = Field(default=None, alias="callQuality")
    edge: str | None = None
    selected_edge: str | None = Field(default=None, alias="selectedEdge")
    ice_candidate_stats: list[Any] | None = Field(default=None, alias="iceCandidateStats")
    selected_ice_candidate_pair_stats: dict[str, Any] | None = Field(
        default=None, alias="selectedIceCandidatePairStats"
    )
    is_turn_required: bool | None = Field(default=None, alias="isTurnRequired")
    network_timing: _NetworkTiming | None = Field(default=None, alias="networkTiming")
    samples: list[SdkSample] | None = None
    stats: _Stats | None = None
    test_timing: _Timing | None = Field(default=None, alias="testTiming")
    totals: SdkSampleTotals | None = None
    warnings: list[Any] | None = None

    def rows(
        self,
        *,
        raw: dict[str, Any],
        source: str | None,
        received_at: datetime | None,
        envelope_extra: dict[str, Any],
    ) -> list[Row]:
        """One ``probe_runs`` row (run_id ``preflight:<callSid>``) and its ``probe_samples``."""
        run_id = "preflight:" + self.call_sid
        stats = self.stats or _Stats()
        nt = self.network_timing or _NetworkTiming()
        tt = self.test_timing or _Timing()

        def stat(s: _Stat | None, attr: str) -> float | None:
            return None if s is None else getattr(s, attr)

        def phase(t: _Timing | None) -> float | None:
            return None if t is None else t.duration

        codec = next((s.codec_name for s in self.samples or [] if s.codec_name), None)
        extra = {f"data.{k}": v for k, v in self.unmodelled().items()} | envelope_extra
        run = make_row(
            "probe_runs",
            {
                "run_id": run_id,
                "source": "twilio-preflight",
                "call_sid": self.call_sid,
                "target": self.edge,
                "started_at": parse_epoch_ms(tt.start, field="testTiming.start"),
                "ended_at": parse_epoch_ms(tt.end, field="testTiming.end"),
                "duration_s": None if tt.duration is None else tt.duration / 1000.0,
                "status": "ok",
                "codec_name": codec,
                "call_quality": self.call_quality,
                "mos_avg": stat(stats.mos, "average"),
                "mos_min": stat(stats.mos, "min"),
                "mos_max": stat(stats.mos, "max"),
                "jitter_avg_ms": stat(stats.jitter, "average"),
                "jitter_min_ms": stat(stats.jitter, "min"),
                "jitter_max_ms": stat(stats.jitter, "max"),
                "rtt_avg_ms": stat(stats.rtt, "average"),
                "rtt_min_ms": stat(stats.rtt, "min"),
                "rtt_max_ms": stat(stats.rtt, "max"),
                "loss_pct": None if self.totals is None else self.totals.packets_lost_fraction,
                "signaling_ms": phase(nt.signaling),
                "ice_ms": phase(nt.ice),
                "dtls_ms": phase(nt.dtls),
                "peer_connection_ms": phase(nt.peer_connection),
                "is_turn_required": self.is_turn_required,
                "report": dumps(raw),
                "received_at": received_at,
                "ingest_source": source,
                "extra": extra_json(extra),
            },
        )
        rows = [run]
        for sample in self.samples or []:
            rows.append(make_row("probe_samples", {"run_id": run_id, **sample_values(sample)}))
        return rows


class SdkEnvelope(WireModel):
    """The voiceinsights envelope around an SDK event."""

    type: SdkEventType
    call_sid: str | None = Field(default=None, min_length=2)
    data: Any = None
    identity: str | None = None
    received_at: Timestamp = None


_KIND_OF_TYPE = {
    "sample": "sdk-sample",
    "warning": "sdk-warning",
    "warning-cleared": "sdk-warning-cleared",
    "feedback": "sdk-feedback",
    "preflight-report": "preflight-report",
}


def parse_envelope(
    obj: dict[str, Any],
    *,
    kind: str,
    source: str | None,
    received_at: datetime | None,
) -> list[Row]:
    """Canonical rows of one SDK envelope (``kind`` is the detected or given kind).

    ``received_at`` given by the caller wins over the envelope's own ``received_at``.
    """
    env = validate(SdkEnvelope, obj, kind=kind)
    if _KIND_OF_TYPE[env.type] != kind:
        raise ValidationError(
            f"{kind}: envelope type {env.type!r} is a {_KIND_OF_TYPE[env.type]} record",
            field="type",
            kind=kind,
        )
    received = received_at or env.received_at
    env_extra = dict(env.unmodelled())
    if env.type == "preflight-report":
        report = validate(SdkPreflightReport, env.data, kind=kind, prefix="data")
        if env.call_sid and env.call_sid != report.call_sid:
            env_extra["call_sid"] = env.call_sid
        return report.rows(
            raw=env.data, source=source, received_at=received, envelope_extra=env_extra
        )
    if not env.call_sid:
        raise ValidationError(
            f"{kind}: required field 'call_sid' is missing", field="call_sid", kind=kind
        )
    base = {
        "call_sid": env.call_sid,
        "identity": env.identity,
        "received_at": received,
        "ingest_source": source,
    }
    if env.type == "sample":
        sample = validate(SdkSample, env.data, kind=kind, prefix="data")
        if sample.timestamp is None:
            raise ValidationError(
                f"{kind}: field 'data.timestamp' must not be null",
                field="data.timestamp",
                kind=kind,
            )
        extra = sample.unmodelled_paths("data.") | env_extra
        return [make_row("samples", base | sample_values(sample) | {"extra": extra_json(extra)})]
    if env.type == "feedback":
        fb = validate(
            SdkFeedback, env.data if env.data is not None else {}, kind=kind, prefix="data"
        )
        extra = {f"data.{k}": v for k, v in fb.unmodelled().items()} | env_extra
        return [
            make_row(
                "feedback",
                base | {"score": fb.score, "issue": fb.issue, "extra": extra_json(extra)},
            )
        ]
    warning = validate(SdkWarning, env.data, kind=kind, prefix="data")
    wd = warning.data
    timestamp = wd.newest_sample_time() if wd is not None else None
    if timestamp is None:
        timestamp = received
    if timestamp is None:
        raise ValidationError(
            f"{kind}: no time for the warning: data.data.samples has no timestamp and the "
            "envelope has no received_at",
            field="received_at",
            kind=kind,
        )
    extra = {f"data.{k}": v for k, v in warning.unmodelled().items()} | env_extra
    if wd is not None:
        extra |= {f"data.data.{k}": v for k, v in wd.unmodelled().items()}
        extra["data.data.name"] = wd.name
        extra["data.data.samples"] = wd.samples
        if wd.threshold is not None:
            extra |= {f"data.data.threshold.{k}": v for k, v in wd.threshold.unmodelled().items()}
    threshold = wd.threshold if wd is not None else None
    return [
        make_row(
            "warnings",
            base
            | {
                "timestamp": timestamp,
                "name": warning.name,
                "event": "raised" if env.type == "warning" else "cleared",
                "threshold_name": None if threshold is None else threshold.name,
                "threshold_value": None if threshold is None else threshold.value,
                "values": None if wd is None or wd.values is None else dumps(wd.values),
                "extra": extra_json(extra),
            },
        )
    ]

"""Canonical tables and columns: the one place their names, types and units are defined.

Wire models produce records with these column names; the store creates its tables from
these definitions; the Parquet layout, the analysis functions and ``docs/nomenclature.md``
all follow them (a test keeps the document in step with this module).

Column names are snake_case and carry their unit where they have one: ``_ms``
(milliseconds), ``_s`` (seconds), ``_pct`` (percent, 0..100), ``_bytes``. Timestamps are
``TIMESTAMPTZ`` in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["SCHEMA_VERSION", "TABLES", "VIEWS", "Column", "Table", "get_table"]

#: Version of the store schema this release writes. Bump it with a migration.
SCHEMA_VERSION = 3


@dataclass(frozen=True)
class Column:
    """One column: its DuckDB type, unit and the wire field it comes from."""

    name: str
    type: str
    doc: str
    unit: str = ""
    source: str = ""


@dataclass(frozen=True)
class Table:
    """A canonical table.

    ``key`` lists the natural-key columns that make ingestion idempotent; ``time_column``
    is the column Parquet exports partition by (as ``date=YYYY-MM-DD``).
    """

    name: str
    doc: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    time_column: str | None
    extra: bool = True
    column_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        names = tuple(c.name for c in self.columns)
        object.__setattr__(self, "column_names", names)
        missing = [k for k in self.key if k not in names]
        if missing:  # pragma: no cover - a programming error caught at import
            raise ValueError(f"{self.name}: key columns {missing} are not columns")

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


def _c(name: str, type_: str, doc: str, unit: str = "", source: str = "") -> Column:
    return Column(name, type_, doc, unit, source)


_RECEIVED = _c("received_at", "TIMESTAMPTZ", "When voiceinsights received the record", "UTC")
_INGEST = _c(
    "ingest_source",
    "VARCHAR",
    "Where the record came from: file path, collector endpoint or API resource",
)
_EXTRA = _c("extra", "JSON", "Wire fields not modelled as columns, kept verbatim")

# The per-second SDK sample fields, shared by `samples` and `probe_samples`.
_SAMPLE_FIELDS: tuple[Column, ...] = (
    _c("timestamp", "TIMESTAMPTZ", "Sample time", "UTC", "timestamp (ms epoch)"),
    _c("audio_input_level", "INTEGER", "Microphone level", "0..32767", "audioInputLevel"),
    _c("audio_output_level", "INTEGER", "Speaker level", "0..32767", "audioOutputLevel"),
    _c("bytes_received", "BIGINT", "Bytes received this second", "bytes", "bytesReceived"),
    _c("bytes_sent", "BIGINT", "Bytes sent this second", "bytes", "bytesSent"),
    _c("packets_received", "BIGINT", "Packets received this second", "packets", "packetsReceived"),
    _c("packets_sent", "BIGINT", "Packets sent this second", "packets", "packetsSent"),
    _c("packets_lost", "BIGINT", "Inbound packets lost this second", "packets", "packetsLost"),
    _c(
        "packets_lost_pct",
        "DOUBLE",
        "Inbound loss this second",
        "%",
        "packetsLostFraction (a percentage despite its name)",
    ),
    _c("jitter_ms", "DOUBLE", "Inbound interarrival jitter", "ms", "jitter"),
    _c("rtt_ms", "DOUBLE", "Round-trip time (carried forward when missing)", "ms", "rtt"),
    _c(
        "mos",
        "DOUBLE",
        "MOS by the Voice SDK formula; null on a call's first sample",
        "1..4.5",
        "mos",
    ),
    _c("codec_name", "VARCHAR", "Audio codec (opus, pcmu)", "", "codecName"),
    _c(
        "total_bytes_received",
        "BIGINT",
        "Cumulative bytes received",
        "bytes",
        "totals.bytesReceived",
    ),
    _c("total_bytes_sent", "BIGINT", "Cumulative bytes sent", "bytes", "totals.bytesSent"),
    _c(
        "total_packets_received",
        "BIGINT",
        "Cumulative packets received",
        "packets",
        "totals.packetsReceived",
    ),
    _c("total_packets_sent", "BIGINT", "Cumulative packets sent", "packets", "totals.packetsSent"),
    _c(
        "total_packets_lost",
        "BIGINT",
        "Cumulative inbound packets lost",
        "packets",
        "totals.packetsLost",
    ),
    _c(
        "total_packets_lost_pct",
        "DOUBLE",
        "Cumulative inbound loss (100 before any packet)",
        "%",
        "totals.packetsLostFraction",
    ),
)

_EDGE_METRICS: tuple[Column, ...] = tuple(
    col
    for d in ("inbound", "outbound")
    for col in (
        _c(
            f"{d}_codec",
            "VARCHAR",
            f"Codec on the {d} stream of metrics_edge",
            "",
            f"<edge>.metrics.{d}.codec_name",
        ),
        _c(
            f"{d}_jitter_avg_ms",
            "DOUBLE",
            f"Average {d} jitter",
            "ms",
            f"<edge>.metrics.{d}.jitter.avg",
        ),
        _c(
            f"{d}_jitter_max_ms",
            "DOUBLE",
            f"Maximum {d} jitter",
            "ms",
            f"<edge>.metrics.{d}.jitter.max",
        ),
        _c(
            f"{d}_packets_received",
            "BIGINT",
            f"{d} packets received",
            "packets",
            f"<edge>.metrics.{d}.packets_received",
        ),
        _c(
            f"{d}_packets_lost",
            "BIGINT",
            f"{d} packets lost",
            "packets",
            f"<edge>.metrics.{d}.packets_lost",
        ),
        _c(
            f"{d}_loss_pct",
            "DOUBLE",
            f"{d} packet loss",
            "%",
            f"<edge>.metrics.{d}.packets_loss_percentage",
        ),
    )
)

TABLES: tuple[Table, ...] = (
    Table(
        "call_events",
        "Status-callback events of call legs (call progress, <Dial> and SIP legs), one row "
        "per delivery after de-duplication.",
        (
            _c("call_sid", "VARCHAR", "The leg this event is about", "", "CallSid"),
            _c(
                "parent_call_sid",
                "VARCHAR",
                "Parent leg when this leg was created by <Dial>",
                "",
                "ParentCallSid",
            ),
            _c("account_sid", "VARCHAR", "Account", "", "AccountSid"),
            _c("callback_source", "VARCHAR", "Callback family", "", "CallbackSource"),
            _c(
                "sequence_number",
                "INTEGER",
                "Order of the event within the leg (from 0)",
                "",
                "SequenceNumber",
            ),
            _c(
                "timestamp", "TIMESTAMPTZ", "When the event happened", "UTC", "Timestamp (RFC 2822)"
            ),
            _c("call_status", "VARCHAR", "Leg status after the event", "", "CallStatus"),
            _c(
                "direction",
                "VARCHAR",
                "inbound, outbound-api, outbound-dial, trunking-*",
                "",
                "Direction",
            ),
            _c("from_address", "VARCHAR", "Caller (E.164, client:ID or sip: URI)", "", "From"),
            _c("to_address", "VARCHAR", "Callee (E.164, client:ID or sip: URI)", "", "To"),
            _c("call_duration_s", "DOUBLE", "Leg duration on completion", "s", "CallDuration"),
            _c("billed_duration_min", "INTEGER", "Billed duration", "min", "Duration"),
            _c("sip_response_code", "INTEGER", "Final SIP response code", "", "SipResponseCode"),
            _c("sip_call_id", "VARCHAR", "SIP Call-ID of a SIP leg", "", "SipCallId"),
            _c("answered_by", "VARCHAR", "AMD result", "", "AnsweredBy"),
            _c("forwarded_from", "VARCHAR", "Forwarding number", "", "ForwardedFrom"),
            _c("caller_name", "VARCHAR", "CNAM", "", "CallerName"),
            _c("recording_sid", "VARCHAR", "Recording of the leg", "", "RecordingSid"),
            _c("recording_duration_s", "DOUBLE", "Recording length", "s", "RecordingDuration"),
            _RECEIVED,
            _INGEST,
            _EXTRA,
        ),
        key=("call_sid", "callback_source", "sequence_number", "call_status"),
        time_column="timestamp",
    ),
    Table(
        "rest_calls",
        "Call resources read from the Calls REST API (latest version of each).",
        (
            _c("call_sid", "VARCHAR", "Leg", "", "sid"),
            _c("parent_call_sid", "VARCHAR", "Parent leg", "", "parent_call_sid"),
            _c("account_sid", "VARCHAR", "Account", "", "account_sid"),
            _c("from_address", "VARCHAR", "Caller", "", "from"),
            _c("to_address", "VARCHAR", "Callee", "", "to"),
            _c("status", "VARCHAR", "Leg status", "", "status"),
            _c("direction", "VARCHAR", "Direction", "", "direction"),
            _c("start_time", "TIMESTAMPTZ", "Answer/start time", "UTC", "start_time"),
            _c("end_time", "TIMESTAMPTZ", "End time", "UTC", "end_time"),
            _c("duration_s", "DOUBLE", "Duration", "s", "duration"),
            _c("price", "DOUBLE", "Price (negative is a charge)", "price_unit", "price"),
            _c("price_unit", "VARCHAR", "Currency", "", "price_unit"),
            _c("answered_by", "VARCHAR", "AMD result", "", "answered_by"),
            _c("forwarded_from", "VARCHAR", "Forwarding number", "", "forwarded_from"),
            _c("caller_name", "VARCHAR", "CNAM", "", "caller_name"),
            _c("queue_time_ms", "DOUBLE", "Time queued before dialing", "ms", "queue_time"),
            _c("trunk_sid", "VARCHAR", "Elastic SIP trunk", "", "trunk_sid"),
            _c("date_created", "TIMESTAMPTZ", "Resource creation", "UTC", "date_created"),
            _c("date_updated", "TIMESTAMPTZ", "Last update (newest wins)", "UTC", "date_updated"),
            _RECEIVED,
            _INGEST,
            _EXTRA,
        ),
        key=("call_sid",),
        time_column="date_created",
    ),
    Table(
        "conference_events",
        "Conference status callbacks.",
        (
            _c("conference_sid", "VARCHAR", "Conference", "", "ConferenceSid"),
            _c("friendly_name", "VARCHAR", "Conference name", "", "FriendlyName"),
            _c("account_sid", "VARCHAR", "Account", "", "AccountSid"),
            _c("sequence_number", "INTEGER", "Order within the conference", "", "SequenceNumber"),
            _c("timestamp", "TIMESTAMPTZ", "When it happened", "UTC", "Timestamp"),
            _c(
                "event",
                "VARCHAR",
                "conference-start, participant-join, ...",
                "",
                "StatusCallbackEvent",
            ),
            _c("call_sid", "VARCHAR", "Participant leg", "", "CallSid"),
            _c("muted", "BOOLEAN", "Participant muted", "", "Muted"),
            _c("hold", "BOOLEAN", "Participant on hold", "", "Hold"),
            _c("coaching", "BOOLEAN", "Participant is coaching", "", "Coaching"),
            _c("end_conference_on_exit", "BOOLEAN", "", "", "EndConferenceOnExit"),
            _c("start_conference_on_enter", "BOOLEAN", "", "", "StartConferenceOnEnter"),
            _c("participant_label", "VARCHAR", "", "", "ParticipantLabel"),
            _c(
                "participant_call_status",
                "VARCHAR",
                "On participant-leave",
                "",
                "ParticipantCallStatus",
            ),
            _c("reason_participant_left", "VARCHAR", "", "", "ReasonParticipantLeft"),
            _c(
                "call_sid_ending_conference",
                "VARCHAR",
                "On conference-end",
                "",
                "CallSidEndingConference",
            ),
            _c(
                "reason_conference_ended",
                "VARCHAR",
                "On conference-end",
                "",
                "ReasonConferenceEnded",
            ),
            _RECEIVED,
            _INGEST,
            _EXTRA,
        ),
        key=("conference_sid", "sequence_number", "event"),
        time_column="timestamp",
    ),
    Table(
        "recordings",
        "Recording status callbacks.",
        (
            _c("recording_sid", "VARCHAR", "Recording", "", "RecordingSid"),
            _c("call_sid", "VARCHAR", "Recorded leg", "", "CallSid"),
            _c("conference_sid", "VARCHAR", "Recorded conference", "", "ConferenceSid"),
            _c("account_sid", "VARCHAR", "Account", "", "AccountSid"),
            _c(
                "recording_status",
                "VARCHAR",
                "in-progress, completed, absent",
                "",
                "RecordingStatus",
            ),
            _c("recording_url", "VARCHAR", "Media URL", "", "RecordingUrl"),
            _c("recording_duration_s", "DOUBLE", "Length", "s", "RecordingDuration"),
            _c("recording_channels", "INTEGER", "1 or 2", "", "RecordingChannels"),
            _c("recording_start_time", "TIMESTAMPTZ", "Start", "UTC", "RecordingStartTime"),
            _c("recording_source", "VARCHAR", "DialVerb, RecordVerb, ...", "", "RecordingSource"),
            _c("recording_track", "VARCHAR", "inbound, outbound, both", "", "RecordingTrack"),
            _c("error_code", "INTEGER", "Twilio error code", "", "ErrorCode"),
            _RECEIVED,
            _INGEST,
            _EXTRA,
        ),
        key=("recording_sid", "recording_status"),
        time_column="recording_start_time",
    ),
    Table(
        "samples",
        "Voice SDK per-second `sample` events forwarded from browsers and apps.",
        (
            _c("call_sid", "VARCHAR", "SDK-side CallSid", "", "envelope call_sid"),
            _c("identity", "VARCHAR", "Client identity", "", "envelope identity / token"),
            *_SAMPLE_FIELDS,
            _RECEIVED,
            _INGEST,
            _EXTRA,
        ),
        key=("call_sid", "timestamp"),
        time_column="timestamp",
    ),
    Table(
        "warnings",
        "Voice SDK `warning` and `warning-cleared` events.",
        (
            _c("call_sid", "VARCHAR", "SDK-side CallSid", "", "envelope call_sid"),
            _c("identity", "VARCHAR", "Client identity", "", "envelope identity"),
            _c(
                "timestamp",
                "TIMESTAMPTZ",
                "When raised/cleared: the newest sample in warningData.samples, else received_at",
                "UTC",
                "data.data.samples[-1]",
            ),
            _c("name", "VARCHAR", "high-rtt, high-jitter, low-mos, ...", "", "data.name"),
            _c("event", "VARCHAR", "raised or cleared", "", "envelope type"),
            _c(
                "threshold_name",
                "VARCHAR",
                "max, min, maxAverage, ...",
                "",
                "data.data.threshold.name",
            ),
            _c(
                "threshold_value",
                "DOUBLE",
                "Threshold crossed (unit of the stat)",
                "",
                "data.data.threshold.value",
            ),
            _c("values", "JSON", "The stat's values in the window", "", "data.data.values"),
            _RECEIVED,
            _INGEST,
            _EXTRA,
        ),
        key=("call_sid", "name", "event", "timestamp"),
        time_column="timestamp",
    ),
    Table(
        "feedback",
        "Call feedback posted with `call.postFeedback(score, issue)`.",
        (
            _c("call_sid", "VARCHAR", "SDK-side CallSid", "", "envelope call_sid"),
            _c("identity", "VARCHAR", "Client identity", "", "envelope identity"),
            _c("score", "INTEGER", "1..5, null when declined", "1..5", "data.score"),
            _c(
                "issue",
                "VARCHAR",
                "dropped-call, audio-latency, one-way-audio, ...",
                "",
                "data.issue",
            ),
            _RECEIVED,
            _INGEST,
            _EXTRA,
        ),
        key=("call_sid",),
        time_column="received_at",
    ),
    Table(
        "probe_runs",
        "Preflight-style test calls: our aiortc probe and forwarded Twilio PreflightTest "
        "reports, failed runs included.",
        (
            _c("run_id", "VARCHAR", "Probe run id ('preflight:' + CallSid for SDK reports)"),
            _c("source", "VARCHAR", "voiceinsights-probe or twilio-preflight"),
            _c("call_sid", "VARCHAR", "CallSid of a PreflightTest", "", "callSid"),
            _c("target", "VARCHAR", "Echo endpoint URL or Twilio edge", "", "edge"),
            _c("label", "VARCHAR", "User label for grouping runs"),
            _c("started_at", "TIMESTAMPTZ", "Test start", "UTC", "testTiming.start"),
            _c("ended_at", "TIMESTAMPTZ", "Test end", "UTC", "testTiming.end"),
            _c("duration_s", "DOUBLE", "Test length", "s", "testTiming.duration"),
            _c("status", "VARCHAR", "ok or failed"),
            _c("failed_phase", "VARCHAR", "signaling, ice, dtls, media, teardown"),
            _c("error", "VARCHAR", "Why it failed"),
            _c("codec_name", "VARCHAR", "opus or pcmu"),
            _c(
                "call_quality",
                "VARCHAR",
                "excellent, great, good, fair, degraded",
                "",
                "callQuality",
            ),
            _c("mos_avg", "DOUBLE", "Mean SDK MOS", "1..4.5", "stats.mos.average"),
            _c("mos_min", "DOUBLE", "Minimum SDK MOS", "1..4.5", "stats.mos.min"),
            _c("mos_max", "DOUBLE", "Maximum SDK MOS", "1..4.5", "stats.mos.max"),
            _c("jitter_avg_ms", "DOUBLE", "Mean jitter", "ms", "stats.jitter.average"),
            _c("jitter_min_ms", "DOUBLE", "Minimum jitter", "ms", "stats.jitter.min"),
            _c("jitter_max_ms", "DOUBLE", "Maximum jitter", "ms", "stats.jitter.max"),
            _c("rtt_avg_ms", "DOUBLE", "Mean RTT", "ms", "stats.rtt.average"),
            _c("rtt_min_ms", "DOUBLE", "Minimum RTT", "ms", "stats.rtt.min"),
            _c("rtt_max_ms", "DOUBLE", "Maximum RTT", "ms", "stats.rtt.max"),
            _c(
                "loss_pct",
                "DOUBLE",
                "Inbound loss over the test",
                "%",
                "totals.packetsLostFraction",
            ),
            _c("signaling_ms", "DOUBLE", "Signaling phase", "ms", "networkTiming.signaling"),
            _c("ice_ms", "DOUBLE", "ICE phase", "ms", "networkTiming.ice"),
            _c("dtls_ms", "DOUBLE", "DTLS phase", "ms", "networkTiming.dtls"),
            _c(
                "peer_connection_ms",
                "DOUBLE",
                "Peer connection setup",
                "ms",
                "networkTiming.peerConnection",
            ),
            _c("first_media_ms", "DOUBLE", "Offer to first echoed audio", "ms"),
            _c("audio_rtt_ms", "DOUBLE", "Round trip measured on the audio itself", "ms"),
            _c("rfc3550_jitter_ms", "DOUBLE", "Mean RFC 3550 jitter from arrival times", "ms"),
            _c("rfc3550_loss_pct", "DOUBLE", "Loss from RTP sequence numbers", "%"),
            _c("effective_loss_pct", "DOUBLE", "Loss after jitter-buffer simulation", "%"),
            _c("effective_mos", "DOUBLE", "E-model MOS after jitter-buffer simulation", "1..4.5"),
            _c("pesq_mos", "DOUBLE", "PESQ MOS-LQO on the rebuilt playout", "1..4.5"),
            _c("is_turn_required", "BOOLEAN", "Relay candidate selected", "", "isTurnRequired"),
            _c("report", "JSON", "The whole report as produced or forwarded"),
            _RECEIVED,
            _INGEST,
            _EXTRA,
        ),
        key=("run_id",),
        time_column="started_at",
    ),
    Table(
        "probe_samples",
        "Per-second samples of probe runs, with the SDK sample fields.",
        (
            _c("run_id", "VARCHAR", "Probe run"),
            *_SAMPLE_FIELDS,
        ),
        key=("run_id", "timestamp"),
        time_column="timestamp",
        extra=False,
    ),
    Table(
        "insights_summaries",
        "Voice Insights call summaries (the most complete processing state wins).",
        (
            _c("call_sid", "VARCHAR", "Leg", "", "call_sid"),
            _c("account_sid", "VARCHAR", "Account", "", "account_sid"),
            _c("call_type", "VARCHAR", "carrier, sip, trunking, client, whatsapp", "", "call_type"),
            _c("call_state", "VARCHAR", "completed, busy, fail, noanswer, ...", "", "call_state"),
            _c("direction", "VARCHAR", "Direction", "", "properties.direction"),
            _c("answered_by", "VARCHAR", "AMD result", "", "answered_by"),
            _c("processing_state", "VARCHAR", "partial or complete", "", "processing_state"),
            _c("created_time", "TIMESTAMPTZ", "Created", "UTC", "created_time"),
            _c("start_time", "TIMESTAMPTZ", "Start", "UTC", "start_time"),
            _c("end_time", "TIMESTAMPTZ", "End", "UTC", "end_time"),
            _c("duration_s", "DOUBLE", "Duration", "s", "duration"),
            _c("connect_duration_s", "DOUBLE", "Connected duration", "s", "connect_duration"),
            _c("from_address", "VARCHAR", "Caller", "", "from.caller"),
            _c("to_address", "VARCHAR", "Callee", "", "to.callee"),
            _c("tags", "VARCHAR[]", "Insights tags", "", "tags"),
            _c("disconnected_by", "VARCHAR", "caller or callee", "", "properties.disconnected_by"),
            _c("pdd_ms", "DOUBLE", "Post-dial delay", "ms", "properties.pdd_ms"),
            _c(
                "last_sip_response_num",
                "INTEGER",
                "Last SIP response",
                "",
                "properties.last_sip_response_num",
            ),
            _c("q850_cause", "INTEGER", "Q.850 cause", "", "properties.q850_cause"),
            _c("media_region", "VARCHAR", "Media region", "", "properties.media_region"),
            _c(
                "signaling_region", "VARCHAR", "Signaling region", "", "properties.signaling_region"
            ),
            _c(
                "metrics_edge",
                "VARCHAR",
                "Edge the flattened metrics come from (first of "
                "sdk_edge, client_edge, sip_edge, carrier_edge present)",
            ),
            *_EDGE_METRICS,
            _c("edges", "JSON", "carrier_edge, client_edge, sdk_edge, sip_edge verbatim"),
            _c("annotation", "JSON", "Annotation object", "", "annotation"),
            _RECEIVED,
            _INGEST,
            _EXTRA,
        ),
        key=("call_sid",),
        time_column="start_time",
    ),
    Table(
        "insights_events",
        "Voice Insights call events.",
        (
            _c("call_sid", "VARCHAR", "Leg", "", "call_sid"),
            _c("account_sid", "VARCHAR", "Account", "", "account_sid"),
            _c("timestamp", "TIMESTAMPTZ", "Event time", "UTC", "timestamp"),
            _c("edge", "VARCHAR", "carrier_edge, sip_edge, sdk_edge, client_edge", "", "edge"),
            _c("event_group", "VARCHAR", "Event group", "", "group"),
            _c("level", "VARCHAR", "DEBUG, INFO, WARNING, ERROR", "", "level"),
            _c("name", "VARCHAR", "Event name", "", "name"),
            _c("edge_data", "JSON", "The edge object of the event verbatim", "", "<edge>"),
            _RECEIVED,
            _INGEST,
            _EXTRA,
        ),
        key=("call_sid", "timestamp", "edge", "name"),
        time_column="timestamp",
    ),
    Table(
        "insights_metrics",
        "Voice Insights call metrics (10 s intervals).",
        (
            _c("call_sid", "VARCHAR", "Leg", "", "call_sid"),
            _c("account_sid", "VARCHAR", "Account", "", "account_sid"),
            _c("timestamp", "TIMESTAMPTZ", "Interval end", "UTC", "timestamp"),
            _c("edge", "VARCHAR", "Edge", "", "edge"),
            _c("direction", "VARCHAR", "inbound, outbound, both", "", "direction"),
            _c(
                "packets_received",
                "BIGINT",
                "Packets received in the interval",
                "packets",
                "<edge>.interval.packets_received",
            ),
            _c(
                "packets_lost",
                "BIGINT",
                "Packets lost in the interval",
                "packets",
                "<edge>.interval.packets_lost",
            ),
            _c("jitter_ms", "DOUBLE", "Jitter", "ms", "<edge>.interval.jitter.value"),
            _c("rtt_ms", "DOUBLE", "Round-trip time", "ms", "<edge>.interval.rtt.value"),
            _c("mos", "DOUBLE", "MOS", "1..4.5", "<edge>.interval.mos.value"),
            _c(
                "audio_in_level",
                "DOUBLE",
                "Input level",
                "0..32767",
                "<edge>.interval.audio_in.value",
            ),
            _c(
                "audio_out_level",
                "DOUBLE",
                "Output level",
                "0..32767",
                "<edge>.interval.audio_out.value",
            ),
            _c("edge_data", "JSON", "The edge object verbatim (cumulative included)", "", "<edge>"),
            _RECEIVED,
            _INGEST,
            _EXTRA,
        ),
        key=("call_sid", "timestamp", "edge", "direction"),
        time_column="timestamp",
    ),
    Table(
        "insights_conferences",
        "Voice Insights conference summaries (complete ones), pulled from /v1/Conferences.",
        (
            _c("conference_sid", "VARCHAR", "Conference", "", "conference_sid"),
            _c("account_sid", "VARCHAR", "Account", "", "account_sid"),
            _c("friendly_name", "VARCHAR", "Conference name", "", "friendly_name"),
            _c("status", "VARCHAR", "completed, in_progress, ...", "", "status"),
            _c("create_time", "TIMESTAMPTZ", "Created", "UTC", "create_time"),
            _c("start_time", "TIMESTAMPTZ", "Started (two participants in)", "UTC", "start_time"),
            _c("end_time", "TIMESTAMPTZ", "Ended", "UTC", "end_time"),
            _c("duration_s", "DOUBLE", "Create to end", "s", "duration_seconds"),
            _c("connect_duration_s", "DOUBLE", "Start to end", "s", "connect_duration_seconds"),
            _c("max_participants", "INTEGER", "Participant limit", "", "max_participants"),
            _c(
                "max_concurrent_participants",
                "INTEGER",
                "Most participants at once",
                "",
                "max_concurrent_participants",
            ),
            _c(
                "unique_participants", "INTEGER", "Distinct participants", "", "unique_participants"
            ),
            _c("end_reason", "VARCHAR", "Why it ended", "", "end_reason"),
            _c("ended_by", "VARCHAR", "CallSid that ended it", "", "ended_by"),
            _c("mixer_region", "VARCHAR", "Region that mixed the media", "", "mixer_region"),
            _c(
                "mixer_region_requested",
                "VARCHAR",
                "Region asked for",
                "",
                "mixer_region_requested",
            ),
            _c("recording_enabled", "BOOLEAN", "Recorded", "", "recording_enabled"),
            _c("tags", "VARCHAR[]", "Insights tags", "", "tags"),
            _c("detected_issues", "JSON", "Issue counts by category", "", "detected_issues"),
            _c(
                "processing_state",
                "VARCHAR",
                "complete (partial ones are not stored)",
                "",
                "processing_state",
            ),
            _RECEIVED,
            _INGEST,
            _EXTRA,
        ),
        key=("conference_sid",),
        time_column="create_time",
    ),
    Table(
        "insights_participants",
        "Voice Insights conference participant summaries (complete ones).",
        (
            _c("participant_sid", "VARCHAR", "Participant", "", "participant_sid"),
            _c("conference_sid", "VARCHAR", "Conference", "", "conference_sid"),
            _c("call_sid", "VARCHAR", "The participant's call leg", "", "call_sid"),
            _c("account_sid", "VARCHAR", "Account", "", "account_sid"),
            _c("label", "VARCHAR", "Participant label", "", "label"),
            _c("call_direction", "VARCHAR", "inbound or outbound", "", "call_direction"),
            _c("from_address", "VARCHAR", "Caller", "", "from"),
            _c("to_address", "VARCHAR", "Callee", "", "to"),
            _c("call_status", "VARCHAR", "Leg status", "", "call_status"),
            _c("call_type", "VARCHAR", "carrier, client, sip", "", "call_type"),
            _c("country_code", "VARCHAR", "Country of the participant", "", "country_code"),
            _c("is_moderator", "BOOLEAN", "Started the conference on enter", "", "is_moderator"),
            _c("is_coach", "BOOLEAN", "Coaching another participant", "", "is_coach"),
            _c("join_time", "TIMESTAMPTZ", "Joined", "UTC", "join_time"),
            _c("leave_time", "TIMESTAMPTZ", "Left", "UTC", "leave_time"),
            _c("duration_s", "DOUBLE", "Time in the conference", "s", "duration_seconds"),
            _c(
                "outbound_queue_length",
                "INTEGER",
                "Queue length when dialled out",
                "",
                "outbound_queue_length",
            ),
            _c(
                "outbound_time_in_queue_s",
                "DOUBLE",
                "Time queued before dialling out",
                "s",
                "outbound_time_in_queue",
            ),
            _c("jitter_buffer_size", "VARCHAR", "Jitter buffer setting", "", "jitter_buffer_size"),
            _c(
                "participant_region",
                "VARCHAR",
                "Region of the participant's media",
                "",
                "participant_region",
            ),
            _c("conference_region", "VARCHAR", "Region of the conference", "", "conference_region"),
            _c(
                "processing_state",
                "VARCHAR",
                "complete (partial ones are not stored)",
                "",
                "processing_state",
            ),
            _c("properties", "JSON", "Properties object verbatim", "", "properties"),
            _c("events", "JSON", "Participant event counts verbatim", "", "events"),
            _c("metrics", "JSON", "Participant quality metrics verbatim", "", "metrics"),
            _RECEIVED,
            _INGEST,
            _EXTRA,
        ),
        key=("participant_sid",),
        time_column="join_time",
    ),
    Table(
        "cloudevents",
        "Log of Event Streams CloudEvents received (their data lands in the typed tables).",
        (
            _c("id", "VARCHAR", "CloudEvent id", "", "id"),
            _c("type", "VARCHAR", "CloudEvent type", "", "type"),
            _c("source", "VARCHAR", "CloudEvent source", "", "source"),
            _c("time", "TIMESTAMPTZ", "Event time", "UTC", "time"),
            _c("dataschema", "VARCHAR", "Data schema URL", "", "dataschema"),
            _c("target_table", "VARCHAR", "Table the data went to"),
            _RECEIVED,
            _INGEST,
            _c(
                "extra",
                "JSON",
                "Envelope fields not modelled, and the data of types with "
                "no typed table (conference summaries), kept verbatim",
            ),
        ),
        key=("id",),
        time_column="time",
    ),
    Table(
        "rejected",
        "Records that could not be stored, with the reason; nothing is dropped silently.",
        (
            _c("ingest_source", "VARCHAR", "File path or endpoint"),
            _c("line", "BIGINT", "1-based line (JSON Lines, CSV) or record index"),
            _c("kind", "VARCHAR", "Detected kind, if any"),
            _c("field", "VARCHAR", "Offending field (wire name)"),
            _c("reason", "VARCHAR", "What is wrong"),
            _c("raw", "VARCHAR", "The record as received (truncated to 64 KiB)"),
            _c("rejected_at", "TIMESTAMPTZ", "When it was rejected", "UTC"),
        ),
        key=("ingest_source", "line", "field", "reason"),
        time_column="rejected_at",
        extra=False,
    ),
)

#: Views the store defines over the tables. ``calls`` merges every source of a leg: REST
#: rows win over Insights summaries, which win over status callbacks; a leg's callback
#: status is the one of its highest sequence number (terminal statuses outrank others).
VIEWS: tuple[Table, ...] = (
    Table(
        "calls",
        "One row per call leg, merged from status callbacks, Calls REST rows and Insights "
        "summaries.",
        (
            _c("call_sid", "VARCHAR", "Leg"),
            _c("parent_call_sid", "VARCHAR", "Parent leg (null for a root leg)"),
            _c("account_sid", "VARCHAR", "Account"),
            _c("direction", "VARCHAR", "inbound, outbound-api, outbound-dial, trunking-*"),
            _c("status", "VARCHAR", "Final (or latest known) status"),
            _c("from_address", "VARCHAR", "Caller"),
            _c("to_address", "VARCHAR", "Callee"),
            _c(
                "call_type",
                "VARCHAR",
                "carrier, sip, client, trunking (summary, else inferred from the addresses)",
            ),
            _c("start_time", "TIMESTAMPTZ", "Start (REST/summary, else first callback)", "UTC"),
            _c("end_time", "TIMESTAMPTZ", "End (REST/summary, else completion callback)", "UTC"),
            _c("duration_s", "DOUBLE", "Duration", "s"),
            _c("answered_by", "VARCHAR", "AMD result"),
            _c("sip_response_code", "INTEGER", "Final SIP response code"),
            _c("sip_call_id", "VARCHAR", "SIP Call-ID"),
            _c("price", "DOUBLE", "Price", "price_unit"),
            _c("price_unit", "VARCHAR", "Currency"),
            _c("sources", "VARCHAR[]", "Which of callbacks, rest, summary know the leg"),
            _c("last_event_at", "TIMESTAMPTZ", "Newest callback timestamp", "UTC"),
        ),
        key=("call_sid",),
        time_column="start_time",
        extra=False,
    ),
)

_BY_NAME = {t.name: t for t in (*TABLES, *VIEWS)}


def get_table(name: str) -> Table:
    """Return the table definition called ``name``."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no table {name!r}; tables are {sorted(_BY_NAME)}") from None

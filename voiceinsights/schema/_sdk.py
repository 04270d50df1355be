"""Voice SDK events forwarded from clients, and probe runs (ours and PreflightTest)."""

from __future__ import annotations

from voiceinsights.schema._model import Table, table

__all__ = ["SDK_TABLES"]

SDK_TABLES: tuple[Table, ...] = (
    table(
        "samples",
        "Voice SDK per-second `sample` events forwarded from browsers and apps.",
        key=("call_sid", "timestamp"),
        time_column="timestamp",
        columns="""
        call_sid | VARCHAR |  | envelope call_sid         | SDK-side CallSid
        identity | VARCHAR |  | envelope identity / token | Client identity
        @sample_fields
        @provenance
    """,
    ),
    table(
        "warnings",
        "Voice SDK `warning` and `warning-cleared` events.",
        key=("call_sid", "name", "event", "timestamp"),
        time_column="timestamp",
        columns="""
        call_sid        | VARCHAR     |     | envelope call_sid         | SDK-side CallSid
        identity        | VARCHAR     |     | envelope identity         | Client identity
        timestamp       | TIMESTAMPTZ | UTC | data.data.samples[-1]     | When raised/cleared: the
        > newest sample in warningData.samples, else received_at
        name            | VARCHAR     |     | data.name                 | high-rtt, high-jitter,
        > low-mos, ...
        event           | VARCHAR     |     | envelope type             | raised or cleared
        threshold_name  | VARCHAR     |     | data.data.threshold.name  | max, min, maxAverage, ...
        threshold_value | DOUBLE      |     | data.data.threshold.value | Threshold crossed (unit
        > of the stat)
        values          | JSON        |     | data.data.values          | The stat's values in the
        > window
        @provenance
    """,
    ),
    table(
        "feedback",
        "Call feedback posted with `call.postFeedback(score, issue)`.",
        key=("call_sid",),
        time_column="received_at",
        columns="""
        call_sid | VARCHAR |      | envelope call_sid | SDK-side CallSid
        identity | VARCHAR |      | envelope identity | Client identity
        score    | INTEGER | 1..5 | data.score        | 1..5, null when declined
        issue    | VARCHAR |      | data.issue        | dropped-call, audio-latency, one-way-audio,
        > ...
        @provenance
    """,
    ),
    table(
        "probe_runs",
        (
            "Preflight-style test calls: our aiortc probe and forwarded Twilio PreflightTest "
            "reports, failed runs included."
        ),
        key=("run_id",),
        time_column="started_at",
        columns="""
        run_id             | VARCHAR     |        |                              | Probe run id
        > ('preflight:' + CallSid for SDK reports)
        source             | VARCHAR     |        |                              |
        > voiceinsights-probe or twilio-preflight
        call_sid           | VARCHAR     |        | callSid                      | CallSid of a
        > PreflightTest
        target             | VARCHAR     |        | edge                         | Echo endpoint
        > URL or Twilio edge
        label              | VARCHAR     |        |                              | User label for
        > grouping runs
        started_at         | TIMESTAMPTZ | UTC    | testTiming.start             | Test start
        ended_at           | TIMESTAMPTZ | UTC    | testTiming.end               | Test end
        duration_s         | DOUBLE      | s      | testTiming.duration          | Test length
        status             | VARCHAR     |        |                              | ok or failed
        failed_phase       | VARCHAR     |        |                              | signaling, ice,
        > dtls, media, teardown
        error              | VARCHAR     |        |                              | Why it failed
        codec_name         | VARCHAR     |        |                              | opus or pcmu
        call_quality       | VARCHAR     |        | callQuality                  | excellent,
        > great, good, fair, degraded
        mos_avg            | DOUBLE      | 1..4.5 | stats.mos.average            | Mean SDK MOS
        mos_min            | DOUBLE      | 1..4.5 | stats.mos.min                | Minimum SDK MOS
        mos_max            | DOUBLE      | 1..4.5 | stats.mos.max                | Maximum SDK MOS
        jitter_avg_ms      | DOUBLE      | ms     | stats.jitter.average         | Mean jitter
        jitter_min_ms      | DOUBLE      | ms     | stats.jitter.min             | Minimum jitter
        jitter_max_ms      | DOUBLE      | ms     | stats.jitter.max             | Maximum jitter
        rtt_avg_ms         | DOUBLE      | ms     | stats.rtt.average            | Mean RTT
        rtt_min_ms         | DOUBLE      | ms     | stats.rtt.min                | Minimum RTT
        rtt_max_ms         | DOUBLE      | ms     | stats.rtt.max                | Maximum RTT
        loss_pct           | DOUBLE      | %      | totals.packetsLostFraction   | Inbound loss
        > over the test
        signaling_ms       | DOUBLE      | ms     | networkTiming.signaling      | Signaling phase
        ice_ms             | DOUBLE      | ms     | networkTiming.ice            | ICE phase
        dtls_ms            | DOUBLE      | ms     | networkTiming.dtls           | DTLS phase
        peer_connection_ms | DOUBLE      | ms     | networkTiming.peerConnection | Peer connection
        > setup
        first_media_ms     | DOUBLE      | ms     |                              | Offer to first
        > echoed audio
        audio_rtt_ms       | DOUBLE      | ms     |                              | Round trip
        > measured on the audio itself
        rfc3550_jitter_ms  | DOUBLE      | ms     |                              | Mean RFC 3550
        > jitter from arrival times
        rfc3550_loss_pct   | DOUBLE      | %      |                              | Loss from RTP
        > sequence numbers
        effective_loss_pct | DOUBLE      | %      |                              | Loss after
        > jitter-buffer simulation
        effective_mos      | DOUBLE      | 1..4.5 |                              | E-model MOS
        > after jitter-buffer simulation
        pesq_mos           | DOUBLE      | 1..4.5 |                              | PESQ MOS-LQO on
        > the rebuilt playout
        is_turn_required   | BOOLEAN     |        | isTurnRequired               | Relay candidate
        > selected
        report             | JSON        |        |                              | The whole report
        > as produced or forwarded
        @provenance
    """,
    ),
    table(
        "probe_samples",
        "Per-second samples of probe runs, with the SDK sample fields.",
        key=("run_id", "timestamp"),
        time_column="timestamp",
        extra=False,
        columns="""
        run_id | VARCHAR |  |  | Probe run
        @sample_fields
    """,
    ),
)

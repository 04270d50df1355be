"""Voice Insights resources, the Event Streams log and rejected records."""

from __future__ import annotations

from voiceinsights.schema._model import Table, table

__all__ = ["INSIGHTS_TABLES"]

INSIGHTS_TABLES: tuple[Table, ...] = (
    table(
        "insights_summaries",
        "Voice Insights call summaries (the most complete processing state wins).",
        key=("call_sid",),
        time_column="start_time",
        columns="""
        call_sid              | VARCHAR     |     | call_sid                         | Leg
        account_sid           | VARCHAR     |     | account_sid                      | Account
        call_type             | VARCHAR     |     | call_type                        | carrier,
        > sip, trunking, client, whatsapp
        call_state            | VARCHAR     |     | call_state                       | completed,
        > busy, fail, noanswer, ...
        direction             | VARCHAR     |     | properties.direction             | Direction
        answered_by           | VARCHAR     |     | answered_by                      | AMD result
        processing_state      | VARCHAR     |     | processing_state                 | partial or
        > complete
        created_time          | TIMESTAMPTZ | UTC | created_time                     | Created
        start_time            | TIMESTAMPTZ | UTC | start_time                       | Start
        end_time              | TIMESTAMPTZ | UTC | end_time                         | End
        duration_s            | DOUBLE      | s   | duration                         | Duration
        connect_duration_s    | DOUBLE      | s   | connect_duration                 | Connected
        > duration
        from_address          | VARCHAR     |     | from.caller                      | Caller
        to_address            | VARCHAR     |     | to.callee                        | Callee
        tags                  | VARCHAR[]   |     | tags                             | Insights
        > tags
        disconnected_by       | VARCHAR     |     | properties.disconnected_by       | caller or
        > callee
        pdd_ms                | DOUBLE      | ms  | properties.pdd_ms                | Post-dial
        > delay
        last_sip_response_num | INTEGER     |     | properties.last_sip_response_num | Last SIP
        > response
        q850_cause            | INTEGER     |     | properties.q850_cause            | Q.850 cause
        media_region          | VARCHAR     |     | properties.media_region          | Media region
        signaling_region      | VARCHAR     |     | properties.signaling_region      | Signaling
        > region
        metrics_edge          | VARCHAR     |     |                                  | Edge the
        > flattened metrics come from (first of sdk_edge, client_edge, sip_edge, carrier_edge
        > present)
        @edge_metrics
        edges                 | JSON        |     |                                  |
        > carrier_edge, client_edge, sdk_edge, sip_edge verbatim
        annotation            | JSON        |     | annotation                       | Annotation
        > object
        @provenance
    """,
    ),
    table(
        "insights_events",
        "Voice Insights call events.",
        key=("call_sid", "timestamp", "edge", "name"),
        time_column="timestamp",
        columns="""
        call_sid    | VARCHAR     |     | call_sid    | Leg
        account_sid | VARCHAR     |     | account_sid | Account
        timestamp   | TIMESTAMPTZ | UTC | timestamp   | Event time
        edge        | VARCHAR     |     | edge        | carrier_edge, sip_edge, sdk_edge,
        > client_edge
        event_group | VARCHAR     |     | group       | Event group
        level       | VARCHAR     |     | level       | DEBUG, INFO, WARNING, ERROR
        name        | VARCHAR     |     | name        | Event name
        edge_data   | JSON        |     | <edge>      | The edge object of the event verbatim
        @provenance
    """,
    ),
    table(
        "insights_metrics",
        "Voice Insights call metrics (10 s intervals).",
        key=("call_sid", "timestamp", "edge", "direction"),
        time_column="timestamp",
        columns="""
        call_sid         | VARCHAR     |          | call_sid                         | Leg
        account_sid      | VARCHAR     |          | account_sid                      | Account
        timestamp        | TIMESTAMPTZ | UTC      | timestamp                        | Interval end
        edge             | VARCHAR     |          | edge                             | Edge
        direction        | VARCHAR     |          | direction                        | inbound,
        > outbound, both
        packets_received | BIGINT      | packets  | <edge>.interval.packets_received | Packets
        > received in the interval
        packets_lost     | BIGINT      | packets  | <edge>.interval.packets_lost     | Packets lost
        > in the interval
        jitter_ms        | DOUBLE      | ms       | <edge>.interval.jitter.value     | Jitter
        rtt_ms           | DOUBLE      | ms       | <edge>.interval.rtt.value        | Round-trip
        > time
        mos              | DOUBLE      | 1..4.5   | <edge>.interval.mos.value        | MOS
        audio_in_level   | DOUBLE      | 0..32767 | <edge>.interval.audio_in.value   | Input level
        audio_out_level  | DOUBLE      | 0..32767 | <edge>.interval.audio_out.value  | Output level
        edge_data        | JSON        |          | <edge>                           | The edge
        > object verbatim (cumulative included)
        @provenance
    """,
    ),
    table(
        "insights_conferences",
        "Voice Insights conference summaries (complete ones), pulled from /v1/Conferences.",
        key=("conference_sid",),
        time_column="create_time",
        columns="""
        conference_sid              | VARCHAR     |     | conference_sid              | Conference
        account_sid                 | VARCHAR     |     | account_sid                 | Account
        friendly_name               | VARCHAR     |     | friendly_name               | Conference
        > name
        status                      | VARCHAR     |     | status                      | completed,
        > in_progress, ...
        create_time                 | TIMESTAMPTZ | UTC | create_time                 | Created
        start_time                  | TIMESTAMPTZ | UTC | start_time                  | Started
        > (two participants in)
        end_time                    | TIMESTAMPTZ | UTC | end_time                    | Ended
        duration_s                  | DOUBLE      | s   | duration_seconds            | Create to
        > end
        connect_duration_s          | DOUBLE      | s   | connect_duration_seconds    | Start to
        > end
        max_participants            | INTEGER     |     | max_participants            | Participant
        > limit
        max_concurrent_participants | INTEGER     |     | max_concurrent_participants | Most
        > participants at once
        unique_participants         | INTEGER     |     | unique_participants         | Distinct
        > participants
        end_reason                  | VARCHAR     |     | end_reason                  | Why it
        > ended
        ended_by                    | VARCHAR     |     | ended_by                    | CallSid
        > that ended it
        mixer_region                | VARCHAR     |     | mixer_region                | Region that
        > mixed the media
        mixer_region_requested      | VARCHAR     |     | mixer_region_requested      | Region
        > asked for
        recording_enabled           | BOOLEAN     |     | recording_enabled           | Recorded
        tags                        | VARCHAR[]   |     | tags                        | Insights
        > tags
        detected_issues             | JSON        |     | detected_issues             | Issue
        > counts by category
        processing_state            | VARCHAR     |     | processing_state            | complete
        > (partial ones are not stored)
        @provenance
    """,
    ),
    table(
        "insights_participants",
        "Voice Insights conference participant summaries (complete ones).",
        key=("participant_sid",),
        time_column="join_time",
        columns="""
        participant_sid          | VARCHAR     |     | participant_sid        | Participant
        conference_sid           | VARCHAR     |     | conference_sid         | Conference
        call_sid                 | VARCHAR     |     | call_sid               | The participant's
        > call leg
        account_sid              | VARCHAR     |     | account_sid            | Account
        label                    | VARCHAR     |     | label                  | Participant label
        call_direction           | VARCHAR     |     | call_direction         | inbound or outbound
        from_address             | VARCHAR     |     | from                   | Caller
        to_address               | VARCHAR     |     | to                     | Callee
        call_status              | VARCHAR     |     | call_status            | Leg status
        call_type                | VARCHAR     |     | call_type              | carrier, client,
        > sip
        country_code             | VARCHAR     |     | country_code           | Country of the
        > participant
        is_moderator             | BOOLEAN     |     | is_moderator           | Started the
        > conference on enter
        is_coach                 | BOOLEAN     |     | is_coach               | Coaching another
        > participant
        join_time                | TIMESTAMPTZ | UTC | join_time              | Joined
        leave_time               | TIMESTAMPTZ | UTC | leave_time             | Left
        duration_s               | DOUBLE      | s   | duration_seconds       | Time in the
        > conference
        outbound_queue_length    | INTEGER     |     | outbound_queue_length  | Queue length when
        > dialled out
        outbound_time_in_queue_s | DOUBLE      | s   | outbound_time_in_queue | Time queued before
        > dialling out
        jitter_buffer_size       | VARCHAR     |     | jitter_buffer_size     | Jitter buffer
        > setting
        participant_region       | VARCHAR     |     | participant_region     | Region of the
        > participant's media
        conference_region        | VARCHAR     |     | conference_region      | Region of the
        > conference
        processing_state         | VARCHAR     |     | processing_state       | complete (partial
        > ones are not stored)
        properties               | JSON        |     | properties             | Properties object
        > verbatim
        events                   | JSON        |     | events                 | Participant event
        > counts verbatim
        metrics                  | JSON        |     | metrics                | Participant quality
        > metrics verbatim
        @provenance
    """,
    ),
    table(
        "cloudevents",
        "Log of Event Streams CloudEvents received (their data lands in the typed tables).",
        key=("id",),
        time_column="time",
        columns="""
        id           | VARCHAR     |     | id         | CloudEvent id
        type         | VARCHAR     |     | type       | CloudEvent type
        source       | VARCHAR     |     | source     | CloudEvent source
        time         | TIMESTAMPTZ | UTC | time       | Event time
        dataschema   | VARCHAR     |     | dataschema | Data schema URL
        target_table | VARCHAR     |     |            | Table the data went to
        @received
        extra        | JSON        |     |            | Envelope fields not modelled, and the data
        > of types with no typed table (conference summaries), kept verbatim
    """,
    ),
    table(
        "rejected",
        "Records that could not be stored, with the reason; nothing is dropped silently.",
        key=("ingest_source", "line", "field", "reason"),
        time_column="rejected_at",
        extra=False,
        columns="""
        ingest_source | VARCHAR     |     |  | File path or endpoint
        line          | BIGINT      |     |  | 1-based line (JSON Lines, CSV) or record index
        kind          | VARCHAR     |     |  | Detected kind, if any
        field         | VARCHAR     |     |  | Offending field (wire name)
        reason        | VARCHAR     |     |  | What is wrong
        raw           | VARCHAR     |     |  | The record as received (truncated to 64 KiB)
        rejected_at   | TIMESTAMPTZ | UTC |  | When it was rejected
    """,
    ),
)

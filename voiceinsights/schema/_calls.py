"""Call legs: status callbacks, Calls REST rows, conferences and recordings."""

from __future__ import annotations

from voiceinsights.schema._model import Table, table

__all__ = ["CALLS_VIEW", "CALL_TABLES"]

CALL_TABLES: tuple[Table, ...] = (
    table(
        "call_events",
        (
            "Status-callback events of call legs (call progress, <Dial> and SIP legs), one row "
            "per delivery after de-duplication."
        ),
        key=("call_sid", "callback_source", "sequence_number", "call_status"),
        time_column="timestamp",
        columns="""
        call_sid             | VARCHAR     |     | CallSid              | The leg this event is
        > about
        parent_call_sid      | VARCHAR     |     | ParentCallSid        | Parent leg when this leg
        > was created by <Dial>
        account_sid          | VARCHAR     |     | AccountSid           | Account
        callback_source      | VARCHAR     |     | CallbackSource       | Callback family
        sequence_number      | INTEGER     |     | SequenceNumber       | Order of the event within
        > the leg (from 0)
        timestamp            | TIMESTAMPTZ | UTC | Timestamp (RFC 2822) | When the event happened
        call_status          | VARCHAR     |     | CallStatus           | Leg status after the
        > event
        direction            | VARCHAR     |     | Direction            | inbound, outbound-api,
        > outbound-dial, trunking-*
        from_address         | VARCHAR     |     | From                 | Caller (E.164, client:ID
        > or sip: URI)
        to_address           | VARCHAR     |     | To                   | Callee (E.164, client:ID
        > or sip: URI)
        call_duration_s      | DOUBLE      | s   | CallDuration         | Leg duration on
        > completion
        billed_duration_min  | INTEGER     | min | Duration             | Billed duration
        sip_response_code    | INTEGER     |     | SipResponseCode      | Final SIP response code
        sip_call_id          | VARCHAR     |     | SipCallId            | SIP Call-ID of a SIP leg
        answered_by          | VARCHAR     |     | AnsweredBy           | AMD result
        forwarded_from       | VARCHAR     |     | ForwardedFrom        | Forwarding number
        caller_name          | VARCHAR     |     | CallerName           | CNAM
        recording_sid        | VARCHAR     |     | RecordingSid         | Recording of the leg
        recording_duration_s | DOUBLE      | s   | RecordingDuration    | Recording length
        @provenance
    """,
    ),
    table(
        "rest_calls",
        "Call resources read from the Calls REST API (latest version of each).",
        key=("call_sid",),
        time_column="date_created",
        columns="""
        call_sid        | VARCHAR     |            | sid             | Leg
        parent_call_sid | VARCHAR     |            | parent_call_sid | Parent leg
        account_sid     | VARCHAR     |            | account_sid     | Account
        from_address    | VARCHAR     |            | from            | Caller
        to_address      | VARCHAR     |            | to              | Callee
        status          | VARCHAR     |            | status          | Leg status
        direction       | VARCHAR     |            | direction       | Direction
        start_time      | TIMESTAMPTZ | UTC        | start_time      | Answer/start time
        end_time        | TIMESTAMPTZ | UTC        | end_time        | End time
        duration_s      | DOUBLE      | s          | duration        | Duration
        price           | DOUBLE      | price_unit | price           | Price (negative is a charge)
        price_unit      | VARCHAR     |            | price_unit      | Currency
        answered_by     | VARCHAR     |            | answered_by     | AMD result
        forwarded_from  | VARCHAR     |            | forwarded_from  | Forwarding number
        caller_name     | VARCHAR     |            | caller_name     | CNAM
        queue_time_ms   | DOUBLE      | ms         | queue_time      | Time queued before dialing
        trunk_sid       | VARCHAR     |            | trunk_sid       | Elastic SIP trunk
        date_created    | TIMESTAMPTZ | UTC        | date_created    | Resource creation
        date_updated    | TIMESTAMPTZ | UTC        | date_updated    | Last update (newest wins)
        @provenance
    """,
    ),
    table(
        "conference_events",
        "Conference status callbacks.",
        key=("conference_sid", "sequence_number", "event"),
        time_column="timestamp",
        columns="""
        conference_sid             | VARCHAR     |     | ConferenceSid           | Conference
        friendly_name              | VARCHAR     |     | FriendlyName            | Conference name
        account_sid                | VARCHAR     |     | AccountSid              | Account
        sequence_number            | INTEGER     |     | SequenceNumber          | Order within the
        > conference
        timestamp                  | TIMESTAMPTZ | UTC | Timestamp               | When it happened
        event                      | VARCHAR     |     | StatusCallbackEvent     |
        > conference-start, participant-join, ...
        call_sid                   | VARCHAR     |     | CallSid                 | Participant leg
        muted                      | BOOLEAN     |     | Muted                   | Participant
        > muted
        hold                       | BOOLEAN     |     | Hold                    | Participant on
        > hold
        coaching                   | BOOLEAN     |     | Coaching                | Participant is
        > coaching
        end_conference_on_exit     | BOOLEAN     |     | EndConferenceOnExit     |
        start_conference_on_enter  | BOOLEAN     |     | StartConferenceOnEnter  |
        participant_label          | VARCHAR     |     | ParticipantLabel        |
        participant_call_status    | VARCHAR     |     | ParticipantCallStatus   | On
        > participant-leave
        reason_participant_left    | VARCHAR     |     | ReasonParticipantLeft   |
        call_sid_ending_conference | VARCHAR     |     | CallSidEndingConference | On
        > conference-end
        reason_conference_ended    | VARCHAR     |     | ReasonConferenceEnded   | On
        > conference-end
        @provenance
    """,
    ),
    table(
        "recordings",
        "Recording status callbacks.",
        key=("recording_sid", "recording_status"),
        time_column="recording_start_time",
        columns="""
        recording_sid        | VARCHAR     |     | RecordingSid       | Recording
        call_sid             | VARCHAR     |     | CallSid            | Recorded leg
        conference_sid       | VARCHAR     |     | ConferenceSid      | Recorded conference
        account_sid          | VARCHAR     |     | AccountSid         | Account
        recording_status     | VARCHAR     |     | RecordingStatus    | in-progress, completed,
        > absent
        recording_url        | VARCHAR     |     | RecordingUrl       | Media URL
        recording_duration_s | DOUBLE      | s   | RecordingDuration  | Length
        recording_channels   | INTEGER     |     | RecordingChannels  | 1 or 2
        recording_start_time | TIMESTAMPTZ | UTC | RecordingStartTime | Start
        recording_source     | VARCHAR     |     | RecordingSource    | DialVerb, RecordVerb, ...
        recording_track      | VARCHAR     |     | RecordingTrack     | inbound, outbound, both
        error_code           | INTEGER     |     | ErrorCode          | Twilio error code
        @provenance
    """,
    ),
)

#: REST rows win over Insights summaries, which win over status callbacks; a leg's callback
#: status is the one of its highest sequence number (terminal statuses outrank others).
CALLS_VIEW = table(
    "calls",
    ("One row per call leg, merged from status callbacks, Calls REST rows and Insights summaries."),
    key=("call_sid",),
    time_column="start_time",
    extra=False,
    columns="""
    call_sid          | VARCHAR     |            |  | Leg
    parent_call_sid   | VARCHAR     |            |  | Parent leg (null for a root leg)
    account_sid       | VARCHAR     |            |  | Account
    direction         | VARCHAR     |            |  | inbound, outbound-api, outbound-dial,
    > trunking-*
    status            | VARCHAR     |            |  | Final (or latest known) status
    from_address      | VARCHAR     |            |  | Caller
    to_address        | VARCHAR     |            |  | Callee
    call_type         | VARCHAR     |            |  | carrier, sip, client, trunking (summary, else
    > inferred from the addresses)
    start_time        | TIMESTAMPTZ | UTC        |  | Start (REST/summary, else first callback)
    end_time          | TIMESTAMPTZ | UTC        |  | End (REST/summary, else completion callback)
    duration_s        | DOUBLE      | s          |  | Duration
    answered_by       | VARCHAR     |            |  | AMD result
    sip_response_code | INTEGER     |            |  | Final SIP response code
    sip_call_id       | VARCHAR     |            |  | SIP Call-ID
    price             | DOUBLE      | price_unit |  | Price
    price_unit        | VARCHAR     |            |  | Currency
    sources           | VARCHAR[]   |            |  | Which of callbacks, rest, summary know the
    > leg
    last_event_at     | TIMESTAMPTZ | UTC        |  | Newest callback timestamp
""",
)

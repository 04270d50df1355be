"""The Calls REST resource (API 2010-04-01, ``/Accounts/{AccountSid}/Calls.json``).

Times are RFC 2822; ``duration`` is a string of seconds, ``price`` a string (negative for a
charge) or null until priced, ``queue_time`` a string of milliseconds. Fields not modelled
(``uri``, ``subresource_uris``, ``api_version``, ``phone_number_sid``, ``to_formatted``...)
are kept in ``extra``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from voiceinsights.models._base import FormModel, Row, Timestamp, extra_json, make_row
from voiceinsights.models.callbacks import CallStatus, Direction

__all__ = ["RestCall"]


def _blank(value: Any) -> Any:
    return None if value == "" else value


class RestCall(FormModel):
    """One Call resource of the Calls REST API (empty strings are read as null)."""

    sid: str = Field(min_length=2)
    parent_call_sid: str | None = None
    account_sid: str | None = None
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    status: CallStatus
    direction: Direction | None = None
    start_time: Timestamp = None
    end_time: Timestamp = None
    duration: float | None = Field(default=None, ge=0)
    price: float | None = None
    price_unit: str | None = None
    answered_by: str | None = None
    forwarded_from: str | None = None
    caller_name: str | None = None
    queue_time: float | None = Field(default=None, ge=0)
    trunk_sid: str | None = None
    date_created: Timestamp = None
    date_updated: Timestamp = None

    def rows(self, *, source: str | None, received_at: datetime | None) -> list[Row]:
        """The ``rest_calls`` row."""
        return [
            make_row(
                "rest_calls",
                {
                    "call_sid": self.sid,
                    "parent_call_sid": _blank(self.parent_call_sid),
                    "account_sid": self.account_sid,
                    "from_address": _blank(self.from_),
                    "to_address": _blank(self.to),
                    "status": self.status,
                    "direction": self.direction,
                    "start_time": self.start_time,
                    "end_time": self.end_time,
                    "duration_s": self.duration,
                    "price": self.price,
                    "price_unit": self.price_unit,
                    "answered_by": _blank(self.answered_by),
                    "forwarded_from": _blank(self.forwarded_from),
                    "caller_name": _blank(self.caller_name),
                    "queue_time_ms": self.queue_time,
                    "trunk_sid": _blank(self.trunk_sid),
                    "date_created": self.date_created,
                    "date_updated": self.date_updated,
                    "received_at": received_at,
                    "ingest_source": source,
                    "extra": extra_json(self.unmodelled()),
                },
            )
        ]

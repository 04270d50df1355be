"""The requests behind each client method (pure: URL, query and paging shape)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from voiceinsights.twilio._core import ListSpec, Param, _Core

__all__ = ["ANNOTATION_FIELDS", "Requests"]

#: Annotation fields as the Python API names them -> Twilio's form parameter.
ANNOTATION_FIELDS = {
    "answered_by": "AnsweredBy",
    "connectivity_issue": "ConnectivityIssue",
    "quality_issues": "QualityIssues",
    "spam": "Spam",
    "call_score": "CallScore",
    "comment": "Comment",
    "incident": "Incident",
}

_QUALITY_ISSUES = frozenset(
    {
        "no_quality_issue",
        "low_volume",
        "choppy_robotic",
        "echo",
        "dtmf",
        "latency",
        "owa",
        "static_noise",
    }
)


class Requests:
    """Builds the request of every endpoint; the clients only send them."""

    def __init__(self, core: _Core) -> None:
        self.core = core

    # Calls (2010-04-01) -------------------------------------------------------------
    def calls(
        self,
        *,
        start_time_after: datetime | str | None = None,
        start_time_before: datetime | str | None = None,
        to: str | None = None,
        from_: str | None = None,
        parent_call_sid: str | None = None,
        status: str | None = None,
        page_size: int | None = None,
        extra: Mapping[str, Param] | None = None,
    ) -> ListSpec:
        params: dict[str, Param] = {
            "StartTime>=": start_time_after,
            "StartTime<=": start_time_before,
            "To": to,
            "From": from_,
            "ParentCallSid": parent_call_sid,
            "Status": status,
            "PageSize": page_size,
            **(extra or {}),
        }
        return self.core.spec(self.core.calls_url(), params, style="rest", key="calls")

    # Insights: calls ----------------------------------------------------------------
    def summaries(
        self,
        *,
        start_time: datetime | str | None = None,
        end_time: datetime | str | None = None,
        from_: str | None = None,
        to: str | None = None,
        call_type: str | None = None,
        call_state: str | None = None,
        direction: str | None = None,
        has_tag: bool | None = None,
        processing_state: str | None = None,
        sort_by: str | None = None,
        page_size: int | None = None,
        extra: Mapping[str, Param] | None = None,
    ) -> ListSpec:
        params: dict[str, Param] = {
            "StartTime": start_time,
            "EndTime": end_time,
            "From": from_,
            "To": to,
            "CallType": call_type,
            "CallState": call_state,
            "Direction": direction.replace("-", "_") if direction else None,
            "HasTag": has_tag,
            "ProcessingState": processing_state,
            "SortBy": sort_by,
            "PageSize": page_size,
            **(extra or {}),
        }
        url = f"{self.core.insights_base}/v1/Voice/Summaries"
        return self.core.spec(url, params, style="insights", key="call_summaries")

    def summary(self, call_sid: str, processing_state: str | None) -> tuple[str, dict[str, str]]:
        query = {"ProcessingState": processing_state} if processing_state else {}
        return self.core.voice_url(call_sid, "Summary"), query

    def events(self, call_sid: str, edge: str | None, page_size: int | None) -> ListSpec:
        url = self.core.voice_url(call_sid, "Events")
        params: dict[str, Param] = {"Edge": edge, "PageSize": page_size}
        return self.core.spec(url, params, style="insights", key="events")

    def metrics(
        self, call_sid: str, edge: str | None, direction: str | None, page_size: int | None
    ) -> ListSpec:
        url = self.core.voice_url(call_sid, "Metrics")
        params: dict[str, Param] = {"Edge": edge, "Direction": direction, "PageSize": page_size}
        return self.core.spec(url, params, style="insights", key="metrics")

    def annotation(self, call_sid: str) -> str:
        return self.core.voice_url(call_sid, "Annotation")

    def annotation_form(self, fields: Mapping[str, object]) -> dict[str, str]:
        """Form body of an annotation update, validated against Twilio's allowed values."""
        form: dict[str, str] = {}
        for name, value in fields.items():
            if value is None:
                continue
            if name not in ANNOTATION_FIELDS:
                raise ValueError(
                    f"unknown annotation field {name!r}; fields are {sorted(ANNOTATION_FIELDS)}"
                )
            wire = ANNOTATION_FIELDS[name]
            if name == "quality_issues":
                issues = _issues(value)
                bad = [i for i in issues if i not in _QUALITY_ISSUES]
                if bad:
                    raise ValueError(
                        f"unknown quality issue(s) {bad}; allowed: {sorted(_QUALITY_ISSUES)}"
                    )
                form[wire] = ",".join(issues)
            elif name == "call_score":
                if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
                    raise ValueError(f"call_score must be an integer 1..5, got {value!r}")
                form[wire] = str(value)
            elif name == "spam":
                if not isinstance(value, bool):
                    raise ValueError(f"spam must be True or False, got {value!r}")
                form[wire] = "true" if value else "false"
            else:
                form[wire] = str(value)
        return form

    # Insights: conferences ----------------------------------------------------------
    def conferences(
        self,
        *,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        friendly_name: str | None = None,
        status: str | None = None,
        page_size: int | None = None,
        extra: Mapping[str, Param] | None = None,
    ) -> ListSpec:
        params: dict[str, Param] = {
            "CreatedAfter": created_after,
            "CreatedBefore": created_before,
            "FriendlyName": friendly_name,
            "Status": status,
            "PageSize": page_size,
            **(extra or {}),
        }
        return self.core.spec(
            self.core.conference_url(), params, style="insights", key="conferences"
        )

    def participants(
        self, conference_sid: str, *, label: str | None, page_size: int | None
    ) -> ListSpec:
        url = self.core.conference_url(conference_sid) + "/Participants"
        params: dict[str, Param] = {"Label": label, "PageSize": page_size}
        return self.core.spec(url, params, style="insights", key="participants")

    def participant(self, conference_sid: str, participant_sid: str) -> str:
        if not participant_sid.startswith("CP") or "/" in participant_sid:
            raise ValueError(f"participant {participant_sid!r} must be a CP... SID")
        return self.core.conference_url(conference_sid) + f"/Participants/{participant_sid}"


def _issues(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return [str(v) for v in value]
    raise ValueError(f"quality_issues must be a string or a list of strings, got {value!r}")

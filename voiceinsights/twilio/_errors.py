"""Turn Twilio error responses into voiceinsights exceptions."""

from __future__ import annotations

import json
from typing import Any

from voiceinsights._exceptions import (
    TwilioAPIError,
    TwilioAuthError,
    TwilioNotFoundError,
    TwilioRateLimitError,
)

__all__ = ["error_from_response"]


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def error_from_response(
    status: int, body: bytes, *, url: str, method: str = "GET"
) -> TwilioAPIError:
    """The exception for an HTTP error answer from Twilio.

    Twilio error bodies look like ``{"code": 20404, "message": "...", "more_info":
    "https://www.twilio.com/docs/errors/20404", "status": 404}``; their code and message are
    carried on the exception. 401/403 give :class:`TwilioAuthError`, 404
    :class:`TwilioNotFoundError`, 429 :class:`TwilioRateLimitError`, anything else
    :class:`TwilioAPIError`.
    """
    code: int | None = None
    message: str | None = None
    more_info: str | None = None
    try:
        data = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        data = None
    if isinstance(data, dict):
        code = _as_int(data.get("code"))
        raw_message = data.get("message") or data.get("detail")
        message = str(raw_message) if raw_message else None
        raw_more = data.get("more_info")
        more_info = str(raw_more) if raw_more else None
    if message is None:
        text = body[:200].decode("utf-8", "replace").strip() if body else ""
        message = text or "no error body"
    prefix = f"Twilio {status}"
    if code is not None:
        prefix += f" (error {code})"
    full = f"{prefix} on {method} {url}: {message}"
    if status in (401, 403):
        hint = " - check TWILIO_ACCOUNT_SID and the auth token or API key/secret"
        return TwilioAuthError(full + hint, status=status, code=code, more_info=more_info, url=url)
    cls: type[TwilioAPIError]
    if status == 404:
        cls = TwilioNotFoundError
    elif status == 429:
        cls = TwilioRateLimitError
    else:
        cls = TwilioAPIError
    return cls(full, status=status, code=code, more_info=more_info, url=url)

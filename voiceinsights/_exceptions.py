"""The exceptions voiceinsights raises.

Every error the package raises on purpose derives from one root, so callers can catch
``VoiceInsightsError`` and know it is ours::

    VoiceInsightsError
    ├── ValidationError          a record or field does not fit its wire model
    ├── IngestError              a file cannot be read or parsed at all
    ├── StoreError
    │   ├── StoreLockedError     another process holds the DuckDB file for writing
    │   ├── SchemaVersionError   the store was written by a newer release
    │   └── ReadOnlyStoreError   a write was asked of a read-only (Parquet) store
    ├── AnalysisError
    │   ├── AnalysisInputError   analysis input malformed (also a ValueError)
    │   └── CallTreeCycleError   parent links form a cycle (names the SIDs)
    ├── SignatureError           a Twilio signature or token does not verify
    ├── TwilioAPIError           the Twilio REST API answered with an error
    │   ├── TwilioAuthError      401 / 403
    │   ├── TwilioNotFoundError  404
    │   └── TwilioRateLimitError 429 after all retries
    ├── ProbeError               a probe could not complete; ``phase`` says where
    └── ConfigError              a setting or option is missing or wrong
"""

from __future__ import annotations

__all__ = [
    "AnalysisError",
    "AnalysisInputError",
    "CallTreeCycleError",
    "ConfigError",
    "IngestError",
    "ProbeError",
    "ReadOnlyStoreError",
    "SchemaVersionError",
    "SignatureError",
    "StoreError",
    "StoreLockedError",
    "TwilioAPIError",
    "TwilioAuthError",
    "TwilioNotFoundError",
    "TwilioRateLimitError",
    "ValidationError",
    "VoiceInsightsError",
]


class VoiceInsightsError(Exception):
    """Root of every error voiceinsights raises on purpose."""


class ValidationError(VoiceInsightsError):
    """A record does not fit its wire model.

    ``field`` names the offending field (Twilio's name) when one is to blame.
    """

    def __init__(self, message: str, *, field: str | None = None, kind: str | None = None):
        super().__init__(message)
        self.field = field
        self.kind = kind


class IngestError(VoiceInsightsError):
    """A file cannot be read at all (missing, unreadable, unknown format)."""

    def __init__(self, message: str, *, path: str | None = None):
        super().__init__(message)
        self.path = path


class StoreError(VoiceInsightsError):
    """A problem with the DuckDB or Parquet store."""


class StoreLockedError(StoreError):
    """Another process holds the DuckDB file open for writing."""


class SchemaVersionError(StoreError):
    """The store's schema version is newer than this release understands."""


class ReadOnlyStoreError(StoreError):
    """A write was asked of a read-only store (for example a Parquet directory)."""


class AnalysisError(VoiceInsightsError):
    """Analysis input is inconsistent in a way that cannot be repaired."""


class AnalysisInputError(AnalysisError, ValueError):
    """Input to an analysis function is malformed: a missing column, arrays of different
    lengths, a value out of range. Also a ``ValueError``."""


class CallTreeCycleError(AnalysisError):
    """Parent/child links form a cycle; ``sids`` lists the legs in it."""

    def __init__(self, sids: list[str]):
        super().__init__("parent_call_sid links form a cycle: " + " -> ".join(sids))
        self.sids = sids


class SignatureError(VoiceInsightsError):
    """A Twilio request signature, body hash or access token does not verify."""


class TwilioAPIError(VoiceInsightsError):
    """Twilio's REST API answered with an error.

    Carries the HTTP ``status``, Twilio's numeric error ``code`` and ``more_info`` URL when
    the body had them.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        more_info: str | None = None,
        url: str | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.more_info = more_info
        self.url = url


class TwilioAuthError(TwilioAPIError):
    """401 or 403: wrong credentials or no permission."""


class TwilioNotFoundError(TwilioAPIError):
    """404: the resource does not exist (or is past retention)."""


class TwilioRateLimitError(TwilioAPIError):
    """429 still returned after every retry."""


class ProbeError(VoiceInsightsError):
    """A probe failed; ``phase`` is one of signaling, ice, dtls, media, teardown."""

    def __init__(self, message: str, *, phase: str):
        super().__init__(f"{phase}: {message}")
        self.phase = phase


class ConfigError(VoiceInsightsError):
    """A required setting is missing or has a wrong value."""

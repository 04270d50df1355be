"""The collector service: Twilio webhooks, Event Streams and SDK events into the store.

Accepted requests are validated, durably spooled (group-committed fsync) and only then
answered; a background writer turns the spool into hive-partitioned Parquet segments that
:func:`voiceinsights.open_parquet` reads while the collector runs. See ``docs/collector.md``.

>>> from voiceinsights.collector import CollectorConfig, create_app
>>> app = create_app(CollectorConfig(data_dir="collector-data",
...                                  auth_tokens=["..."]))   # doctest: +SKIP
"""

from __future__ import annotations

from voiceinsights.collector._app import Collector, CollectorConfig, create_app
from voiceinsights.collector._metrics import Metrics
from voiceinsights.collector._signature import (
    body_sha256,
    compute_signature,
    get_url_variants,
    validate_body_signature,
    validate_form_signature,
)
from voiceinsights.collector._spool import Position, Spool
from voiceinsights.collector._tokens import TokenVerifier, issue_ingest_token
from voiceinsights.collector._writer import SegmentWriter, records_to_rows

__all__ = [
    "Collector",
    "CollectorConfig",
    "Metrics",
    "Position",
    "SegmentWriter",
    "Spool",
    "TokenVerifier",
    "body_sha256",
    "compute_signature",
    "create_app",
    "get_url_variants",
    "issue_ingest_token",
    "records_to_rows",
    "validate_body_signature",
    "validate_form_signature",
]

"""voiceinsights: voice-call analytics and quality insights for Twilio Voice.

Collect status callbacks, Voice SDK samples and warnings, PreflightTest reports, Event
Streams and REST data into DuckDB and Parquet; place real WebRTC test calls; compute MOS
(the Voice SDK's formula and the ITU-T G.107 E-model), RFC 3550 jitter and loss; show the
results as pandas DataFrames, plotly figures and HTML reports.

>>> import voiceinsights as vi
>>> store = vi.open("calls.duckdb")          # doctest: +SKIP
>>> store.ingest(["data/fixtures"])          # doctest: +SKIP
>>> vi.analysis.summary.calls(store)         # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voiceinsights._exceptions import (
    AnalysisError,
    AnalysisInputError,
    CallTreeCycleError,
    ConfigError,
    IngestError,
    ProbeError,
    ReadOnlyStoreError,
    SchemaVersionError,
    SignatureError,
    StoreError,
    StoreLockedError,
    TwilioAPIError,
    TwilioAuthError,
    TwilioNotFoundError,
    TwilioRateLimitError,
    ValidationError,
    VoiceInsightsError,
)
from voiceinsights._lazy import lazy_loader

if TYPE_CHECKING:
    from voiceinsights import analysis, models, plots, reports, schema
    from voiceinsights.store import IngestReport, ParquetStore, Store, open, open_parquet

__version__ = "0.1.0.dev0"

# Public names loaded on first use: `import voiceinsights` stays light, and a missing
# optional extra only matters to the feature that needs it.
_LAZY: dict[str, str] = {
    "open": "voiceinsights.store:open",
    "open_parquet": "voiceinsights.store:open_parquet",
    "Store": "voiceinsights.store:Store",
    "ParquetStore": "voiceinsights.store:ParquetStore",
    "IngestReport": "voiceinsights.store:IngestReport",
    "analysis": "voiceinsights.analysis",
    "models": "voiceinsights.models",
    "plots": "voiceinsights.plots",
    "reports": "voiceinsights.reports",
    "schema": "voiceinsights.schema",
}

__all__ = [
    "AnalysisError",
    "AnalysisInputError",
    "CallTreeCycleError",
    "ConfigError",
    "IngestError",
    "IngestReport",
    "ParquetStore",
    "ProbeError",
    "ReadOnlyStoreError",
    "SchemaVersionError",
    "SignatureError",
    "Store",
    "StoreError",
    "StoreLockedError",
    "TwilioAPIError",
    "TwilioAuthError",
    "TwilioNotFoundError",
    "TwilioRateLimitError",
    "ValidationError",
    "VoiceInsightsError",
    "__version__",
    "analysis",
    "models",
    "open",
    "open_parquet",
    "plots",
    "reports",
    "schema",
]


__getattr__, __dir__ = lazy_loader("voiceinsights", _LAZY, __all__, globals())

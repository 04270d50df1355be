"""Reports: a call report and a probes report, in a notebook or as one HTML file.

:func:`get_call_report` and :func:`get_probes_report` gather data from a store; the
reports display in notebooks (``_repr_html_``), print as text and write self-contained HTML
files (plotly.js inlined, so they open with no network) with ``write_html``.

>>> import voiceinsights as vi
>>> from voiceinsights.reports import get_call_report
>>> report = get_call_report(vi.open(), "CA...")      # doctest: +SKIP
>>> report.write_html("call.html")                    # doctest: +SKIP
"""

from __future__ import annotations

from voiceinsights.reports._html import HtmlReport
from voiceinsights.reports.call import CallReport, get_call_report
from voiceinsights.reports.probes import ProbesReport, get_probes_report

__all__ = ["CallReport", "HtmlReport", "ProbesReport", "get_call_report", "get_probes_report"]

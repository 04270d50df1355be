"""Collector metrics in the Prometheus text exposition format (version 0.0.4)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Metrics"]

# Upper bounds (seconds) of the flush-latency histogram buckets.
_FLUSH_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(pairs: tuple[tuple[str, str], ...]) -> str:
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs) + "}"


def _num(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


@dataclass
class Metrics:
    """Counters and gauges of one collector process, safe to update from any thread.

    Counters: ``requests_total{endpoint,status}``, ``rejections_total{endpoint,reason}``,
    ``records_accepted_total{endpoint}``, ``rows_written_total{table}``,
    ``records_failed_total`` (spooled records the writer could not turn into rows; they go
    to the ``rejected`` table). Gauges come from callables (queue depth, spool lag).
    Flush latency is a histogram in seconds.
    """

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _counters: dict[str, dict[tuple[tuple[str, str], ...], float]] = field(default_factory=dict)
    _gauges: dict[str, Callable[[], float]] = field(default_factory=dict)
    _flush_counts: list[int] = field(default_factory=lambda: [0] * (len(_FLUSH_BUCKETS_S) + 1))
    _flush_sum_s: float = 0.0

    _help: dict[str, str] = field(
        default_factory=lambda: {
            "requests_total": "HTTP requests answered, by endpoint and status code",
            "rejections_total": "Requests refused, by endpoint and reason",
            "records_accepted_total": "Records durably spooled, by endpoint",
            "rows_written_total": "Canonical rows written to Parquet segments, by table",
            "records_failed_total": "Spooled records the writer could not parse (sent to rejected)",
            "spool_commits_total": "Group commits (one fdatasync each)",
        }
    )

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        """Add ``amount`` to counter ``name`` with ``labels``."""
        self.add(name, tuple(sorted(labels.items())), amount)

    def add(self, name: str, key: tuple[tuple[str, str], ...], amount: float = 1.0) -> None:
        """Like :meth:`inc` with the labels given as ``((name, value), ...)``, sorted."""
        with self._lock:
            series = self._counters.get(name)
            if series is None:
                series = self._counters[name] = {}
            series[key] = series.get(key, 0.0) + amount

    def get(self, name: str, **labels: str) -> float:
        """Current value of a counter (0 when never incremented)."""
        key = tuple(sorted(labels.items()))
        with self._lock:
            return self._counters.get(name, {}).get(key, 0.0)

    def total(self, name: str) -> float:
        """Sum of a counter over all its labels."""
        with self._lock:
            return sum(self._counters.get(name, {}).values())

    def gauge(self, name: str, fn: Callable[[], float], help_text: str) -> None:
        """Register a gauge read from ``fn`` at scrape time."""
        self._gauges[name] = fn
        self._help[name] = help_text

    def observe_flush(self, seconds: float) -> None:
        """Record the duration of one writer flush (spool -> Parquet -> checkpoint)."""
        with self._lock:
            self._flush_sum_s += seconds
            for i, bound in enumerate(_FLUSH_BUCKETS_S):
                if seconds <= bound:
                    self._flush_counts[i] += 1
                    break
            else:
                self._flush_counts[-1] += 1

    def render(self, prefix: str = "voiceinsights_collector_") -> str:
        """The metrics as Prometheus text."""
        out: list[str] = []
        with self._lock:
            counters = {k: dict(v) for k, v in self._counters.items()}
            counts = list(self._flush_counts)
            total_s = self._flush_sum_s
        for name in sorted(set(counters) | {"requests_total", "rejections_total"}):
            full = prefix + name
            out.append(f"# HELP {full} {self._help.get(name, name)}")
            out.append(f"# TYPE {full} counter")
            for key, value in sorted(counters.get(name, {}).items()):
                out.append(f"{full}{_labels(key)} {_num(value)}")
        for name, fn in sorted(self._gauges.items()):
            full = prefix + name
            out.append(f"# HELP {full} {self._help[name]}")
            out.append(f"# TYPE {full} gauge")
            out.append(f"{full} {_num(float(fn()))}")
        full = prefix + "flush_latency_seconds"
        out.append(f"# HELP {full} Duration of writer flushes (spool to Parquet to checkpoint)")
        out.append(f"# TYPE {full} histogram")
        cumulative = 0
        for bound, count in zip((*_FLUSH_BUCKETS_S, float("inf")), counts, strict=True):
            cumulative += count
            le = "+Inf" if bound == float("inf") else repr(bound)
            out.append(f'{full}_bucket{{le="{le}"}} {cumulative}')
        out.append(f"{full}_sum {_num(total_s)}")
        out.append(f"{full}_count {cumulative}")
        return "\n".join(out) + "\n"

"""Live WebRTC probe: real test calls to an echo endpoint, preflight-style reports.

>>> import voiceinsights.probe as probe
>>> report = probe.run("http://127.0.0.1:8080", duration_s=5)   # doctest: +SKIP
>>> report.call_quality                                          # doctest: +SKIP
'excellent'

Parts: the echo endpoint (:class:`EchoServer`, :func:`serve_echo`), the caller
(:func:`run`, :func:`run_async`, :class:`ProbeReport`), drift-free schedules
(:func:`run_every`), the impairment relay (:mod:`voiceinsights.probe.relay`) and
loopback-only ICE gathering (:func:`host_addresses`). Needs the ``probe`` extra (aiortc).
See ``docs/probe.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "EchoServer",
    "ProbeReport",
    "host_addresses",
    "relay",
    "run",
    "run_async",
    "run_every",
    "serve_echo",
]

_LAZY = {
    "EchoServer": "voiceinsights.probe._echo:EchoServer",
    "ProbeReport": "voiceinsights.probe._report:ProbeReport",
    "host_addresses": "voiceinsights.probe._ice:host_addresses",
    "relay": "voiceinsights.probe.relay",
    "run": "voiceinsights.probe._run:run",
    "run_async": "voiceinsights.probe._run:run_async",
    "run_every": "voiceinsights.probe._schedule:run_every",
    "serve_echo": "voiceinsights.probe._signaling:serve_echo",
}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'voiceinsights.probe' has no attribute {name!r}")
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    value = getattr(module, attr) if attr else module
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

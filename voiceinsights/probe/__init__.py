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

from voiceinsights._lazy import lazy_loader

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

_LAZY: dict[str, str] = {
    "EchoServer": "voiceinsights.probe._echo:EchoServer",
    "ProbeReport": "voiceinsights.probe._report:ProbeReport",
    "host_addresses": "voiceinsights.probe._ice:host_addresses",
    "relay": "voiceinsights.probe.relay",
    "run": "voiceinsights.probe._run:run",
    "run_async": "voiceinsights.probe._run:run_async",
    "run_every": "voiceinsights.probe._schedule:run_every",
    "serve_echo": "voiceinsights.probe._signaling:serve_echo",
}


__getattr__, __dir__ = lazy_loader("voiceinsights.probe", _LAZY, __all__, globals())

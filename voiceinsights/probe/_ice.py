"""Which local addresses ICE gathers host candidates on, scoped per task.

aioice (the ICE agent under aiortc) gathers host candidates on every non-loopback
interface and always skips ``127.0.0.1``; it has no setting to choose the addresses. A
probe to an echo endpoint on loopback must gather only the loopback address (it must work
on a host whose only interface is ``lo`` and must not send anything elsewhere), and
``--bind ADDRESS`` must pick one address otherwise.

The mechanism is scoped and explicit: :func:`host_addresses` is a context manager that sets
a :class:`contextvars.ContextVar` for the code it wraps (the ``setLocalDescription`` call,
where aiortc gathers). aioice's host-address provider is wrapped once (on first use) by a
function that returns the addresses of the current context when they are set and calls
aioice's own provider otherwise. Because context variables are per task, concurrent probes
and sessions of the echo server never see each other's choice, and code that does not use
:func:`host_addresses` gets aioice's usual behaviour.
"""

from __future__ import annotations

import contextvars
import ipaddress
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

__all__ = [
    "gather_addresses_for",
    "host_addresses",
    "ice_configuration",
    "is_loopback",
    "selected_addresses",
]

_ADDRESSES: contextvars.ContextVar[tuple[str, ...] | None] = contextvars.ContextVar(
    "voiceinsights_ice_host_addresses", default=None
)
_INSTALL_LOCK = threading.Lock()
_installed = False


def _install() -> None:
    """Wrap aioice's host-address provider once (idempotent, thread-safe)."""
    global _installed
    with _INSTALL_LOCK:
        if _installed:
            return
        import aioice.ice

        original: Callable[[bool, bool], list[str]] = aioice.ice.get_host_addresses

        def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
            chosen = _ADDRESSES.get()
            if chosen is None:
                return original(use_ipv4, use_ipv6)
            out = []
            for addr in chosen:
                version = ipaddress.ip_address(addr).version
                if (version == 4 and use_ipv4) or (version == 6 and use_ipv6):
                    out.append(addr)
            return out

        get_host_addresses.__wrapped__ = original  # type: ignore[attr-defined]
        aioice.ice.get_host_addresses = get_host_addresses
        _installed = True


def selected_addresses() -> tuple[str, ...] | None:
    """The host addresses set by :func:`host_addresses` in this context, or ``None``."""
    return _ADDRESSES.get()


@contextmanager
def host_addresses(addresses: Sequence[str] | None) -> Iterator[None]:
    """Gather ICE host candidates only on ``addresses`` inside this block.

    Parameters
    ----------
    addresses : sequence of str or None
        IP addresses (v4 or v6 literals). ``None`` leaves aioice's default (every
        non-loopback interface).

    Examples
    --------
    >>> with host_addresses(["127.0.0.1"]):  # doctest: +SKIP
    ...     await pc.setLocalDescription(await pc.createOffer())
    """
    if addresses is None:
        yield
        return
    for addr in addresses:
        ipaddress.ip_address(addr)  # ValueError for a non-literal
    _install()
    token = _ADDRESSES.set(tuple(addresses))
    try:
        yield
    finally:
        _ADDRESSES.reset(token)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or literal) resolves only to loopback addresses."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_UDP)
    except OSError:
        return False
    addrs = {info[4][0] for info in infos}
    return bool(addrs) and all(ipaddress.ip_address(a).is_loopback for a in addrs)


def gather_addresses_for(host: str, bind: str | None = None) -> tuple[str, ...] | None:
    """Host addresses to gather on for a peer at ``host``.

    ``bind`` wins when given. A loopback ``host`` gives the loopback address of the same
    family (``127.0.0.1`` or ``::1``). Otherwise ``None`` (aioice's default interfaces).
    A wildcard ``bind`` (``0.0.0.0``, ``::``) also means the default interfaces.
    """
    if bind is not None:
        try:
            bind_ip = ipaddress.ip_address(bind.strip("[]"))
        except ValueError:
            try:
                bind_ip = ipaddress.ip_address(socket.gethostbyname(bind))
            except OSError:
                from voiceinsights._exceptions import ConfigError

                raise ConfigError(f"--bind {bind!r} is not an address of this host") from None
        return None if bind_ip.is_unspecified else (str(bind_ip),)
    literal = host.strip("[]")
    try:
        ip = ipaddress.ip_address(literal)
    except ValueError:
        ip = None
    if ip is not None:
        return (str(ip),) if ip.is_loopback else None
    if is_loopback(host):
        return ("127.0.0.1",)
    return None


def ice_configuration(ice_servers: Sequence[str] = (), *, relay_only: bool = False) -> Any:
    """An ``RTCConfiguration`` that never falls back to a public STUN server.

    Parameters
    ----------
    ice_servers : sequence of str
        ``stun:`` / ``turn:`` URLs; TURN credentials as ``turn:user:pass@host:port``, or
        ``turn:user@host:port`` with the password in ``VOICEINSIGHTS_TURN_PASSWORD``.
    relay_only : bool
        Use only relayed (TURN) candidates.
    """
    from aiortc import RTCConfiguration, RTCIceServer
    from aiortc.rtcconfiguration import RTCIceTransportPolicy

    servers = [_ice_server(url, RTCIceServer) for url in ice_servers]
    policy = RTCIceTransportPolicy.RELAY if relay_only else RTCIceTransportPolicy.ALL
    return RTCConfiguration(iceServers=servers, iceTransportPolicy=policy)


def _ice_server(url: str, factory: Any) -> Any:
    scheme, sep, rest = url.partition(":")
    if not sep or scheme not in {"stun", "turn", "turns"}:
        from voiceinsights._exceptions import ConfigError

        raise ConfigError(f"ICE server {url!r} must start with stun:, turn: or turns:")
    if "@" in rest:
        creds, _, hostport = rest.rpartition("@")
        user, sep, password = creds.partition(":")
        if not sep:  # keep the secret off the command line
            import os

            password = os.environ.get("VOICEINSIGHTS_TURN_PASSWORD", "")
        return factory(urls=f"{scheme}:{hostport}", username=user, credential=password)
    return factory(urls=url)

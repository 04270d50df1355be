"""Loopback-only ICE gathering, without patching anything in the tests."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys

import aioice.ice
import pytest

from voiceinsights._exceptions import ConfigError
from voiceinsights.probe._analyse import candidates_from_sdp
from voiceinsights.probe._ice import (
    gather_addresses_for,
    host_addresses,
    ice_configuration,
    is_loopback,
    selected_addresses,
)

from .conftest import REPO


def test_gather_addresses_for() -> None:
    assert gather_addresses_for("127.0.0.1") == ("127.0.0.1",)
    assert gather_addresses_for("127.0.0.5") == ("127.0.0.5",)
    assert gather_addresses_for("localhost") == ("127.0.0.1",)
    assert gather_addresses_for("[::1]") == ("::1",)
    assert gather_addresses_for("192.0.2.10") is None  # aioice's default interfaces
    assert gather_addresses_for("192.0.2.10", bind="127.0.0.1") == ("127.0.0.1",)
    assert gather_addresses_for("127.0.0.1", bind="0.0.0.0") is None
    assert is_loopback("localhost")
    assert not is_loopback("192.0.2.1")


def test_no_public_stun_by_default() -> None:
    config = ice_configuration()
    assert config.iceServers == []
    turn = ice_configuration(["turn:u:p@127.0.0.1:3478"], relay_only=True)
    assert turn.iceServers[0].username == "u"
    assert turn.iceServers[0].urls == "turn:127.0.0.1:3478"
    assert turn.iceTransportPolicy.value == "relay"


def test_turn_password_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICEINSIGHTS_TURN_PASSWORD", "from-env")
    (server,) = ice_configuration(["turn:alice@127.0.0.1:3478"]).iceServers
    assert (server.username, server.credential) == ("alice", "from-env")
    with pytest.raises(ConfigError):
        ice_configuration(["127.0.0.1:3478"])


def test_scope_is_per_task_and_restored() -> None:
    async def gather(addresses: list[str]) -> list[str]:
        with host_addresses(addresses):
            await asyncio.sleep(0.01)  # let the other task run inside its own scope
            return aioice.ice.get_host_addresses(True, True)

    async def main() -> tuple[list[str], list[str]]:
        a, b = await asyncio.gather(gather(["127.0.0.1"]), gather(["127.0.0.2", "::1"]))
        return a, b

    a, b = asyncio.run(main())
    assert a == ["127.0.0.1"]
    assert b == ["127.0.0.2", "::1"]
    assert selected_addresses() is None
    # Outside any scope aioice behaves as usual: it never offers 127.0.0.1 itself.
    assert "127.0.0.1" not in aioice.ice.get_host_addresses(True, False)


def test_offer_gathers_only_loopback() -> None:
    from aiortc import RTCPeerConnection

    from voiceinsights.probe._signal import signal_track, speech_like

    async def main() -> str:
        pc = RTCPeerConnection(ice_configuration())
        pc.addTrack(signal_track(speech_like(1.0)))
        with host_addresses(["127.0.0.1"]):
            await pc.setLocalDescription(await pc.createOffer())
        sdp: str = pc.localDescription.sdp
        await pc.close()
        return sdp

    cands = candidates_from_sdp(asyncio.run(main()), remote=False)
    assert cands, "no candidate gathered"
    assert {c["address"] for c in cands} == {"127.0.0.1"}
    assert {c["candidateType"] for c in cands} == {"host"}


_NETNS_SCRIPT = """
import asyncio, sys
from voiceinsights.probe._signaling import serve_echo
from voiceinsights.probe._run import run_async

async def main():
    stop = asyncio.Event()
    out = {}
    async def ready(url):
        out["report"] = await run_async(url, duration_s=2, check=False)
        stop.set()
    await serve_echo("127.0.0.1", 0, ready=ready, stop=stop)
    r = out["report"]
    print(r.status, r.failed_phase, r.error, sorted({c["address"] for c in r.ice_candidates}))
    sys.exit(0 if r.ok else 1)

asyncio.run(main())
"""


@pytest.mark.network
def test_probe_works_in_a_namespace_with_only_lo() -> None:
    ip = shutil.which("ip")
    if ip is None:
        pytest.skip("iproute2 is not installed")
    name = "vi-probe-test"
    subprocess.run([ip, "netns", "del", name], capture_output=True, check=False)
    made = subprocess.run([ip, "netns", "add", name], capture_output=True, text=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"network namespaces are not permitted here: {made.stderr.strip()}")
    try:
        subprocess.run([ip, "-n", name, "link", "set", "lo", "up"], check=True)
        links = subprocess.run(
            [ip, "-n", name, "-o", "link"], capture_output=True, text=True, check=True
        ).stdout
        assert [ln.split(":")[1].strip() for ln in links.splitlines()] == ["lo"]
        done = subprocess.run(
            [ip, "netns", "exec", name, sys.executable, "-c", _NETNS_SCRIPT],
            capture_output=True,
            text=True,
            cwd=REPO,
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.split()[0] == "ok"
        assert "['127.0.0.1']" in done.stdout
    finally:
        subprocess.run([ip, "netns", "del", name], capture_output=True, check=False)

"""The caller's side of signaling: post the offer, read the answer, delete the session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from voiceinsights._exceptions import ProbeError

__all__ = ["Answer", "check_answer", "delete_session", "endpoint_for", "post_offer"]


@dataclass(frozen=True)
class Answer:
    """The echo endpoint's answer: SDP and the URL that ends the session (if given)."""

    sdp: str
    session_url: str | None


def endpoint_for(url: str) -> tuple[str, str]:
    """``(post_url, variant)`` for a probe URL.

    A URL whose path ends in ``/whip`` uses the WHIP variant (``application/sdp``), one
    ending in ``/offer`` the JSON variant; a bare base URL (``http://host:port`` or with a
    path ending in ``/``) posts JSON to ``<base>/offer``.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ProbeError(f"{url!r} is not an http(s) URL of an echo endpoint", phase="signaling")
    path = parts.path.rstrip("/")
    if path.endswith("/whip"):
        return url, "whip"
    if path.endswith("/offer"):
        return url, "json"
    base = url if url.endswith("/") else url + "/"
    return urljoin(base, "offer"), "json"


def check_answer(sdp: str) -> None:
    """Raise ``ProbeError(phase="signaling")`` unless ``sdp`` is a usable SDP answer."""
    lines = [ln.strip() for ln in sdp.strip().splitlines()]
    problems = []
    if not lines or lines[0] != "v=0":
        problems.append("it does not start with 'v=0'")
    if not any(ln.startswith("m=audio ") for ln in lines):
        problems.append("it has no audio section (m=audio)")
    if not any(ln.startswith("a=fingerprint:") for ln in lines):
        problems.append("it has no DTLS fingerprint")
    if not any(ln.startswith("a=ice-ufrag:") for ln in lines):
        problems.append("it has no ICE credentials")
    if problems:
        raise ProbeError("malformed SDP answer: " + "; ".join(problems), phase="signaling")


def _headers(token: str | None, content_type: str | None = None) -> dict[str, str]:
    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


async def post_offer(
    client: httpx.AsyncClient, url: str, offer_sdp: str, *, token: str | None = None
) -> Answer:
    """Send the offer; return the answer or raise ``ProbeError(phase="signaling")``."""
    post_url, variant = endpoint_for(url)
    try:
        if variant == "whip":
            response = await client.post(
                post_url, content=offer_sdp, headers=_headers(token, "application/sdp")
            )
        else:
            response = await client.post(
                post_url,
                json={"sdp": offer_sdp, "type": "offer"},
                headers=_headers(token),
            )
    except httpx.TimeoutException:
        raise ProbeError(f"{post_url} did not answer in time", phase="signaling") from None
    except httpx.HTTPError as exc:
        raise ProbeError(
            f"cannot reach the echo endpoint {post_url}: {type(exc).__name__}: {exc}",
            phase="signaling",
        ) from None
    if response.status_code != 201 and response.status_code != 200:
        body = response.text.strip()[:300]
        raise ProbeError(
            f"the echo endpoint answered HTTP {response.status_code}"
            + (f": {body}" if body else ""),
            phase="signaling",
        )
    if variant == "whip":
        sdp = response.text
    else:
        try:
            data: Any = response.json()
        except ValueError:
            raise ProbeError("the answer is not JSON", phase="signaling") from None
        if not isinstance(data, dict) or not isinstance(data.get("sdp"), str):
            raise ProbeError('the JSON answer has no "sdp" string', phase="signaling")
        sdp = data["sdp"]
    check_answer(sdp)
    location = response.headers.get("location")
    session_url = urljoin(post_url, location) if location else None
    return Answer(sdp=sdp, session_url=session_url)


async def delete_session(
    client: httpx.AsyncClient, session_url: str, *, token: str | None = None
) -> str | None:
    """End the session; returns an error message or ``None`` when it went fine."""
    try:
        response = await client.delete(session_url, headers=_headers(token))
    except httpx.HTTPError as exc:
        return f"DELETE {session_url} failed: {type(exc).__name__}: {exc}"
    if response.status_code >= 400 and response.status_code != 404:
        return f"DELETE {session_url} answered HTTP {response.status_code}"
    return None

"""Credentials and base URLs, from arguments or Twilio's usual environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from voiceinsights._exceptions import ConfigError

__all__ = [
    "DEFAULT_API_BASE",
    "DEFAULT_INSIGHTS_BASE",
    "Credentials",
    "get_base_urls",
]

#: Twilio's public REST host for the 2010-04-01 API (Calls). Tests never contact it.
DEFAULT_API_BASE = "https://api.twilio.com"
#: Twilio's public Voice Insights host (``/v1``). Tests never contact it.
DEFAULT_INSIGHTS_BASE = "https://insights.twilio.com"

_ENV_API_BASE = "VOICEINSIGHTS_TWILIO_API_BASE"
_ENV_INSIGHTS_BASE = "VOICEINSIGHTS_TWILIO_INSIGHTS_BASE"


@dataclass(frozen=True)
class Credentials:
    """Who the client authenticates as.

    Twilio accepts HTTP Basic auth with either the Account SID and its auth token, or an
    API key SID (``SK...``) and its secret; the Account SID is needed in both cases because
    it is part of the Calls URL.

    Parameters
    ----------
    account_sid : str
        ``AC`` followed by 32 hex digits.
    username : str
        The Account SID (auth token login) or the API key SID.
    password : str
        The auth token or the API key secret. Never shown by ``repr``.
    """

    account_sid: str
    username: str
    password: str = field(repr=False)

    @property
    def uses_api_key(self) -> bool:
        """True when authenticating with an API key rather than the auth token."""
        return self.username != self.account_sid

    def auth(self) -> httpx.BasicAuth:
        """The httpx Basic auth object for these credentials."""
        return httpx.BasicAuth(self.username, self.password)

    @classmethod
    def from_env(
        cls,
        *,
        account_sid: str | None = None,
        auth_token: str | None = None,
        api_key: str | None = None,
        api_secret: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Credentials:
        """Build credentials from arguments, falling back on the environment.

        Reads ``TWILIO_ACCOUNT_SID``, ``TWILIO_AUTH_TOKEN``, ``TWILIO_API_KEY`` and
        ``TWILIO_API_SECRET``. An API key and secret win over the auth token when both are
        given.

        Raises
        ------
        ConfigError
            When the Account SID is missing or malformed, or neither an auth token nor an
            API key with its secret is available.
        """
        environ = os.environ if env is None else env
        sid = account_sid or environ.get("TWILIO_ACCOUNT_SID", "")
        token = auth_token or environ.get("TWILIO_AUTH_TOKEN", "")
        key = api_key or environ.get("TWILIO_API_KEY", "")
        secret = api_secret or environ.get("TWILIO_API_SECRET", "")
        if not sid:
            raise ConfigError("no Twilio Account SID: set TWILIO_ACCOUNT_SID (or pass account_sid)")
        if not (sid.startswith("AC") and len(sid) == 34):
            raise ConfigError(
                f"TWILIO_ACCOUNT_SID {sid!r} is not an Account SID (AC + 32 hex digits)"
            )
        if key or secret:
            if not (key and secret):
                missing = "TWILIO_API_SECRET" if key else "TWILIO_API_KEY"
                raise ConfigError(
                    f"an API key needs both TWILIO_API_KEY and "
                    f"TWILIO_API_SECRET; {missing} is missing"
                )
            if not key.startswith("SK"):
                raise ConfigError(f"TWILIO_API_KEY {key!r} is not an API key SID (SK...)")
            return cls(sid, key, secret)
        if not token:
            raise ConfigError(
                "no Twilio secret: set TWILIO_AUTH_TOKEN, or TWILIO_API_KEY and TWILIO_API_SECRET"
            )
        return cls(sid, sid, token)


def _check_base(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name} {value!r} is not an http(s) URL")
    if parts.query or parts.fragment:
        raise ConfigError(f"{name} {value!r} must not carry a query or fragment")
    return value.rstrip("/")


def get_base_urls(
    api_base: str | None = None,
    insights_base: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """Return ``(api_base, insights_base)`` without trailing slashes.

    Arguments win, then ``VOICEINSIGHTS_TWILIO_API_BASE`` /
    ``VOICEINSIGHTS_TWILIO_INSIGHTS_BASE``, then Twilio's public hosts. A base is the scheme
    and host (and optional path prefix) in front of ``/2010-04-01/...`` and ``/v1/...``:
    point both at a regional edge or at a local fake for tests.
    """
    environ = os.environ if env is None else env
    api = api_base or environ.get(_ENV_API_BASE) or DEFAULT_API_BASE
    ins = insights_base or environ.get(_ENV_INSIGHTS_BASE) or DEFAULT_INSIGHTS_BASE
    return _check_base("api base", api), _check_base("insights base", ins)

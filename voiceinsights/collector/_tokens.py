"""Tokens that authenticate browsers posting SDK events to the collector.

Two kinds are accepted, both JWTs signed with HS256:

* a **Twilio AccessToken** (the one the page already has for the Voice SDK), signed with an
  API key secret the collector is given; the caller's identity is ``grants.identity``;
* a **collector-issued ingest token** (``issue_ingest_token``), signed with the
  collector's own ingest secret, ``iss`` ``voiceinsights``, ``aud`` ``voiceinsights-ingest``
  and the identity in ``sub``. It lets a page forward events without a Twilio token.

``exp`` is required and ``nbf`` honoured for both, with a small clock-skew leeway.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jwt

from voiceinsights._exceptions import ConfigError, SignatureError

__all__ = ["INGEST_AUDIENCE", "INGEST_ISSUER", "TokenVerifier", "issue_ingest_token"]

INGEST_ISSUER = "voiceinsights"
INGEST_AUDIENCE = "voiceinsights-ingest"
_LEEWAY_S = 30.0


def issue_ingest_token(
    secret: str, identity: str, *, ttl_s: float = 3600.0, now: float | None = None
) -> str:
    """Return a collector ingest token for ``identity``, valid for ``ttl_s`` seconds.

    Parameters
    ----------
    secret : str
        The collector's ingest secret (``VOICEINSIGHTS_INGEST_SECRET``).
    identity : str
        Stored with every event posted with the token.
    ttl_s : float
        Lifetime in seconds.
    now : float, optional
        Issue time (Unix seconds); defaults to the current time.
    """
    if not secret:
        raise ConfigError("an ingest secret is required to issue ingest tokens")
    if not identity:
        raise ConfigError("an ingest token needs a non-empty identity")
    if ttl_s <= 0:
        raise ConfigError(f"ttl_s must be positive, got {ttl_s}")
    iat = int(time.time() if now is None else now)
    payload = {
        "iss": INGEST_ISSUER,
        "aud": INGEST_AUDIENCE,
        "sub": identity,
        "iat": iat,
        "nbf": iat,
        "exp": iat + int(ttl_s),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(payload, secret, algorithm="HS256")


@dataclass(frozen=True)
class TokenVerifier:
    """Verify bearer tokens on ``/sdk/events`` and return the caller's identity.

    Parameters
    ----------
    api_secrets : sequence of str
        Twilio API key secrets that sign AccessTokens (several during a rotation).
    ingest_secrets : sequence of str
        Secrets of collector-issued ingest tokens.
    account_sid : str, optional
        When given, an AccessToken's ``sub`` must be this account.
    """

    api_secrets: Sequence[str] = ()
    ingest_secrets: Sequence[str] = ()
    account_sid: str | None = None

    @property
    def enabled(self) -> bool:
        """Whether any secret is configured (otherwise every token is refused)."""
        return bool(self.api_secrets or self.ingest_secrets)

    def verify(self, token: str | None) -> str:
        """Return the identity a valid token carries.

        Raises
        ------
        SignatureError
            With a reason: missing, malformed, expired, not yet valid, bad signature, no
            identity, wrong account.
        """
        if not token:
            raise SignatureError("missing token (Authorization: Bearer ... or ?token=)")
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise SignatureError("malformed token") from None
        if header.get("alg") != "HS256":
            raise SignatureError(f"token algorithm {header.get('alg')!r} is not HS256")
        if claims.get("iss") == INGEST_ISSUER:
            decoded = self._decode(token, self.ingest_secrets, "ingest", INGEST_AUDIENCE)
            identity = decoded.get("sub")
        else:
            decoded = self._decode(token, self.api_secrets, "AccessToken", None)
            if self.account_sid is not None and decoded.get("sub") != self.account_sid:
                raise SignatureError("AccessToken belongs to another account")
            grants = decoded.get("grants")
            identity = grants.get("identity") if isinstance(grants, dict) else None
        if not isinstance(identity, str) or not identity:
            raise SignatureError("token carries no identity")
        return identity

    @staticmethod
    def _decode(
        token: str,
        secrets: Sequence[str],
        what: str,
        audience: str | None,
    ) -> dict[str, Any]:
        if not secrets:
            raise SignatureError(f"{what} tokens are not accepted by this collector")
        options: Any = {"require": ["exp"], "verify_aud": audience is not None}
        last: Exception | None = None
        for secret in secrets:
            try:
                decoded: dict[str, Any] = jwt.decode(
                    token,
                    secret,
                    algorithms=["HS256"],
                    options=options,
                    audience=audience,
                    leeway=_LEEWAY_S,
                )
            except jwt.InvalidSignatureError as exc:
                last = exc
                continue
            except jwt.ExpiredSignatureError:
                raise SignatureError(f"{what} token has expired") from None
            except jwt.ImmatureSignatureError:
                raise SignatureError(f"{what} token is not valid yet (nbf)") from None
            except jwt.MissingRequiredClaimError as exc:
                raise SignatureError(f"{what} token lacks the {exc.claim!r} claim") from None
            except jwt.InvalidAudienceError:
                raise SignatureError(f"{what} token has the wrong audience") from None
            except jwt.PyJWTError as exc:
                raise SignatureError(f"{what} token is invalid: {exc}") from None
            return decoded
        raise SignatureError(f"{what} token signature does not verify") from last

"""AccessToken and ingest-token verification with real HS256 JWTs."""

from __future__ import annotations

import time

import jwt
import pytest

from voiceinsights import ConfigError, SignatureError
from voiceinsights.collector import TokenVerifier, issue_ingest_token

API_KEY = "SK" + "0" * 32
ACCOUNT = "AC" + "1" * 32
SECRET = "api-key-secret-0123456789abcdef0123"
INGEST = "ingest-secret-0123456789abcdef012345"


def access_token(
    secret: str = SECRET,
    *,
    identity: str | None = "alice",
    exp_in: float = 600,
    nbf_in: float = 0,
    account: str = ACCOUNT,
    alg: str = "HS256",
) -> str:
    """An AccessToken shaped like Twilio's helper libraries make it."""
    now = int(time.time())
    grants: dict[str, object] = {"voice": {"incoming": {"allow": True}}}
    if identity is not None:
        grants["identity"] = identity
    payload = {
        "jti": f"{API_KEY}-{now}",
        "iss": API_KEY,
        "sub": account,
        "iat": now,
        "nbf": now + int(nbf_in),
        "exp": now + int(exp_in),
        "grants": grants,
    }
    return jwt.encode(payload, secret, algorithm=alg, headers={"cty": "twilio-fpa;v=1"})


def test_access_token_identity() -> None:
    v = TokenVerifier(api_secrets=[SECRET])
    assert v.verify(access_token()) == "alice"
    rotated = TokenVerifier(api_secrets=["older-secret-0123456789abcdef012345", SECRET])
    assert rotated.verify(access_token()) == "alice"


@pytest.mark.parametrize(
    ("token_kwargs", "reason"),
    [
        ({"exp_in": -3600}, "expired"),
        ({"nbf_in": 3600}, "not valid yet"),
        ({"secret": "wrong-secret-0123456789abcdef01234567"}, "signature does not verify"),
        ({"identity": None}, "no identity"),
        ({"account": "AC" + "2" * 32}, "another account"),
        ({"alg": "HS512", "secret": SECRET * 2}, "not HS256"),
    ],
)
def test_access_token_refusals(token_kwargs: dict[str, object], reason: str) -> None:
    v = TokenVerifier(api_secrets=[SECRET], account_sid=ACCOUNT)
    with pytest.raises(SignatureError, match=reason):
        v.verify(access_token(**token_kwargs))  # type: ignore[arg-type]


def test_missing_and_malformed() -> None:
    v = TokenVerifier(api_secrets=[SECRET])
    with pytest.raises(SignatureError, match="missing token"):
        v.verify(None)
    with pytest.raises(SignatureError, match="malformed"):
        v.verify("not.a.jwt")
    unsigned = jwt.encode(
        {"exp": time.time() + 60, "grants": {"identity": "x"}}, None, algorithm="none"
    )
    with pytest.raises(SignatureError, match="not HS256"):
        v.verify(unsigned)


def test_ingest_tokens() -> None:
    v = TokenVerifier(ingest_secrets=[INGEST])
    assert v.verify(issue_ingest_token(INGEST, "kiosk-7")) == "kiosk-7"
    old = issue_ingest_token(INGEST, "kiosk-7", ttl_s=10, now=time.time() - 3600)
    with pytest.raises(SignatureError, match="expired"):
        v.verify(old)
    with pytest.raises(SignatureError, match="signature"):
        v.verify(issue_ingest_token("other-secret-0123456789abcdef0123456", "kiosk-7"))
    # An AccessToken is refused where only ingest tokens are configured, and vice versa.
    with pytest.raises(SignatureError, match="not accepted"):
        v.verify(access_token())
    with pytest.raises(SignatureError, match="not accepted"):
        TokenVerifier(api_secrets=[SECRET]).verify(issue_ingest_token(INGEST, "x"))
    with pytest.raises(ConfigError):
        issue_ingest_token("", "x")

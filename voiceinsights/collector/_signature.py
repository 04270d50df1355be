"""Twilio request signatures: ``X-Twilio-Signature`` and ``bodySHA256``.

Twilio signs every webhook it sends. For a form POST the signed string is the full URL it
requested followed by every parameter name and value, names in code-point order and the
values of a repeated name sorted too; the signature is the base64 of the HMAC-SHA1 of that
string keyed with the account's auth token. A JSON body (Event Streams webhook sinks) is
instead covered by a ``bodySHA256`` query parameter (hex SHA-256 of the raw body) and the
signature is over the URL alone.

Twilio may have signed the URL with or without the port, so a request is accepted if it
matches with the port stripped or with the scheme's default port added (the "port quirk").
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from voiceinsights._exceptions import SignatureError

__all__ = [
    "body_sha256",
    "compute_signature",
    "get_url_variants",
    "validate_body_signature",
    "validate_form_signature",
]

_DEFAULT_PORTS = {"https": 443, "http": 80}


def compute_signature(url: str, params: Iterable[tuple[str, str]], auth_token: str) -> str:
    """Return the ``X-Twilio-Signature`` Twilio would send for a request.

    Parameters
    ----------
    url : str
        The full URL Twilio requested, query string included, exactly as sent.
    params : iterable of (str, str)
        The POST form parameters as ``(name, value)`` pairs; a name may repeat. Empty for
        GET requests and JSON bodies.
    auth_token : str
        The account's auth token (the HMAC key).

    Returns
    -------
    str
        Base64 of HMAC-SHA1(auth_token, url + sorted names and values).
    """
    return _sign(auth_token, (url + _signed_params(params)).encode()).decode("ascii")


def _signed_params(params: Iterable[tuple[str, str]]) -> str:
    """The parameters' part of the signed string: names and values, sorted."""
    # By name, then by value: repeated names get sorted values.
    return "".join([name + value for name, value in sorted(params)])


def _sign(auth_token: str, message: bytes) -> bytes:
    return base64.b64encode(hmac.digest(auth_token.encode(), message, "sha1"))


def body_sha256(body: bytes) -> str:
    """Hex SHA-256 of a raw request body, as Twilio puts in ``bodySHA256``."""
    return hashlib.sha256(body).hexdigest()


@functools.lru_cache(maxsize=256)
def _url_variants(url: str) -> tuple[str, ...]:
    # A collector sees few distinct callback URLs; remember their variants.
    return tuple(get_url_variants(url))


def get_url_variants(url: str) -> list[str]:
    """Return ``url`` and the variant the port quirk also accepts.

    With an explicit port the variant has it stripped; without one it has the scheme's
    default port (443 for https, 80 for http) added.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    userinfo = ""
    if "@" in parts.netloc:
        userinfo = parts.netloc.rsplit("@", 1)[0] + "@"
    if parts.port is not None:
        netloc = userinfo + host
    else:
        default = _DEFAULT_PORTS.get(parts.scheme.lower())
        if default is None:
            return [url]
        netloc = f"{userinfo}{host}:{default}"
    other = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return [url] if other == url else [url, other]


def _matches(expected: str, signature: str) -> bool:
    return hmac.compare_digest(expected.encode(), signature.encode())


def _verify(url: str, signed_params: str, signature: str, auth_tokens: Sequence[str]) -> bool:
    given = signature.encode()
    for variant in _url_variants(url):
        message = (variant + signed_params).encode()
        for token in auth_tokens:
            # Each comparison is constant-time; stopping at a match only reveals which URL
            # variant or token (old or new) matched, which is no secret.
            if hmac.compare_digest(_sign(token, message), given):
                return True
    return False


def validate_form_signature(
    url: str,
    params: Sequence[tuple[str, str]],
    signature: str | None,
    auth_tokens: Sequence[str],
) -> None:
    """Check the signature of a form-encoded (or GET) Twilio request.

    Parameters
    ----------
    url : str
        The URL Twilio requested (behind a proxy: the public URL plus path and query).
    params : sequence of (str, str)
        The decoded form parameters.
    signature : str or None
        The ``X-Twilio-Signature`` header.
    auth_tokens : sequence of str
        Accepted auth tokens (several during a rotation).

    Raises
    ------
    SignatureError
        When the header is missing or no token and URL variant reproduces it.
    """
    if not signature:
        raise SignatureError("missing X-Twilio-Signature header")
    if not _verify(url, _signed_params(params), signature, auth_tokens):
        raise SignatureError("X-Twilio-Signature does not match the request")


def validate_body_signature(
    url: str, body: bytes, signature: str | None, auth_tokens: Sequence[str]
) -> None:
    """Check a Twilio request with a JSON body: ``bodySHA256`` in the query and the signature.

    Raises
    ------
    SignatureError
        When ``bodySHA256`` is missing or differs from the body's hash, or the signature
        over the URL does not verify.
    """
    query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    claimed = query.get("bodySHA256")
    if not claimed:
        raise SignatureError("missing bodySHA256 query parameter")
    if not _matches(body_sha256(body), claimed.lower()):
        raise SignatureError("bodySHA256 does not match the body")
    validate_form_signature(url, (), signature, auth_tokens)

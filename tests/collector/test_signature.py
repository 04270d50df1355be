"""X-Twilio-Signature and bodySHA256 against the reference's published vectors."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from voiceinsights import SignatureError
from voiceinsights.collector import (
    body_sha256,
    compute_signature,
    get_url_variants,
    validate_body_signature,
    validate_form_signature,
)

# twilio-voice-data.md section 2: Twilio's public test vector.
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
]
EXPECTED = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
JSON_BODY = b'{"property": "value", "boolean": true}'
JSON_SHA = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"


def test_reference_vector() -> None:
    assert compute_signature(URL, PARAMS, "12345") == EXPECTED


def test_parameter_order_does_not_matter() -> None:
    assert compute_signature(URL, list(reversed(PARAMS)), "12345") == EXPECTED


def test_reference_body_hash() -> None:
    assert body_sha256(JSON_BODY) == JSON_SHA


def test_multi_valued_parameters_are_sorted_by_value() -> None:
    # Independent computation of the documented algorithm: name+value, values sorted.
    s = "https://x.test/cb" + "A1" + "Bb" + "Bc" + "Bz"
    want = base64.b64encode(hmac.new(b"tok", s.encode(), hashlib.sha1).digest()).decode()
    got = compute_signature(
        "https://x.test/cb", [("B", "z"), ("A", "1"), ("B", "b"), ("B", "c")], "tok"
    )
    assert got == want


def test_validate_accepts_reference_and_rejects_alterations() -> None:
    validate_form_signature(URL, PARAMS, EXPECTED, ["12345"])
    altered = [*PARAMS[:-1], ("To", "+18005551213")]
    with pytest.raises(SignatureError, match="does not match"):
        validate_form_signature(URL, altered, EXPECTED, ["12345"])
    with pytest.raises(SignatureError, match="does not match"):
        validate_form_signature(URL + "&x=1", PARAMS, EXPECTED, ["12345"])
    with pytest.raises(SignatureError, match="does not match"):
        validate_form_signature(URL, PARAMS, EXPECTED, ["54321"])
    with pytest.raises(SignatureError, match="missing"):
        validate_form_signature(URL, PARAMS, None, ["12345"])


def test_token_rotation_accepts_any_configured_token() -> None:
    validate_form_signature(URL, PARAMS, EXPECTED, ["old-token", "12345"])


def test_port_quirk_both_directions() -> None:
    assert get_url_variants("https://a.test:8443/p?q=1") == [
        "https://a.test:8443/p?q=1",
        "https://a.test/p?q=1",
    ]
    assert get_url_variants("https://a.test/p") == ["https://a.test/p", "https://a.test:443/p"]
    assert get_url_variants("http://a.test/p") == ["http://a.test/p", "http://a.test:80/p"]
    # Twilio signed with the port, the server is configured without it ...
    sig = compute_signature("https://mycompany.com:443/myapp.php?foo=1&bar=2", PARAMS, "12345")
    validate_form_signature(URL, PARAMS, sig, ["12345"])
    # ... and signed without the port while the server sees one.
    validate_form_signature(
        "https://mycompany.com:1234/myapp.php?foo=1&bar=2", PARAMS, EXPECTED, ["12345"]
    )
    # A different host is not a port variant.
    with pytest.raises(SignatureError):
        validate_form_signature(
            "https://other.com/myapp.php?foo=1&bar=2", PARAMS, EXPECTED, ["12345"]
        )


def test_body_signature() -> None:
    url = f"https://mycompany.com/myapp.php?bodySHA256={JSON_SHA}"
    sig = compute_signature(url, [], "12345")
    validate_body_signature(url, JSON_BODY, sig, ["12345"])
    with pytest.raises(SignatureError, match="bodySHA256 does not match"):
        validate_body_signature(url, JSON_BODY + b" ", sig, ["12345"])
    with pytest.raises(SignatureError, match="missing bodySHA256"):
        validate_body_signature("https://mycompany.com/myapp.php", JSON_BODY, sig, ["12345"])
    with pytest.raises(SignatureError, match="does not match the request"):
        validate_body_signature(url, JSON_BODY, EXPECTED, ["12345"])

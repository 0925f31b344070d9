"""Twilio signatures: the documented vector, twilio-python as the oracle, and fail-closed input."""

from __future__ import annotations

import random
import string
from typing import Any, cast

import pytest
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from ivr.twilio.signature import SIGNATURE_HEADER, TwilioSignature, public_url

TOKEN = "12345"
DOC_URL = "https://example.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675310",
    "Digits": "1234",
    "From": "+14158675310",
    "To": "+18005551212",
}
DOC_SIGNATURE = "L/OH5YylLD5NRKLltdqwSvS0BnU="


@pytest.fixture
def sig() -> TwilioSignature:
    return TwilioSignature(TOKEN)


def test_header_name() -> None:
    assert SIGNATURE_HEADER == "X-Twilio-Signature"


def test_documented_vector(sig: TwilioSignature) -> None:
    assert sig.expected(DOC_URL, DOC_PARAMS) == DOC_SIGNATURE
    assert sig.is_valid(DOC_URL, DOC_PARAMS, DOC_SIGNATURE)


def test_documented_vector_with_multidict_and_pairs(sig: TwilioSignature) -> None:
    assert sig.is_valid(DOC_URL, MultiDict(DOC_PARAMS), DOC_SIGNATURE)
    assert sig.is_valid(DOC_URL, list(reversed(DOC_PARAMS.items())), DOC_SIGNATURE)


@pytest.mark.parametrize(
    ("url", "params", "signature"),
    [
        ("https://example.com/myapp.php?foo=1&bar=3", DOC_PARAMS, DOC_SIGNATURE),
        ("http://example.com/myapp.php?foo=1&bar=2", DOC_PARAMS, DOC_SIGNATURE),
        ("https://example.com/myapp.php/?foo=1&bar=2", DOC_PARAMS, DOC_SIGNATURE),
        ("https://www.example.com/myapp.php?foo=1&bar=2", DOC_PARAMS, DOC_SIGNATURE),
        (DOC_URL, {**DOC_PARAMS, "Digits": "1235"}, DOC_SIGNATURE),
        (DOC_URL, {**DOC_PARAMS, "Extra": "x"}, DOC_SIGNATURE),
        (DOC_URL, {k: v for k, v in DOC_PARAMS.items() if k != "To"}, DOC_SIGNATURE),
        (DOC_URL, {**DOC_PARAMS, "Digits": "1234 "}, DOC_SIGNATURE),
        (DOC_URL, {}, DOC_SIGNATURE),
        (DOC_URL, DOC_PARAMS, "M/OH5YylLD5NRKLltdqwSvS0BnU="),
        (DOC_URL, DOC_PARAMS, DOC_SIGNATURE[:-1]),
        (DOC_URL, DOC_PARAMS, DOC_SIGNATURE + "="),
        (DOC_URL, DOC_PARAMS, " " + DOC_SIGNATURE),
        (DOC_URL, DOC_PARAMS, DOC_SIGNATURE.lower()),
        (DOC_URL, DOC_PARAMS, "ü" + DOC_SIGNATURE[1:]),
        (DOC_URL, DOC_PARAMS, ""),
        (DOC_URL, DOC_PARAMS, None),
        (None, DOC_PARAMS, DOC_SIGNATURE),
        ("", DOC_PARAMS, DOC_SIGNATURE),
        ("not a url", DOC_PARAMS, DOC_SIGNATURE),
        ("ftp://example.com/myapp.php?foo=1&bar=2", DOC_PARAMS, DOC_SIGNATURE),
        ("https://example.com:99999/myapp.php", DOC_PARAMS, DOC_SIGNATURE),
        ("https://example.com:abc/myapp.php", DOC_PARAMS, DOC_SIGNATURE),
        ("https://[::1/x", DOC_PARAMS, DOC_SIGNATURE),
        ("https://example.com/\ud800", DOC_PARAMS, DOC_SIGNATURE),
        (DOC_URL, {**DOC_PARAMS, "Digits": 1234}, DOC_SIGNATURE),
        (DOC_URL, cast("dict[object, str]", {**DOC_PARAMS, 7: "x"}), DOC_SIGNATURE),  # int key
        (DOC_URL, {**DOC_PARAMS, "Digits": None}, DOC_SIGNATURE),
        (DOC_URL, {**DOC_PARAMS, "Digits": b"1234"}, DOC_SIGNATURE),
        (DOC_URL, '{"Digits": "1234"}', DOC_SIGNATURE),
        (DOC_URL, b"Digits=1234", DOC_SIGNATURE),
        (DOC_URL, 42, DOC_SIGNATURE),
        (DOC_URL, [("Digits",)], DOC_SIGNATURE),
        (DOC_URL, ["ab"], DOC_SIGNATURE),
    ],
)
def test_tampered_or_odd_input_fails_closed(
    sig: TwilioSignature, url: Any, params: Any, signature: Any
) -> None:
    assert sig.is_valid(url, params, signature) is False


def test_broken_mapping_fails_closed(sig: TwilioSignature) -> None:
    class Broken(dict[str, str]):
        def __getitem__(self, key: str) -> str:
            raise RuntimeError("boom")

    assert sig.is_valid(DOC_URL, Broken(DOC_PARAMS), DOC_SIGNATURE) is False
    assert sig.expected(DOC_URL, Broken(DOC_PARAMS)) == ""


def test_expected_is_empty_for_unsignable_input(sig: TwilioSignature) -> None:
    assert sig.expected(DOC_URL, {"a": 1}) == ""
    assert sig.expected("https://example.com/\ud800", {}) == ""
    assert sig.is_valid("https://example.com/\ud800", {}, "") is False


@pytest.mark.parametrize("token", ["", None, 12345])
def test_empty_token_is_refused(token: Any) -> None:
    with pytest.raises(ValueError, match="auth token"):
        TwilioSignature(token)


def test_repr_hides_the_token() -> None:
    assert TOKEN not in repr(TwilioSignature(TOKEN))


def test_repeated_keys_are_sorted_and_deduplicated_like_twilio(sig: TwilioSignature) -> None:
    form = MultiDict([("b", "2"), ("a", "z"), ("a", "y"), ("a", "z")])
    signed = sig.expected("https://h/x", form)
    assert signed == sig.expected("https://h/x", {"a": ["y", "z"], "b": "2"})
    assert signed == sig.expected("https://h/x", [("a", "y"), ("a", "z"), ("b", "2")])
    assert signed == RequestValidator(TOKEN).compute_signature("https://h/x", form)
    assert sig.is_valid("https://h/x", form, signed)
    # Only the first value of a repeated key would be a different, wrong signature.
    assert signed != sig.expected("https://h/x", {"a": "z", "b": "2"})


@pytest.mark.parametrize(
    ("signed_url", "checked_url"),
    [
        ("https://example.com/voice", "https://example.com:443/voice"),
        ("https://example.com:443/voice", "https://example.com/voice"),
        ("http://example.com/voice", "http://example.com:80/voice"),
        ("https://example.com/voice", "https://example.com:8443/voice"),
        ("wss://example.com/twilio/media", "wss://example.com:443/twilio/media"),
        ("wss://example.com:443/twilio/media", "wss://example.com/twilio/media"),
    ],
)
def test_default_port_forms_both_validate(
    sig: TwilioSignature, signed_url: str, checked_url: str
) -> None:
    assert sig.is_valid(checked_url, DOC_PARAMS, sig.expected(signed_url, DOC_PARAMS))


def test_wrong_default_port_does_not_validate(sig: TwilioSignature) -> None:
    # twilio-python would add :80 to a wss URL; 443 is wss's port, so :80 is simply wrong.
    signed = sig.expected("https://example.com:80/voice", DOC_PARAMS)
    assert not sig.is_valid("https://example.com/voice", DOC_PARAMS, signed)


# --- The Media Streams handshake -------------------------------------------------------------


def test_wss_handshake_validates_and_https_form_does_not(sig: TwilioSignature) -> None:
    base = "https://ivr.example.com"
    signed = RequestValidator(TOKEN).compute_signature("wss://ivr.example.com/twilio/media", {})
    wss = public_url(base, "/twilio/media?", scheme="wss")
    assert wss == "wss://ivr.example.com/twilio/media"
    assert sig.is_valid(wss, {}, signed)
    assert sig.is_valid(wss, None, signed)
    assert not sig.is_valid(public_url(base, "/twilio/media?"), {}, signed)
    assert not sig.is_valid(wss, {"x": "y"}, signed)


def test_missing_header_fails(sig: TwilioSignature) -> None:
    headers: dict[str, str] = {}
    url = public_url("https://ivr.example.com", "/twilio/media", "wss")
    assert not sig.is_valid(url, {}, headers.get(SIGNATURE_HEADER))


# --- public_url ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "full_path", "scheme", "url"),
    [
        ("https://ivr.example.com", "/twilio/voice?", None, "https://ivr.example.com/twilio/voice"),
        ("https://ivr.example.com/", "/twilio/voice?a=1&b=%20", None,
         "https://ivr.example.com/twilio/voice?a=1&b=%20"),
        ("https://ivr.example.com/phone/", "/twilio/voice", None,
         "https://ivr.example.com/phone/twilio/voice"),
        ("https://ivr.example.com:8443", "/twilio/media?", "wss",
         "wss://ivr.example.com:8443/twilio/media"),
        ("http://localhost:5000", "/twilio/media", "ws", "ws://localhost:5000/twilio/media"),
        ("https://ivr.example.com", "/twilio/media", "WSS", "wss://ivr.example.com/twilio/media"),
        ("https://user:pw@ivr.example.com", "/twilio/voice", None,
         "https://ivr.example.com/twilio/voice"),
        ("https://ivr.example.com", "/a b/ü#x", None,
         "https://ivr.example.com/a%20b/%C3%BC%23x"),
        ("https://ivr.example.com", "/already%20encoded", None,
         "https://ivr.example.com/already%20encoded"),
        ("  https://ivr.example.com  ", "/x", None, "https://ivr.example.com/x"),
    ],
)  # fmt: skip
def test_public_url(base: str, full_path: str, scheme: str | None, url: str) -> None:
    assert public_url(base, full_path, scheme) == url


@pytest.mark.parametrize(
    ("base", "full_path", "scheme"),
    [
        ("", "/x", None),
        ("ivr.example.com", "/x", None),
        ("ftp://ivr.example.com", "/x", None),
        ("wss://ivr.example.com", "/x", None),
        ("https://", "/x", None),
        ("https://ivr.example.com?q=1", "/x", None),
        ("https://ivr.example.com#f", "/x", None),
        ("https://ivr.example.com:port", "/x", None),
        ("https://ivr.example.com", "x", None),
        ("https://ivr.example.com", "", None),
        ("https://ivr.example.com", "/x\r\nHost: evil", None),
        ("https://ivr.example.com", "/x", "ftp"),
        ("https://ivr.example.com", "/x", ""),
        (None, "/x", None),
        ("https://ivr.example.com", None, None),
        ("https://[::1", "/x", None),
    ],
)
def test_public_url_refuses_odd_input(base: Any, full_path: Any, scheme: Any) -> None:
    assert public_url(base, full_path, scheme) is None


# --- twilio-python's RequestValidator as the oracle ------------------------------------------

_TEXT = string.ascii_letters + string.digits + " +-_.~%&=?/:@!$'()*,;ÿéü日本語😀"


def _text(rng: random.Random, lo: int = 0, hi: int = 12) -> str:
    return "".join(rng.choice(_TEXT) for _ in range(rng.randint(lo, hi)))


def _url(rng: random.Random) -> str:
    scheme = rng.choice(["https", "https", "http"])
    host = rng.choice(["example.com", "ivr.example.org", "localhost", "127.0.0.1", "a-b.io"])
    port = rng.choice(["", "", ":443", ":80", ":8443", ":5000"])
    path = "/" + "/".join(_text(rng, 0, 6).replace("?", "").replace("#", "") for _ in range(3))
    query = rng.choice(["", "", "?foo=1&bar=2", "?x=" + _text(rng).replace("#", ""), "?"])
    return f"{scheme}://{host}{port}{path}{query}"


def _form(rng: random.Random) -> MultiDict[str, str]:
    names = [_text(rng, 1, 8) for _ in range(rng.randint(0, 4))] + ["CallSid", "From"]
    pairs = [(rng.choice(names), _text(rng)) for _ in range(rng.randint(0, 8))]
    return MultiDict(pairs)


def test_agrees_with_twilio_python_on_random_requests() -> None:
    rng = random.Random(20240611)
    oracle = RequestValidator(TOKEN)
    mine = TwilioSignature(TOKEN)
    valid = 0
    for _ in range(1500):
        url, form = _url(rng), _form(rng)
        assert mine.expected(url, form) == oracle.compute_signature(url, form)
        # Signed on a variant of the URL (port added/removed, another URL, other params).
        signed_url = rng.choice(
            [url, url.replace(":443/", "/"), url.replace(":80/", "/"), _url(rng)]
        )
        signed_form = rng.choice([form, form, _form(rng)])
        signature = oracle.compute_signature(signed_url, signed_form)
        if rng.random() < 0.1:
            signature = signature[:-2] + "A="
        expected = oracle.validate(url, form, signature)
        assert mine.is_valid(url, form, signature) is expected, (url, form, signature)
        valid += expected
    assert 300 < valid < 1400  # both outcomes were exercised

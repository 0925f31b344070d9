"""The TwiML parser: every verb and attribute, URLs resolved as Twilio resolves them."""

from __future__ import annotations

import pytest
from twilio_emulator.twiml import (
    Client,
    Connect,
    Dial,
    Hangup,
    Number,
    Pause,
    Play,
    Redirect,
    Reject,
    Say,
    Sip,
    Stream,
    TwimlError,
    UnsupportedTwiml,
    parse_twiml,
)

DOC = "https://ivr.example.test/twilio/voice"


def parse(body: str) -> list[object]:
    return list(
        parse_twiml(f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>', DOC)
    )


def test_say_with_attributes_and_ssml_children() -> None:
    verbs = parse(
        '<Say voice="Polly.Vicki" language="de-DE" loop="2">Hallo <break time="1s"/> Welt</Say>'
        "<Say>plain</Say>"
    )
    assert verbs == [
        Say("Hallo Welt", voice="Polly.Vicki", language="de-DE", loop=2),
        Say("plain", voice=None, language=None, loop=1),
    ]


def test_play_pause_hangup_reject() -> None:
    verbs = parse(
        '<Play loop="0">/audio/hold.wav</Play><Pause length="2"/><Pause/>'
        '<Reject reason="busy"/><Reject/><Hangup/>'
    )
    assert verbs == [
        Play("https://ivr.example.test/audio/hold.wav", loop=0),
        Pause(2.0),
        Pause(1.0),
        Reject("busy"),
        Reject("rejected"),
        Hangup(),
    ]


def test_redirect_resolves_relative_urls_against_the_document() -> None:
    verbs = parse('<Redirect>next?step=2</Redirect><Redirect method="get">/abs</Redirect>')
    assert verbs == [
        Redirect("https://ivr.example.test/twilio/next?step=2", "POST"),
        Redirect("https://ivr.example.test/abs", "GET"),
    ]


def test_dial_with_number_client_sip_and_attributes() -> None:
    (dial,) = parse(
        '<Dial action="/twilio/dial-done" method="POST" timeout="20" callerId="+442079460000"'
        ' timeLimit="600">'
        '<Number url="whisper" statusCallback="/leg" statusCallbackEvent="initiated answered"'
        ' statusCallbackMethod="GET">+447700900999</Number>'
        "<Client>agent42</Client>"
        '<Sip url="https://other.example/screen" method="GET">sip:desk@pbx.example</Sip>'
        "</Dial>"
    )
    assert isinstance(dial, Dial)
    assert dial.action == "https://ivr.example.test/twilio/dial-done"
    assert (dial.method, dial.timeout, dial.caller_id, dial.time_limit) == (
        "POST",
        20,
        "+442079460000",
        600,
    )
    number, client, sip = dial.targets
    assert number == Number(
        "+447700900999",
        url="https://ivr.example.test/twilio/whisper",
        status_callback="https://ivr.example.test/leg",
        status_callback_event=("initiated", "answered"),
        status_callback_method="GET",
    )
    assert client == Client("agent42") and client.address == "client:agent42"
    assert sip == Sip("sip:desk@pbx.example", url="https://other.example/screen", method="GET")


def test_dial_with_a_bare_number_and_defaults() -> None:
    (dial,) = parse("<Dial> +447700900999 </Dial>")
    assert dial == Dial(targets=(Number("+447700900999"),))
    assert (dial.action, dial.method, dial.timeout) == (None, "POST", 30)


def test_connect_stream_parameters_and_relative_stream_url() -> None:
    (connect,) = parse(
        '<Connect action="/twilio/after"><Stream url="/twilio/media" name="bot"'
        ' statusCallback="/twilio/stream-status">'
        '<Parameter name="token" value="abc"/><Parameter name="lang" value="ko"/>'
        "</Stream></Connect>"
    )
    assert connect == Connect(
        stream=Stream(
            url="wss://ivr.example.test/twilio/media",
            name="bot",
            parameters={"token": "abc", "lang": "ko"},
            status_callback="https://ivr.example.test/twilio/stream-status",
        ),
        action="https://ivr.example.test/twilio/after",
        method="POST",
    )


def test_absolute_wss_stream_url_is_kept() -> None:
    (connect,) = parse('<Connect><Stream url="wss://elsewhere.example/m"/></Connect>')
    assert isinstance(connect, Connect)
    assert connect.stream.url == "wss://elsewhere.example/m"
    assert connect.action is None


def test_empty_response_has_no_verbs() -> None:
    assert parse_twiml("<Response/>", DOC) == []


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ("<Response><Say>unclosed</Response>", "malformed XML"),
        ("", "malformed XML"),
        ("<Speak/>", "root element is <Speak>"),
        ("<Response><say>lower case</say></Response>", "<say> is not a TwiML verb"),
        ("<Response><Dance/></Response>", "<Dance> is not a TwiML verb"),
        ('<Response><Pause length="soon"/></Response>', "not a number"),
        ('<Response><Say loop="-1">x</Say></Response>', "at least 0"),
        ('<Response><Reject reason="nope"/></Response>', "expected 'rejected' or 'busy'"),
        ('<Response><Redirect method="PUT">/x</Redirect></Response>', "expected GET or POST"),
        ("<Response><Redirect/></Response>", "needs a value"),
        ("<Response><Dial/></Response>", "nothing to dial"),
        ("<Response><Dial><Phone>1</Phone></Dial></Response>", "<Phone> is not a TwiML noun"),
        ("<Response><Connect/></Response>", "exactly one noun"),
        ("<Response><Connect><Stream/></Connect></Response>", "needs a url"),
        (
            '<Response><Connect><Stream url="/m"><Param name="a"/></Stream></Connect></Response>',
            "<Param> is not a TwiML noun",
        ),
        (
            '<Response><Dial><Number statusCallbackEvent="rang">1</Number></Dial></Response>',
            "unknown ['rang']",
        ),
    ],
)
def test_documents_twilio_would_refuse(document: str, fragment: str) -> None:
    with pytest.raises(TwimlError) as raised:
        parse_twiml(document, DOC)
    assert fragment in str(raised.value)
    assert raised.value.code == 12100
    assert not isinstance(raised.value, UnsupportedTwiml)


@pytest.mark.parametrize("verb", ["<Gather/>", "<Record/>", "<Enqueue>q</Enqueue>", "<Start/>"])
def test_valid_twiml_the_emulator_does_not_run(verb: str) -> None:
    with pytest.raises(UnsupportedTwiml, match="does not implement") as raised:
        parse_twiml(f"<Response>{verb}</Response>", DOC)
    assert raised.value.code is None

"""The Twilio edge: the only package that speaks Twilio.

Signatures (:mod:`~ivr.twilio.signature`), webhook forms turned into our events
(:mod:`~ivr.twilio.forms`), the Media Streams serializer and socket
(:mod:`~ivr.twilio.media_stream`, :mod:`~ivr.twilio.stream`), TwiML
(:mod:`~ivr.twilio.twiml`), the routes (:mod:`~ivr.twilio.routes`) and the REST API
(:mod:`~ivr.twilio.dialer`, :mod:`~ivr.twilio.ringer`). Nothing behind it sees a Twilio field
name or status string: ``CallSid`` becomes ``call_id`` here.
"""

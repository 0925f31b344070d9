"""The Twilio edge: request signatures and the Media Streams serializer.

Nothing behind this package sees a Twilio field name: ``CallSid`` becomes ``call_id`` here.
"""

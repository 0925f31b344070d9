"""One phone call as data flowing through stages: audio in, words, a decision, audio out.

Nothing here knows Twilio: the socket edge (``ivr.web.media``) turns Twilio's messages into
calls on :class:`~ivr.call.pipeline.CallPipeline` and its :class:`~ivr.call.pipeline.Outbox`
back into Twilio's messages.
"""

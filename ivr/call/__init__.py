"""One phone call as data flowing through stages: audio in, words, a decision, audio out.

Nothing here knows Twilio: the transport opens a :class:`~ivr.call.live.LiveCall` and feeds
it; the :class:`~ivr.call.switchboard.Switchboard` decides what happens around the bot's
stream (answer, transfer, callback, goodbye) from the events of :mod:`ivr.telephony`.
"""

"""Callbacks: booking them (the desk), placing them (the worker), and what each leg hears.

The desk books what the bot agreed and keeps promises through a database outage (the spool);
the worker places due callbacks through a :class:`~ivr.callbacks.ports.Ringer`; the policy
holds the pure rules (retries, ringing hours).
"""

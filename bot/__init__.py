"""The conversation brain: flows, NLU client, engine. No Flask, no Twilio, no sockets, no clock."""

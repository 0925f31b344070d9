"""The edge and the wiring: CLI, NLU service management, simulator (and later Twilio)."""

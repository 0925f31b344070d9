"""Audio in, words out; words in, audio out. No Flask, no Twilio."""

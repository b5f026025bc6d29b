"""Telephony: SIP/RTP endpoint, media transports for pipecat, Twilio media websocket,
the SIP call runner for the dialer and the scripted resident (softphone)."""

"""Twilio Media Streams: the websocket, its messages, request signatures, and where serve mounts it."""

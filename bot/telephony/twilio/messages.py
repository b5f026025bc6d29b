"""Twilio Media Streams messages: what a peer may send, checked before anything acts on it.

Parsers check every field and raise `StreamError` with a precise message; the caller drops the
message (or, before `start`, refuses the stream).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

MAX_FRAME_BYTES = 64 * 1024  # a 20 ms media message is ~250 bytes; longer ones are dropped
MAX_WS_BYTES = 1024 * 1024  # a frame beyond this closes the socket (1009): the peer is abusive
MAX_AUDIO_BYTES = 8000  # one second of 8 kHz µ-law in one media message
DTMF_DIGITS = frozenset("0123456789*#ABCD")


class StreamError(ValueError):
    """The peer broke the Media Streams protocol (closed with 1008 before start; dropped after)."""


class StreamTooLong(StreamError):
    """A message over MAX_FRAME_BYTES (closed with 1009 before start; dropped after)."""


@dataclass(frozen=True)
class StreamStart:
    stream_sid: str
    call_sid: str
    custom: dict[str, str] = field(default_factory=dict)  # <Parameter>s of the TwiML <Stream>


def decode(text: str) -> dict[str, Any]:
    """A message as a JSON object with a string `event`; StreamError otherwise."""
    if len(text) > MAX_FRAME_BYTES:
        raise StreamTooLong(f"message of {len(text)} characters (limit {MAX_FRAME_BYTES})")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise StreamError("message is not JSON") from None
    if not isinstance(data, dict):
        raise StreamError(f"message is a JSON {type(data).__name__}, not an object")
    if not isinstance(data.get("event"), str):
        raise StreamError("message has no event name")
    return data


def check_message(data: dict[str, Any]) -> str:
    """The event of a message received after `start`, once its body has the shape that event
    needs; StreamError (the message is dropped) otherwise."""
    event = data["event"]
    body = data.get(event)
    if event in ("media", "dtmf", "mark") and not isinstance(body, dict):
        raise StreamError(f"{event} without an object body")
    if event == "media":
        payload = body.get("payload")
        if not isinstance(payload, str) or not payload:
            raise StreamError("media without a payload")
        try:
            audio = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise StreamError("media payload is not base64") from None
        if len(audio) > MAX_AUDIO_BYTES:
            raise StreamError(f"media payload of {len(audio)} bytes (limit {MAX_AUDIO_BYTES})")
    elif event == "dtmf" and not (isinstance(body.get("digit"), str) and body["digit"] in DTMF_DIGITS):
        raise StreamError("dtmf without a valid digit")
    elif event == "mark" and not isinstance(body.get("name"), str):
        raise StreamError("mark without a name")
    return event


def parse_start(message: dict[str, Any]) -> StreamStart:
    start = message.get("start")
    if message.get("event") != "start" or not isinstance(start, dict):
        raise StreamError(f"expected a start event, got {str(message.get('event'))[:40]!r}")
    sid = message.get("streamSid") or start.get("streamSid")
    if not isinstance(sid, str) or not sid or len(sid) > 64:
        raise StreamError("start without streamSid")
    fmt = start.get("mediaFormat") or {}
    if not isinstance(fmt, dict):
        raise StreamError("mediaFormat is not an object")
    if fmt and (fmt.get("encoding") != "audio/x-mulaw" or str(fmt.get("sampleRate", 8000)) != "8000"):
        raise StreamError(f"unsupported media format {str(fmt)[:200]}")
    custom = start.get("customParameters") or {}
    if not isinstance(custom, dict):
        raise StreamError("customParameters is not an object")
    return StreamStart(sid, str(start.get("callSid", ""))[:64], {str(k): str(v) for k, v in custom.items()})

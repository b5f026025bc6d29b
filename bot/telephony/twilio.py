"""Twilio Media Streams on aiohttp: cloud telephony carries calls over a websocket, with
the same pipeline as SIP. Twilio sends `connected`, `start`, `media` (8 kHz µ-law, base64),
`dtmf`, `mark` (our marks echoed once played) and `stop`; we send `media`, `mark` and
`clear` (barge-in). pipecat's TwilioFrameSerializer converts the audio and DTMF.

    add_media_stream_route(app, on_call)   # GET /twilio/media (websocket)
    async def on_call(transport: TwilioCallTransport, start: StreamStart) -> None: ...
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from pipecat.frames.frames import (
    CancelFrame,
    CancelWorkerFrame,
    EndFrame,
    Frame,
    InterruptionFrame,
    OutputAudioRawFrame,
    StartFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessorSetup
from pipecat.serializers.twilio import TwilioFrameSerializer
from pipecat.transports.base_input import BaseInputTransport
from pipecat.transports.base_output import BaseOutputTransport
from pipecat.transports.base_transport import BaseTransport, TransportParams

from bot.telephony.transport import HANGUP_GRACE, call_params

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 1024  # a 20 ms media message is ~250 bytes; cap what a peer may send
START_TIMEOUT = 10.0


class StreamError(ValueError):
    """The peer broke the Media Streams protocol (closed with 1008)."""


@dataclass(frozen=True)
class StreamStart:
    stream_sid: str
    call_sid: str
    custom: dict[str, str] = field(default_factory=dict)  # <Parameter>s of the TwiML <Stream>


def parse_start(message: dict[str, Any]) -> StreamStart:
    start = message.get("start")
    if message.get("event") != "start" or not isinstance(start, dict):
        raise StreamError(f"expected a start event, got {message.get('event')!r}")
    sid = message.get("streamSid") or start.get("streamSid")
    if not isinstance(sid, str) or not sid:
        raise StreamError("start without streamSid")
    fmt = start.get("mediaFormat") or {}
    if fmt and (fmt.get("encoding") != "audio/x-mulaw" or int(fmt.get("sampleRate", 8000)) != 8000):
        raise StreamError(f"unsupported media format {fmt}")
    custom = start.get("customParameters") or {}
    return StreamStart(sid, str(start.get("callSid", "")), {str(k): str(v) for k, v in custom.items()})


class TwilioInput(BaseInputTransport):
    def __init__(self, owner: TwilioCallTransport, params: TransportParams) -> None:
        super().__init__(params, name="TwilioInput")
        self._owner = owner
        self._reader: asyncio.Task[None] | None = None

    async def setup(self, setup: FrameProcessorSetup) -> None:
        await super().setup(setup)
        await self._owner.serializer.setup(setup)

    async def start(self, frame: StartFrame) -> None:
        await super().start(frame)
        await self.set_transport_ready(frame)
        if self._reader is None:
            self._reader = self.create_task(self._read())

    async def _read(self) -> None:
        ws, owner = self._owner.ws, self._owner
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                break
            try:
                data = json.loads(msg.data)
            except ValueError:
                owner.bad_messages += 1
                continue
            event = data.get("event")
            if event == "stop":
                break
            if event == "mark":
                owner.mark_echoed(str((data.get("mark") or {}).get("name", "")))
                continue
            frame = await owner.serializer.deserialize(msg.data) if event in ("media", "dtmf") else None
            if frame is None:
                continue
            if event == "media":
                await self.push_audio_frame(frame)
            else:
                await self.push_frame(frame)
        owner.closed.set()
        with contextlib.suppress(ImportError):
            from bot.pipeline.frames import CallerHangUpFrame

            await self.push_frame(CallerHangUpFrame(reason="stream stopped"))
            await asyncio.sleep(HANGUP_GRACE)
        await self.push_frame(CancelWorkerFrame(reason="stream stopped"), FrameDirection.UPSTREAM)

    async def _stop_reader(self) -> None:
        if self._reader is not None:
            await self.cancel_task(self._reader)
            self._reader = None

    async def stop(self, frame: EndFrame) -> None:
        await super().stop(frame)
        await self._stop_reader()

    async def cancel(self, frame: CancelFrame) -> None:
        await super().cancel(frame)
        await self._stop_reader()


class TwilioOutput(BaseOutputTransport):
    def __init__(self, owner: TwilioCallTransport, params: TransportParams) -> None:
        super().__init__(params, name="TwilioOutput")
        self._owner = owner
        self._next_send = 0.0

    async def start(self, frame: StartFrame) -> None:
        await super().start(frame)
        await self.set_transport_ready(frame)

    async def write_audio_frame(self, frame: OutputAudioRawFrame) -> bool:
        payload = await self._owner.serializer.serialize(frame)
        if payload is None or not await self._owner.send(payload):
            return False
        loop = asyncio.get_running_loop()  # pace at real time, as the phone plays it
        now = loop.time()
        self._next_send = max(self._next_send, now) + len(frame.audio) / 16000
        await asyncio.sleep(max(0.0, self._next_send - now - 0.06))
        return True

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        if isinstance(frame, InterruptionFrame):
            self._next_send = 0.0
            payload = await self._owner.serializer.serialize(frame)
            if payload is not None:
                await self._owner.send(payload)  # "clear": drop what Twilio has buffered
        await super().process_frame(frame, direction)

    async def stop(self, frame: EndFrame) -> None:
        await super().stop(frame)
        await self._owner.finish_playback()
        await self._owner.close()

    async def cancel(self, frame: CancelFrame) -> None:
        await super().cancel(frame)
        await self._owner.close()


class TwilioCallTransport(BaseTransport):
    """The pipecat face of one Media Streams websocket."""

    def __init__(self, ws: web.WebSocketResponse, start: StreamStart, params: TransportParams | None = None) -> None:
        super().__init__(name="TwilioCallTransport")
        self.ws = ws
        self.start_info = start
        self.serializer = TwilioFrameSerializer(
            start.stream_sid, start.call_sid or None,
            params=TwilioFrameSerializer.InputParams(auto_hang_up=False, sample_rate=8000),
        )
        self.closed = asyncio.Event()
        self.bad_messages = 0
        self._marks: dict[str, asyncio.Event] = {}
        p = params or call_params()
        self._input = TwilioInput(self, p)
        self._output = TwilioOutput(self, p)

    def input(self) -> TwilioInput:
        return self._input

    def output(self) -> TwilioOutput:
        return self._output

    async def send(self, payload: str | bytes) -> bool:
        if self.ws.closed:
            return False
        try:
            await self.ws.send_str(payload if isinstance(payload, str) else payload.decode())
        except (ConnectionError, RuntimeError):
            return False
        return True

    def mark_echoed(self, name: str) -> None:
        if name in self._marks:
            self._marks[name].set()

    async def finish_playback(self, limit: float = 15.0) -> None:
        """Send a mark after the last audio and wait until Twilio says it was played."""
        name = f"end-{len(self._marks)}"
        self._marks[name] = asyncio.Event()
        sent = await self.send(json.dumps({"event": "mark", "streamSid": self.start_info.stream_sid,
                                           "mark": {"name": name}}))
        if sent:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._marks[name].wait(), limit)

    async def close(self) -> None:
        if not self.ws.closed:
            await self.ws.close()


OnCall = Callable[[TwilioCallTransport, StreamStart], Awaitable[Any]]


def media_stream_handler(on_call: OnCall) -> Callable[[web.Request], Awaitable[web.WebSocketResponse]]:
    async def handle(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=MAX_FRAME_BYTES, heartbeat=20, timeout=1.0)
        await ws.prepare(request)
        try:
            start = await asyncio.wait_for(_await_start(ws), START_TIMEOUT)
        except (StreamError, TimeoutError, ValueError) as exc:
            log.warning("media stream refused: %s", exc)
            await ws.close(code=1008, message=b"protocol error")
            return ws
        transport = TwilioCallTransport(ws, start)
        try:
            await on_call(transport, start)
        finally:
            await transport.close()
        return ws

    return handle


async def _await_start(ws: web.WebSocketResponse) -> StreamStart:
    async for msg in ws:
        if msg.type != WSMsgType.TEXT:
            raise StreamError("non-text frame before start")
        data = json.loads(msg.data)
        if data.get("event") == "connected":
            continue
        return parse_start(data)
    raise StreamError("closed before start")


def add_media_stream_route(app: web.Application, on_call: OnCall, path: str = "/twilio/media") -> None:
    app.router.add_get(path, media_stream_handler(on_call))

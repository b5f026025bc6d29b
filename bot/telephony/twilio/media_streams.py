"""Twilio Media Streams on aiohttp: cloud telephony carries calls over a websocket, with
the same pipeline as SIP. Twilio sends `connected`, `start`, `media` (8 kHz µ-law, base64),
`dtmf`, `mark` (our marks echoed once played) and `stop`; we send `media`, `mark` and
`clear` (barge-in). pipecat's TwilioFrameSerializer converts the audio and DTMF.

Every message is checked (`check_message`) before anything acts on it: after `start`, a
malformed one (not a JSON object, a `media` without valid base64, a `mark` that is not an
object, a binary or over-long frame) is logged, counted in `bad_messages` and dropped, and the
call goes on. Before `start` the connection is refused with 1008 (1009 when too long).

    add_media_stream_route(app, on_call)   # GET /twilio/media (websocket)
    async def on_call(transport: TwilioCallTransport, start: StreamStart) -> None: ...
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
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

from bot.telephony.media.pipecat_transport import HANGUP_GRACE, call_params
from bot.telephony.twilio.messages import (
    MAX_WS_BYTES,
    StreamError,
    StreamStart,
    StreamTooLong,
    check_message,
    decode,
    parse_start,
)

__all__ = ["StreamError", "StreamStart", "TwilioCallTransport", "add_media_stream_route", "parse_start"]

log = logging.getLogger(__name__)

START_TIMEOUT = 10.0


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
            if msg.type == WSMsgType.BINARY:
                owner.dropped("binary frame")
                continue
            if msg.type != WSMsgType.TEXT:
                break  # closed or failed
            try:
                data = decode(msg.data)
                event = check_message(data)
            except StreamError as exc:
                owner.dropped(str(exc))
                continue
            if event == "stop":
                break
            if event == "mark":
                owner.mark_echoed(data["mark"]["name"])
                continue
            if event not in ("media", "dtmf"):
                continue  # connected, a repeated start, events added later
            try:
                frame = await owner.serializer.deserialize(msg.data)
            except Exception as exc:  # whatever pipecat's serializer trips on must not end the call
                owner.dropped(f"{event} not convertible ({type(exc).__name__})")
                continue
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

    def dropped(self, why: str) -> None:
        """A malformed message was dropped: counted, and logged (the first few, then every 100th)."""
        self.bad_messages += 1
        if self.bad_messages <= 5 or self.bad_messages % 100 == 0:
            log.warning("stream %s: dropped a bad message (%s); %d so far", self.start_info.stream_sid[:40],
                        why, self.bad_messages)

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
        ws = web.WebSocketResponse(max_msg_size=MAX_WS_BYTES, heartbeat=20, timeout=1.0)
        await ws.prepare(request)
        try:
            start = await asyncio.wait_for(_await_start(ws), START_TIMEOUT)
        except (StreamError, TimeoutError) as exc:
            log.warning("media stream refused: %s", exc)
            await ws.close(code=1009 if isinstance(exc, StreamTooLong) else 1008, message=b"protocol error")
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
        data = decode(msg.data)
        if data["event"] == "connected":
            continue
        return parse_start(data)
    raise StreamError("closed before start")


def add_media_stream_route(app: web.Application, on_call: OnCall, path: str = "/twilio/media") -> None:
    app.router.add_get(path, media_stream_handler(on_call))

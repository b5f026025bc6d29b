"""The Twilio Media Streams websocket, exercised by a client speaking the documented
messages: connected, start, media, dtmf, mark, stop — and our media, clear and mark."""

from __future__ import annotations

import asyncio
import base64
import json

import aiohttp
import pytest
from aiohttp import web
from echo_pipeline import KeyEcho, loud_frames, run_pipeline

from audio.g711 import PT_PCMU, decode, encode
from bot.telephony.twilio import (
    StreamError,
    StreamStart,
    TwilioCallTransport,
    add_media_stream_route,
    parse_start,
)

SID = "MZ0123456789abcdef0123456789abcdef"


async def _serve(on_call):
    app = web.Application()
    add_media_stream_route(app, on_call)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}/twilio/media"


def _start() -> dict:
    return {"event": "start", "sequenceNumber": "1", "streamSid": SID,
            "start": {"streamSid": SID, "accountSid": "AC1", "callSid": "CA1", "tracks": ["inbound"],
                      "customParameters": {"attempt": "42"},
                      "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}


def _media(pcm: bytes, n: int) -> str:
    return json.dumps({"event": "media", "sequenceNumber": str(n), "streamSid": SID,
                       "media": {"track": "inbound", "chunk": str(n), "timestamp": str(20 * n),
                                 "payload": base64.b64encode(encode(pcm, PT_PCMU)).decode()}})


def _dtmf(digit: str) -> str:
    return json.dumps({"event": "dtmf", "streamSid": SID, "dtmf": {"track": "inbound_track", "digit": digit}})


async def test_media_stream_protocol_end_to_end() -> None:
    echo = KeyEcho()
    starts: list[StreamStart] = []

    async def on_call(transport: TwilioCallTransport, start: StreamStart) -> None:
        starts.append(start)
        await run_pipeline(transport, echo)

    runner, url = await _serve(on_call)
    got: list[dict] = []
    try:
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            await ws.send_str(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
            await ws.send_str(json.dumps(_start()))
            for n in range(25):
                await ws.send_str(_media(b"\x00\x10" * 160, n))

            async def receive(until) -> None:
                async for msg in ws:
                    data = json.loads(msg.data)
                    got.append(data)
                    if until(data):
                        return

            await ws.send_str(_dtmf("1"))  # 3 s of tone
            await asyncio.wait_for(receive(lambda d: d["event"] == "media" and len(got) > 40), 5)
            await ws.send_str(_dtmf("2"))  # barge-in
            await asyncio.wait_for(receive(lambda d: d["event"] == "clear"), 5)
            await ws.send_str(_dtmf("#"))  # goodbye tone, then our mark
            mark = await asyncio.wait_for(_until_mark(ws, got), 10)
            await ws.send_str(json.dumps({"event": "mark", "streamSid": SID, "mark": {"name": mark}}))
            await asyncio.wait_for(ws.receive(), 5)  # the server closes
            assert ws.closed or ws.close_code is not None
    finally:
        await runner.cleanup()
    assert starts == [StreamStart(SID, "CA1", {"attempt": "42"})]
    assert echo.keys == ["1", "2", "#"]
    assert echo.audio_in >= 25 * 320  # media events became InputAudioRawFrames at 8 kHz
    media = [d for d in got if d["event"] == "media"]
    assert all(d["streamSid"] == SID for d in got)
    pcm = b"".join(decode(base64.b64decode(d["media"]["payload"]), PT_PCMU) for d in media)
    clear_at = next(i for i, d in enumerate(got) if d["event"] == "clear")
    before = b"".join(decode(base64.b64decode(d["media"]["payload"]), PT_PCMU)
                      for d in got[:clear_at] if d["event"] == "media")
    assert loud_frames(before) < 150  # not the whole 3 s: paced, then cut by the barge-in
    assert loud_frames(pcm) - loud_frames(before) >= 50  # the whole goodbye second


async def _until_mark(ws, got: list[dict]) -> str:
    async for msg in ws:
        data = json.loads(msg.data)
        got.append(data)
        if data["event"] == "mark":
            return data["mark"]["name"]
    raise AssertionError("no mark")


async def test_stop_ends_the_pipeline() -> None:
    echo = KeyEcho()
    done = asyncio.Event()

    async def on_call(transport, start) -> None:
        await run_pipeline(transport, echo)
        done.set()

    runner, url = await _serve(on_call)
    try:
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            await ws.send_str(json.dumps(_start()))
            await ws.send_str(_media(b"\x00\x10" * 160, 1))
            await ws.send_str(json.dumps({"event": "stop", "streamSid": SID, "stop": {"callSid": "CA1"}}))
            await asyncio.wait_for(done.wait(), 5)
    finally:
        await runner.cleanup()
    assert echo.hangup_seen


@pytest.mark.parametrize(
    ("first", "code"),
    [(json.dumps({"event": "media", "streamSid": SID}), 1008), ("not json", 1008), ("x" * 70000, 1009)],
)
async def test_bad_or_oversized_first_message_is_refused(first: str, code: int) -> None:
    called = []

    async def on_call(transport, start) -> None:
        called.append(start)

    runner, url = await _serve(on_call)
    try:
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            await ws.send_str(first)
            msg = await asyncio.wait_for(ws.receive(), 5)
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
            assert ws.close_code == code
    finally:
        await runner.cleanup()
    assert called == []


def test_parse_start_rejects_other_formats() -> None:
    msg = _start()
    msg["start"]["mediaFormat"]["encoding"] = "audio/l16"
    with pytest.raises(StreamError, match="unsupported media format"):
        parse_start(msg)


async def test_media_stream_on_call_finds_the_person_and_reports_the_result() -> None:
    from sip_peers import REPO

    from bot.dialog.events import CallRecord
    from bot.dialog.script import load_script
    from bot.telephony.service import InboundMatch, media_stream_on_call

    script = load_script(REPO / "tests" / "telephony" / "fixtures" / "short.en-US.yaml")
    ran, results = [], []

    async def run(transport, request) -> CallRecord:
        ran.append((transport, request))
        return CallRecord(script.name, script.version, script.locale)

    people = {"42": InboundMatch({"name": "Li Lei"}, attempt_id=42)}
    on_call = media_stream_on_call(run, script, {"agency": "X"}, lambda p: people.get(p.get("attempt", "")),
                                   on_result=lambda req, res: results.append((req, res)))
    await on_call("transport", StreamStart(SID, "CA1", {"attempt": "42", "phone": "+8613812345678"}))
    await on_call("transport", StreamStart(SID, "CA2", {"attempt": "7"}))  # nobody: closed, nothing run
    assert [r.person for _, r in ran] == [{"name": "Li Lei"}]
    assert ran[0][1].attempt_id == 42 and ran[0][1].phone == "+8613812345678"
    assert [res.network for _, res in results] == ["answered"]

"""The Twilio Media Streams websocket, exercised by a client speaking the documented
messages: connected, start, media, dtmf, mark, stop — and our media, clear and mark."""

from __future__ import annotations

import asyncio
import base64
import json
from types import SimpleNamespace

import aiohttp
import pytest
from aiohttp import web
from echo_pipeline import KeyEcho, loud_frames, run_pipeline
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pipecat.serializers.twilio import TwilioFrameSerializer

from audio.g711 import PT_PCMU, decode, encode
from bot.telephony.twilio.media_streams import (
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


def _echo_call(transports: list | None = None):
    """(a KeyEcho, an event set once the call's pipeline has ended, the stream handler running them)."""
    echo, done = KeyEcho(), asyncio.Event()

    async def on_call(transport, start) -> None:
        if transports is not None:
            transports.append(transport)
        await run_pipeline(transport, echo)
        done.set()

    return echo, done, on_call


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
    echo, done, on_call = _echo_call()
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
    [(json.dumps({"event": "media", "streamSid": SID}), 1008), ("not json", 1008), ("x" * 70000, 1009),
     ("[1, 2]", 1008), ('"start"', 1008), ("42", 1008), ("null", 1008), ("[" * 5000, 1008),
     (json.dumps({"event": "start", "start": {"streamSid": SID, "mediaFormat": "mulaw"}}), 1008),
     (json.dumps({"event": "start", "start": {"streamSid": SID, "customParameters": [1]}}), 1008),
     (json.dumps({"event": "start", "start": {"streamSid": SID, "mediaFormat": {"sampleRate": "x"}}}), 1008)],
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
    from bot.telephony.calls.worker_endpoint import InboundMatch, media_stream_on_call

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


def _bad_messages() -> list[str | bytes]:
    media = json.loads(_media(b"\x00\x10" * 160, 1))
    return [
        "[1, 2]", '"media"', "42", "not json", "{}", json.dumps({"event": 5}),
        json.dumps({"event": "mark", "mark": "end-0"}), json.dumps({"event": "mark", "mark": {"name": 7}}),
        json.dumps({"event": "mark", "mark": None}),
        json.dumps({**media, "media": None}), json.dumps({**media, "media": "abc"}),
        json.dumps({**media, "media": {"payload": "%%%not base64%%%"}}),
        json.dumps({**media, "media": {"payload": "abc"}}),  # bad padding
        json.dumps({**media, "media": {"payload": 12}}), json.dumps({**media, "media": {}}),
        json.dumps({**media, "media": {"payload": base64.b64encode(b"\xff" * 9000).decode()}}),
        json.dumps({"event": "dtmf", "dtmf": {"digit": "x"}}), json.dumps({"event": "dtmf", "dtmf": [1]}),
        json.dumps({"event": "dtmf"}),
        b"\x00\x01binary", "x" * 100_000,
    ]


async def test_bad_messages_after_start_are_dropped_and_the_call_goes_on() -> None:
    transports: list[TwilioCallTransport] = []
    echo, done, on_call = _echo_call(transports)
    bad = _bad_messages()
    runner, url = await _serve(on_call)
    try:
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            await ws.send_str(json.dumps(_start()))
            for n, message in enumerate(bad):
                if isinstance(message, bytes):
                    await ws.send_bytes(message)
                else:
                    await ws.send_str(message)
                await ws.send_str(_media(b"\x00\x10" * 160, n))  # good audio in between
            await ws.send_str(_dtmf("3"))
            await ws.send_str(json.dumps({"event": "mark", "streamSid": SID, "mark": {"name": "unknown"}}))
            await ws.send_str(_dtmf("4"))
            await asyncio.sleep(0.3)
            assert not ws.closed
            await ws.send_str(json.dumps({"event": "stop", "streamSid": SID, "stop": {"callSid": "CA1"}}))
            await asyncio.wait_for(done.wait(), 10)
    finally:
        await runner.cleanup()
    assert echo.keys == ["3", "4"]
    assert echo.audio_in >= len(bad) * 320
    assert transports[0].bad_messages == len(bad)
    assert echo.hangup_seen  # ended by the stop, not by a bad message


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                     max_leaves=12)
_events = st.sampled_from(["media", "dtmf", "mark", "start", "connected", "stop", "clear", ""])
_bodies = st.one_of(
    _json,
    st.fixed_dictionaries({"payload": st.one_of(_json, st.binary(max_size=400).map(lambda b: base64.b64encode(b).decode()),
                                                st.text(alphabet="ABCDabcd0123+/=%", max_size=40))}),
    st.fixed_dictionaries({"digit": st.one_of(_json, st.sampled_from(list("0123456789*#ABCDx")))}),
    st.fixed_dictionaries({"name": _json}),
)
MESSAGES = st.one_of(
    _json.map(json.dumps),
    st.text(max_size=60),
    st.builds(lambda e, b, sid: json.dumps({"event": e, e or "x": b, "streamSid": sid}), _events, _bodies,
              st.one_of(st.just(SID), _json)),
)


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(MESSAGES)
def test_any_message_is_either_dropped_with_a_stream_error_or_converts_cleanly(text: str) -> None:
    from bot.telephony.twilio.messages import check_message, decode

    try:
        event = check_message(decode(text))
    except StreamError:
        return
    if event in ("media", "dtmf"):
        asyncio.run(_convert(text))  # must not raise


async def _convert(text: str) -> None:
    serializer = TwilioFrameSerializer(SID, params=TwilioFrameSerializer.InputParams(auto_hang_up=False,
                                                                                      sample_rate=8000))
    await serializer.setup(SimpleNamespace(audio_in_sample_rate=8000))
    await serializer.deserialize(text)


@settings(max_examples=6, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(MESSAGES.filter(lambda m: '"stop"' not in m), min_size=5, max_size=25))
def test_fuzzed_message_sequences_never_end_the_call(messages: list[str]) -> None:
    async def one_call() -> tuple[list[str], int]:
        echo, done, on_call = _echo_call()
        runner, url = await _serve(on_call)
        try:
            async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
                await ws.send_str(json.dumps(_start()))
                for m in messages:
                    await ws.send_str(m)
                await ws.send_str(_dtmf("5"))
                await ws.send_str(json.dumps({"event": "stop", "streamSid": SID}))
                await asyncio.wait_for(done.wait(), 10)
        finally:
            await runner.cleanup()
        return echo.keys, echo.hangup_seen

    keys, hangup = asyncio.run(one_call())
    assert keys[-1:] == ["5"] and hangup

"""The Twilio media websocket accepts only upgrade requests Twilio signed (X-Twilio-Signature:
base64 HMAC-SHA1 of the URL with the auth token), and `veribot serve` mounts it when [twilio]
is enabled (issue 15 item 7)."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiohttp import web

from bot.telephony.twilio.media_streams import media_stream_handler
from bot.telephony.twilio.signature import HEADER, signature, signed, valid

TOKEN = "12345"
SID = "MZ0123456789abcdef0123456789abcdef"
START = {"event": "start", "streamSid": SID,
         "start": {"streamSid": SID, "callSid": "CA1", "customParameters": {"attempt": "42"},
                   "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}


def test_signature_matches_twilios_documented_example() -> None:
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234",
              "From": "+12349013030", "To": "+18005551212"}
    assert signature(TOKEN, url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert valid(TOKEN, url, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", params)
    assert not valid(TOKEN, url + "&x=1", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", params)  # another URL
    assert not valid("", url, signature("", url, params), params)  # no token: nothing is valid
    assert not valid(TOKEN, url, None, params) and not valid(TOKEN, url, "", params)


async def _serve(public_url: str = ""):
    calls: list[str] = []

    async def on_call(transport, start) -> None:
        calls.append(start.call_sid)

    app = web.Application()
    app.router.add_get("/twilio/media", signed(media_stream_handler(on_call), TOKEN, public_url))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, port, calls


async def _open(url: str, headers: dict[str, str]) -> list[str]:
    async with aiohttp.ClientSession() as http, http.ws_connect(url, headers=headers) as ws:
        await ws.send_str(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        await ws.send_str(json.dumps(START))
        await ws.send_str(json.dumps({"event": "stop", "streamSid": SID}))
        await asyncio.wait_for(ws.receive(), 10)
    return []


@pytest.mark.parametrize("how", ["unsigned", "wrong token", "other url"])
async def test_an_unsigned_or_badly_signed_upgrade_is_refused(how: str) -> None:
    runner, port, calls = await _serve()
    url = f"http://127.0.0.1:{port}/twilio/media?attempt=42"
    headers = {"unsigned": {}, "wrong token": {HEADER: signature("54321", url)},
               "other url": {HEADER: signature(TOKEN, url.replace("42", "43"))}}[how]
    try:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await _open(url, headers)
        assert refused.value.status == 403 and calls == []
    finally:
        await runner.cleanup()


async def test_a_signed_upgrade_runs_the_call() -> None:
    runner, port, calls = await _serve()
    url = f"http://127.0.0.1:{port}/twilio/media?attempt=42"
    try:
        await _open(url, {HEADER: signature(TOKEN, url)})
        for _ in range(50):
            if calls:
                break
            await asyncio.sleep(0.05)
        assert calls == ["CA1"]
    finally:
        await runner.cleanup()


async def test_the_signed_url_is_the_public_one_twilio_was_given() -> None:
    """Behind a proxy Twilio signs wss://public-host/..., not the address we listen on."""
    runner, port, calls = await _serve("wss://bot.example.org/")
    local = f"http://127.0.0.1:{port}/twilio/media?attempt=42"
    try:
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await _open(local, {HEADER: signature(TOKEN, local)})
        await _open(local, {HEADER: signature(TOKEN, "wss://bot.example.org/twilio/media?attempt=42")})
        for _ in range(50):
            if calls:
                break
            await asyncio.sleep(0.05)
        assert calls == ["CA1"]
    finally:
        await runner.cleanup()


def test_serve_mounts_the_signed_websocket_when_enabled(tmp_path) -> None:
    import sys

    from sip_peers import REPO

    sys.path.insert(0, str(REPO))
    from tests.console.live import Server, free_port, write_config

    tw_port = free_port()
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'tw.db'}")
    config.write_text(config.read_text() + f'\n[twilio]\nenabled = true\nauth_token = "{TOKEN}"\n'
                      f'listen = "127.0.0.1:{tw_port}"\n'
                      f'public_url = "wss://bot.example.org"\n\n[speech]\nmodels_dir = "{tmp_path / "none"}"\n')
    server = Server(config, tmp_path / "serve.log")
    try:
        url = f"ws://127.0.0.1:{tw_port}/twilio/media"

        async def attempt(headers):
            async with aiohttp.ClientSession() as http:
                try:
                    async with http.ws_connect(url, headers=headers) as ws:
                        await ws.close()
                        return 101
                except aiohttp.WSServerHandshakeError as exc:
                    return exc.status

        assert asyncio.run(attempt({})) == 403
        assert asyncio.run(attempt({HEADER: signature(TOKEN, "wss://bot.example.org/twilio/media")})) == 101
    finally:
        server.stop()
    log = server.log()
    assert f"Twilio media streams on http://127.0.0.1:{tw_port}/twilio/media" in log and "Traceback" not in log
    assert TOKEN not in log


async def test_the_mounted_route_runs_the_named_attempt_through_the_speech_pipeline(monkeypatch) -> None:
    """mount_twilio: a signed stream whose parameters name a live attempt runs it with the
    speech resources (run_call stubbed here) and reports the result."""
    from sip_peers import REPO

    import bot.pipeline.run
    from bot.config import from_dict
    from bot.dialog.events import CallRecord
    from bot.telephony.calls.worker_endpoint import InboundMatch
    from bot.telephony.twilio.mount import mount_twilio

    ran, results = [], []

    async def fake_run_call(transport, request, resources):
        ran.append((request.attempt_id, request.variables.get("call_code"), resources))
        return CallRecord(request.script.name, request.script.version, request.script.locale)

    monkeypatch.setattr(bot.pipeline.run, "run_call", fake_run_call)

    class Callbacks:
        async def stream_lookup(self, params):
            return InboundMatch({"name": "Li Lei"}, attempt_id=7, variables={"call_code": "1 2"}) \
                if params == {"attempt": "7", "code": "12"} else None

        async def on_result(self, request, result):
            results.append(result.network)

    config = from_dict({"twilio": {"enabled": True, "auth_token": TOKEN},
                        "campaigns": {"dialog_path": str(REPO / "dialogs" / "verification.en-US.yaml")}})
    app = web.Application()
    speech = mount_twilio(app, config, Callbacks())
    speech.resources = "resources"
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/twilio/media"
    start = json.loads(json.dumps(START))
    start["start"]["customParameters"] = {"attempt": "7", "code": "12"}
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(url, headers={HEADER: signature(TOKEN, url)}) as ws:
            await ws.send_str(json.dumps(start))
            await asyncio.wait_for(ws.receive(), 10)
        for _ in range(50):
            if results:
                break
            await asyncio.sleep(0.05)
        assert ran == [(7, "1 2", "resources")] and results == ["answered"]
    finally:
        await runner.cleanup()

"""`veribot serve`'s Twilio side: the Media Streams websocket at `[twilio] path` on its own
listener `[twilio] listen` (the one port a proxy exposes to Twilio: the console's login and
sessions do not apply to Twilio, and the console need not face the internet), behind the
X-Twilio-Signature check (bot/telephony/twilio/signature.py), when `[twilio] enabled`.

    speech, runner = await start_twilio(config, callbacks, access_log_format)
    speech.resources = resources                     # once the speech models are loaded
    ...
    await runner.cleanup()

A stream runs the dialog of the outbound attempt its TwiML parameters name (`attempt`, and that
attempt's `code`: `Callbacks.stream_lookup`) over the speech pipeline and records it like a SIP
call; a stream naming nothing, or arriving while the speech models are not loaded, is closed.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.settings import TwilioSettings
from bot.telephony.twilio.media_streams import media_stream_handler
from bot.telephony.twilio.signature import signed

log = logging.getLogger(__name__)
TOKEN_ENV = "VERIBOT_TWILIO_AUTH_TOKEN"


class TwilioConfigError(ValueError):
    """[twilio] enabled without what the signature check needs."""


@dataclass
class StreamSpeech:
    resources: Any = None  # bot.pipeline.resources.SpeechResources once loaded


def auth_token(settings: TwilioSettings) -> str:
    return settings.auth_token.reveal() or os.environ.get(TOKEN_ENV, "")


async def start_twilio(config: Any, callbacks: Any, access_log_format: str) -> tuple[StreamSpeech, web.AppRunner]:
    """Listening; `TwilioConfigError` / `ScriptError` / `OSError` (port busy) for the user."""
    app = web.Application()
    speech = mount_twilio(app, config, callbacks)
    runner = web.AppRunner(app, access_log_format=access_log_format, shutdown_timeout=5.0)
    await runner.setup()
    host, port = config.twilio.listen
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError:
        await runner.cleanup()
        raise
    log.info("Twilio media streams on http://%s:%d%s (requests signed with the auth token)", host, port,
             config.twilio.path)
    return speech, runner


def mount_twilio(app: web.Application, config: Any, callbacks: Any) -> StreamSpeech:
    from bot.dialog.script import load_script
    from bot.telephony.calls.worker_endpoint import media_stream_on_call

    settings: TwilioSettings = config.twilio
    token = auth_token(settings)
    if not token:
        raise TwilioConfigError(f"[twilio] enabled but no auth_token (or env {TOKEN_ENV}): "
                                "requests could not be checked")
    speech = StreamSpeech()
    script = load_script(config.campaigns.dialog_path)

    async def run(transport: Any, request: Any) -> Any:
        from bot.pipeline.run import run_call

        return await run_call(transport, request, speech.resources)

    on_call = media_stream_on_call(run, script, config.variables, callbacks.stream_lookup, callbacks.on_result)

    async def guarded(transport: Any, start: Any) -> None:
        if speech.resources is None:
            log.error("media stream %s closed: speech models not loaded", start.stream_sid[:8])
            return
        await on_call(transport, start)

    app.router.add_get(settings.path, signed(media_stream_handler(guarded), token, settings.public_url))
    return speech

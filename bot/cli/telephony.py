"""`veribot dial` (one real SIP call) and `veribot softphone` (the scripted resident)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    d = sub.add_parser("dial", help="place one real SIP call running a dialog; prints the call JSON")
    d.add_argument("uri", help="sip:user@host[:port], or a number dialled through the configured trunk")
    d.add_argument("--dialog", required=True, help="dialog script (YAML)")
    d.add_argument("--person", required=True, help="person as inline JSON or a JSON file")
    d.add_argument("--json", action="store_true", help="print the result as one JSON object (default)")
    d.add_argument("--config", help="config.toml (default: ./config.toml)")
    d.add_argument("--listen", help="our SIP address HOST:PORT (default: [telephony] host, any free port)")
    d.add_argument("--keypad", action="store_true", help="no recognizer: prompts by espeak-ng, answers by DTMF")
    d.set_defaults(func=dial_command)

    s = sub.add_parser("softphone", help="a scripted resident answering SIP calls")
    s.add_argument("--listen", required=True, help="HOST:PORT to listen on")
    s.add_argument("--answers", required=True, help="answers file, lines as for `veribot simulate`")
    s.add_argument("--dialog", help="dialog script: its locale picks the voice")
    s.add_argument("--locale", help="voice locale when no --dialog (zh-CN, ko-KR, en-US)")
    s.add_argument("--record", help="directory for WAV recordings of what was heard")
    s.add_argument("--calls", type=int, default=0, help="exit after this many calls (default: run until Ctrl-C)")
    s.add_argument("--call", metavar="URI", help="place one call to URI instead of waiting for calls")
    s.add_argument("--rtp-ports", default="40400-40998", help="RTP port range LO-HI")
    s.add_argument("--prompt-gap", type=float, default=1.0, help="seconds of silence that end a bot prompt")
    s.add_argument("--capacity", type=int, default=100, help="calls at once")
    s.set_defaults(func=softphone_command)


def _fail(message: str) -> int:
    print(f"veribot: {message}", file=sys.stderr)
    return 2


def dial_command(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from bot.config import ConfigError, describe, load_config
    from bot.dialog.script import ScriptError, load_script
    from bot.simulate import load_person
    from bot.telephony.settings import TelephonySettings
    from bot.worker import configure_worker_process

    try:
        config = load_config(args.config)
        settings = TelephonySettings.from_config(config)
        script = load_script(args.dialog)
        person = load_person(args.person)
    except ScriptError as exc:
        return _fail("\n".join(str(e) for e in exc.errors))
    except (ConfigError, ValueError, OSError) as exc:
        return _fail(str(exc))
    listen = args.listen or f"{settings.listen[0]}:0"
    try:
        settings = dataclasses.replace(settings, listen=listen)
    except ValidationError as exc:
        return _fail(f"--listen: {describe('telephony', exc)}")
    configure_worker_process()
    return asyncio.run(_dial(args.uri, settings, config, script, person, args.keypad))


def speech_converse(config: Any, script: Any) -> Any:
    """The speech pipeline's conversation when it is installed and its model loads; else None."""
    try:
        from bot.pipeline.resources import SpeechResources
    except ImportError:
        return None
    from bot.telephony.calls.conversation import speech_conversation

    try:
        resources = SpeechResources.load(config, locales=[script.locale])
    except Exception as exc:  # no model for this locale (zh-CN must be fetched), TTS missing, ...
        log.warning("speech pipeline unavailable (%s): keypad only", exc)
        return None
    return speech_conversation(resources)


async def _dial(uri: str, settings: Any, config: Any, script: Any, person: dict, keypad: bool) -> int:
    from bot.calls import CallRequest
    from bot.telephony.calls.sip_runner import SipCallRunner
    from bot.telephony.sip.endpoint import SipEndpoint

    converse = None if keypad else speech_converse(config, script)
    endpoint = SipEndpoint(settings)
    try:
        await endpoint.start()
    except OSError as exc:
        return _fail(f"cannot listen on {settings.listen[0]}:{settings.listen[1]}: {exc}")
    try:
        request = CallRequest("dial", uri, person, script, variables=dict(config.variables))
        result = await SipCallRunner(endpoint, converse).run(request)
    finally:
        await endpoint.stop()
    out: dict[str, Any] = result.record.to_json() if result.record else {
        "outcome": None, "escalation": None, "slots": {}, "transcript": []}
    out["sip"] = {"status": result.sip_status, "outcome": str(result.network), "detail": result.detail,
                  "retry_after": result.retry_after}
    print(json.dumps(out, ensure_ascii=False))
    return 0 if result.record is not None else 1


def softphone_command(args: argparse.Namespace) -> int:
    from bot.cli.core import canonical_answer
    from bot.config import from_section
    from bot.telephony.calls.softphone import parse_answers
    from bot.telephony.settings import TelephonySettings

    try:
        lines = Path(args.answers).read_text(encoding="utf-8").splitlines()
        answers = parse_answers([canonical_answer(line) for line in lines])
        locale = args.locale or "zh-CN"
        if args.dialog:
            from bot.dialog.script import load_script

            locale = load_script(args.dialog).locale
        lo, _, hi = args.rtp_ports.partition("-")
        settings = from_section(TelephonySettings, "telephony", {
            "listen": args.listen, "rtp_ports": f"{lo}-{hi}", "capacity": args.capacity, "media_inactivity": 30,
            "trusted_sources": ["0.0.0.0/0", "::/0"], "inbound_share": 1.0})  # plays residents: anyone calls, every line
    except Exception as exc:  # bad file, bad script, bad address: one clear line
        return _fail(str(getattr(exc, "errors", None) or exc))
    try:
        return asyncio.run(_softphone(settings, answers, locale, args))
    except OSError as exc:
        return _fail(f"cannot listen on {args.listen}: {exc}")


async def _softphone(settings: Any, answers: list, locale: str, args: argparse.Namespace) -> int:
    from bot.telephony.calls.softphone import Resident, Softphone
    from bot.telephony.sip.endpoint import SipEndpoint

    endpoint = SipEndpoint(settings)
    phone = Softphone(endpoint, Resident(answers, locale, prompt_gap=args.prompt_gap),
                      Path(args.record) if args.record else None)
    await endpoint.start()
    print(json.dumps({"listening": f"{endpoint.local_addr[0]}:{endpoint.local_addr[1]}", "locale": locale}), flush=True)
    try:
        if args.call:
            out = await endpoint.dial(args.call)
            if out.call is None:
                print(json.dumps({"call": 1, "sip_status": out.status, "reason": out.reason}), flush=True)
                return 1
            await endpoint.supervise(out.call, phone._answer(out.call))
            return 0
        while args.calls <= 0 or len(phone.calls) < args.calls:
            phone.finished.clear()
            await phone.finished.wait()
        return 0
    finally:
        await endpoint.stop()

"""`veribot serve [--config PATH] [--host H] [--port P]`: the whole service in one process —
the web console, and the campaign dialer and SIP endpoint when enabled in `[serve]`.
Runs until SIGINT/SIGTERM, then stops each part in turn.

Every part is a plain import: an ImportError is a bug and stops the service with its
traceback. What may be missing on a machine is said at start and the service runs without
it: a speech model not fetched (calls then use the keypad conversation), or a system program
(espeak-ng) not installed. A user error (config, busy port, database) is a `UserError`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import shutil
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.cli import UserError
from bot.config import Config, load_config
from bot.console import lifeline
from bot.worker import configure_worker_process

log = logging.getLogger("veribot.serve")
ACCESS_LOG_FORMAT = '%a "%r" %s %b %Tfs'  # ids only in paths; no referer, no personal data


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the service: web console, dialer, SIP endpoint",
                       description="Run the web console, and the campaign dialer and SIP endpoint "
                                   "when [serve] enables them. Stops on Ctrl-C / SIGTERM.")
    p.add_argument("--config", help="config.toml (default: ./config.toml or $VERIBOT_CONFIG)")
    p.add_argument("--host", help="listen address (default: [service] host)")
    p.add_argument("--port", type=port_number, help="listen port (default: [service] port)")
    p.set_defaults(func=cmd_serve, log_level=logging.INFO)  # a service logs what it runs


def port_number(text: str) -> int:
    """argparse type: a TCP/UDP port, 0..65535."""
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number 0..65535")
    return int(text)


def cmd_serve(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    host = args.host or config.service.host
    port = args.port if args.port is not None else config.service.port
    configure_worker_process()  # process-wide settings, once, before any part starts
    lifeline.install()  # helper processes (password checks, parsing) die with this one, even on kill -9
    return asyncio.run(serve(config, host, port))


def unspeakable_at_start(config: Config) -> list[str]:
    """What the scripts calls will run (those of `[serve] locales` in `dialogs_dir`, and the
    inbound dialog) would say empty or unknown with this config (bot.dialog.speakable), counting
    the official number and badge an admin set in the console."""
    from bot.campaigns.scripts import agency_overrides
    from bot.dialog.model import ScriptError
    from bot.dialog.script import load_script
    from bot.dialog.speakable import unspeakable

    paths = sorted(p for p in config.serve.dialogs_dir.glob("*.yaml") if not p.name.startswith("system."))
    if config.serve.sip and config.telephony.inbound_dialog:
        paths.append(Path(config.telephony.inbound_dialog))
    out: list[str] = []
    for path in dict.fromkeys(paths):
        try:
            script = load_script(path)
        except ScriptError:
            continue  # a broken script is refused where it is used, with its own message
        if script.locale in config.serve.locales or path.name == Path(config.telephony.inbound_dialog).name:
            variables = {**config.variables, **agency_overrides.load(config.var_dir)}
            out += [line for line in unspeakable(script, variables) if line not in out]
    return out


def missing_programs(config: Config) -> list[str]:
    """System programs the configured voices may need and this machine lacks (espeak-ng speaks
    the keypad conversation's prompts and the default voices of some locales)."""
    if config.speech.tts_engine in ("", "espeak-ng") and shutil.which("espeak-ng") is None:
        return ["espeak-ng"]
    return []


async def _speech(config: Config) -> tuple[Any, Callable[[], Awaitable[Any]] | None, Any]:
    """The speech conversation for calls (Vosk models of `[serve] locales`) and its resources,
    or Nones — the keypad conversation — when a model is not fetched. A missing espeak-ng is
    reported."""
    from audio.models import ModelMissing
    from bot.pipeline.resources import SpeechResources
    from bot.telephony.calls.conversation import speech_conversation

    for program in missing_programs(config):
        log.error("%s is not installed (scripts/install-system.sh installs it): prompts that need it "
                  "cannot be spoken", program)
    locales = list(config.serve.locales)
    try:
        resources = await asyncio.to_thread(SpeechResources.load, config, locales)
    except ModelMissing as exc:
        log.error("speech models %s not loaded (%s): calls use the keypad conversation", locales, exc)
        return None, None, None

    async def close() -> None:
        await asyncio.to_thread(resources.close)

    return speech_conversation(resources), close, resources


async def serve(config: Config, host: str, port: int, stop: asyncio.Event | None = None) -> int:
    from aiohttp import web
    from sqlalchemy.exc import OperationalError

    from bot.campaigns.background import call_parser, run_dialer, worker_spool
    from bot.campaigns.inbound.call_codes import GuessBudget
    from bot.campaigns.inbound.callbacks import Callbacks
    from bot.campaigns.scripts import agency_overrides
    from bot.console.app import build_app
    from bot.console.context import CONSOLE
    from bot.dialog.model import ScriptError
    from bot.dialog.script import load_script
    from bot.pipeline.headroom import Admission, Headroom, HeadroomProbe
    from bot.pipeline.headroom_gate import StartGate
    from bot.telephony.calls.sip_runner import SipCallRunner
    from bot.telephony.calls.worker_endpoint import start_endpoint
    from bot.telephony.twilio.mount import TwilioConfigError, start_twilio
    from storage.db import Database

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    # Every call (dialled or calling back) parses answers with the [nlu] area bound in its parser.
    parts = config.serve
    if parts.dialer or parts.sip:  # calls will speak: nothing empty or unknown may be said
        unsaid = await asyncio.to_thread(unspeakable_at_start, config)
        if unsaid:
            # The console still starts (an admin sets the badge and official number there), but no
            # call is placed or taken: a resident must never hear an empty or unknown value.
            more = f" (and {len(unsaid) - 1} more)" if len(unsaid) > 1 else ""
            print(f"veribot serve: calls held, the console only: {unsaid[0]}{more}; set it in the console "
                  "(机构设置) or config.toml, then restart veribot serve", file=sys.stderr, flush=True)
            parts = dataclasses.replace(parts, dialer=False, sip=False)
    outbox = bool(config.webhook.url)  # results go to the health department: resolutions too
    database = Database.from_config(config)
    try:
        await asyncio.to_thread(database.upgrade)
    except OperationalError as exc:
        raise UserError(f"database unavailable: {str(exc.orig or exc).splitlines()[0]}") from None
    spool = worker_spool(config)  # escalations the database refused, and the worker's storage alarm
    app = build_app(database, config.console, dialogs_dir=parts.dialogs_dir,
                    var_dir=config.var_dir, variables=config.variables,
                    campaigns_config=config.section("campaigns"), results_outbox=outbox,
                    storage_alarm=spool.alarm)
    callbacks = Callbacks(database, region=config.campaigns.region, outbox=outbox,
                          worker_id=config.dialer.worker_id or None, parser=call_parser(config),
                          code_valid_days=config.agency.code_valid_days, guess_budget=GuessBudget(
                              config.agency.code_guesses_per_hour, config.agency.code_guesses_per_day,
                              config.agency.code_guesses_per_code),
                          suppression_days=config.campaigns.suppression_days, spool=spool,
                          live_variables=lambda: agency_overrides.load(config.var_dir))  # the console's number/badge
    web_runner = web.AppRunner(app, access_log_format=ACCESS_LOG_FORMAT, shutdown_timeout=5.0)
    await web_runner.setup()
    stoppers: list[Callable[[], Awaitable[Any]]] = []
    tasks: list[asyncio.Task[Any]] = []
    try:
        try:
            await web.TCPSite(web_runner, host, port).start()
        except OSError as exc:
            raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        log.info("web console on http://%s:%d/ (secure cookies: %s)", host, port, config.console.secure_cookies)
        stream_speech = None
        if config.twilio.enabled:
            try:
                stream_speech, twilio_runner = await start_twilio(config, callbacks, ACCESS_LOG_FORMAT)
            except (TwilioConfigError, ScriptError) as exc:
                raise UserError(str(exc).splitlines()[0]) from None
            except OSError as exc:
                tw_host, tw_port = config.twilio.listen
                raise UserError(f"cannot listen for Twilio on {tw_host}:{tw_port}: {exc.strerror or exc}") from None
            stoppers.append(twilio_runner.cleanup)
        endpoint = converse = None
        if parts.sip or stream_speech is not None:
            converse, close, resources = await _speech(config)
            if close is not None:
                stoppers.append(close)
            if stream_speech is not None:
                stream_speech.resources = resources
        if parts.sip:
            try:
                inbound_locale = load_script(config.telephony.inbound_dialog).locale
                # a callback runs the person's dialog only once its caller keyed (or said, when the
                # locale has an ear) the code of a call to that number; every callback is recorded
                verify = callbacks.verifier(config.variables, inbound_locale, resources=resources)
                endpoint = await start_endpoint(config, converse=converse, lookup=callbacks.lookup,
                                                on_result=callbacks.on_result, legs=callbacks.legs, verify=verify,
                                                variables=agency_overrides.Overlaid(  # the console's number/badge
                                                    config.variables, lambda: agency_overrides.load(config.var_dir)))
            except ScriptError as exc:
                raise UserError(f"[telephony] inbound_dialog: {str(exc).splitlines()[0]}") from None
            except OSError as exc:
                sip_host, sip_port = config.telephony.listen
                raise UserError(f"cannot listen for SIP on {sip_host}:{sip_port}: {exc.strerror or exc}") from None
            stoppers.append(endpoint.stop)
            # no new call while the database refuses writes or the worker has no headroom: 503 + Retry-After
            headroom = Headroom(config.worker, in_progress=lambda: endpoint.busy)
            admission = Admission(headroom, lambda: spool.alarm.ok)
            endpoint.accepting, endpoint.held_because = admission.accepting, admission.why
            app[CONSOLE].admission = admission
            pool = getattr(resources, "recognition", None)
            probe = HeadroomProbe(headroom, queue_wait=pool.final_wait if pool is not None else None,
                                  turn_times=pool.turn_times if pool is not None else None,
                                  late_frames=lambda: sum(c.media.stats.late for c in list(endpoint.calls.values())))
            tasks.append(asyncio.create_task(probe.run(stop), name="headroom"))
            app[CONSOLE].call_runner = SipCallRunner(endpoint, converse)  # the campaign page's test call
            app[CONSOLE].call_parser = call_parser(config)
            log.info("SIP endpoint started on %s:%d (callbacks verified by call code)", *endpoint.local_addr[:2])
        if parts.dialer:
            if endpoint is None:
                log.warning("campaign dialer not started: it calls through the SIP endpoint, which is off")
            else:
                runner = SipCallRunner(endpoint, converse)
                tasks.append(asyncio.create_task(run_dialer(config, runner, stop, database, spool, admission.holding,
                                                            StartGate(headroom)),
                                                 name="dialer"))
                log.info("campaign dialer started")
        await stop.wait()
    finally:
        log.info("stopping")
        stop.set()
        # live calls may take up to [dialer] drain_seconds to finish; cut later ones are
        # recorded as interrupted and resumed after the cool-down
        drain = config.dialer.drain_seconds + 5
        for task in tasks:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=drain)
        for stopper in reversed(stoppers):
            await stopper()
        await web_runner.cleanup()
        await asyncio.to_thread(database.dispose)
    return 0

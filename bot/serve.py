"""`veribot serve [--config PATH] [--host H] [--port P]`: the whole service in one process —
the web console, and the campaign dialer and SIP endpoint when those areas are installed
and enabled in `[serve]`. Runs until SIGINT/SIGTERM, then stops each part in turn."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.config import Config, load_config

log = logging.getLogger("veribot.serve")
ACCESS_LOG_FORMAT = '%a "%r" %s %b %Tfs'  # ids only in paths; no referer, no personal data


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the service: web console, dialer, SIP endpoint")
    p.add_argument("--config", help="config.toml (default: ./config.toml)")
    p.add_argument("--host", help="listen address (default: [service] host)")
    p.add_argument("--port", type=int, help="listen port (default: [service] port)")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    service = config.section("service")
    host = args.host or str(service.get("host", "127.0.0.1"))
    port = args.port if args.port is not None else int(service.get("port", 8080))
    return asyncio.run(serve(config, host, port))


def _optional(modname: str, attr: str, what: str) -> Any | None:
    """An attribute of an area's module, or None (logged) when the area is not installed."""
    try:
        return getattr(importlib.import_module(modname), attr)
    except (ImportError, AttributeError) as exc:
        log.warning("%s not available (%s.%s: %s); running without it", what, modname, attr, exc)
        return None


def _webhook_on(config: Config) -> bool:
    """Results go to the health department: operators' resolutions are queued too."""
    settings = _optional("bot.campaigns.webhook", "WebhookSettings", "results webhook")
    return settings is not None and settings.from_section(config.section("webhook")) is not None


def _callbacks(config: Config, database: Any) -> Any:
    """Who is calling back the official number: people of the campaigns, by their number."""
    callbacks = _optional("bot.campaigns.inbound", "Callbacks", "callback matching")
    if callbacks is None:
        return None
    region = str(config.section("campaigns").get("region", "CN"))
    worker = config.section("dialer").get("worker_id") or None
    return callbacks(database, region=region, outbox=_webhook_on(config), worker_id=worker)


async def _speech(config: Config, parts: dict[str, Any]) -> tuple[Any, Callable[[], Awaitable[Any]] | None]:
    """The speech conversation for dialled calls (Vosk models of `[serve] locales`), or
    (None, None) — the runner's keypad conversation — when the models cannot be loaded."""
    try:
        from bot.pipeline.resources import SpeechResources
        from bot.telephony.runner import speech_conversation
    except ImportError as exc:
        log.warning("speech pipeline not available (%s): calls use the keypad conversation", exc)
        return None, None
    locales = list(parts.get("locales", ["zh-CN"]))
    try:
        resources = await asyncio.to_thread(SpeechResources.load, config, locales)
    except Exception as exc:  # a missing model must not stop the console
        log.error("speech models %s not loaded (%s): calls use the keypad conversation", locales, exc)
        return None, None

    async def close() -> None:
        await asyncio.to_thread(resources.close)

    return speech_conversation(resources), close


async def serve(config: Config, host: str, port: int, stop: asyncio.Event | None = None) -> int:
    from aiohttp import web

    from bot.console.app import build_app
    from bot.console.settings import ConsoleSettings
    from storage.db import Database

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    nlu_area = config.section("nlu")
    if nlu_area:
        from bot.nlu.address import configure_area

        configure_area(nlu_area.get("default_province"), nlu_area.get("default_city"))
    settings = ConsoleSettings.from_section(config.section("console"))
    parts = config.section("serve")
    database = Database.from_config(config)
    await asyncio.to_thread(database.upgrade)
    app = build_app(database, settings, dialogs_dir=Path(parts.get("dialogs_dir", "dialogs")),
                    var_dir=config.var_dir, variables=config.agency,
                    campaigns_config=config.section("campaigns"), results_outbox=_webhook_on(config))
    web_runner = web.AppRunner(app, access_log_format=ACCESS_LOG_FORMAT, shutdown_timeout=5.0)
    await web_runner.setup()
    await web.TCPSite(web_runner, host, port).start()
    log.info("web console on http://%s:%d/ (secure cookies: %s)", host, port, settings.secure_cookies)

    stoppers: list[Callable[[], Awaitable[Any]]] = []
    tasks: list[asyncio.Task[Any]] = []
    try:
        endpoint = converse = None
        if parts.get("sip", True):
            start_endpoint = _optional("bot.telephony.service", "start_endpoint", "SIP endpoint")
            if start_endpoint is not None:
                converse, close = await _speech(config, parts)
                if close is not None:
                    stoppers.append(close)
                callbacks = _callbacks(config, database)
                endpoint = await start_endpoint(
                    config, converse=converse,
                    lookup=callbacks.lookup if callbacks else None,
                    on_result=callbacks.on_result if callbacks else None,
                )
                stoppers.append(endpoint.stop)
                log.info("SIP endpoint started (callbacks matched to people: %s)", callbacks is not None)
        if parts.get("dialer", True):
            run_dialer = _optional("bot.campaigns.service", "run_dialer", "campaign dialer")
            sip_runner = _optional("bot.telephony.runner", "SipCallRunner", "SIP call runner")
            if run_dialer is not None and sip_runner is not None:
                if endpoint is None:
                    log.warning("campaign dialer not started: it calls through the SIP endpoint, which is off")
                else:
                    call_runner = sip_runner(endpoint, converse)
                    tasks.append(asyncio.create_task(run_dialer(config, call_runner, stop, database), name="dialer"))
                    log.info("campaign dialer started")
        await stop.wait()
    finally:
        log.info("stopping")
        stop.set()
        # live calls may take up to [dialer] drain_seconds to finish; cut later ones are
        # recorded as interrupted and resumed after the cool-down
        drain = float(config.section("dialer").get("drain_seconds", 120)) + 5
        for task in tasks:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=drain)
        for stopper in reversed(stoppers):
            await stopper()
        await web_runner.cleanup()
        await asyncio.to_thread(database.dispose)
    return 0

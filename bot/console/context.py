"""What every handler can reach: the console's shared objects (one app key) and the
per-request values (request keys)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bot.console.auth import LoginThrottle, SessionUser
from bot.console.settings import ConsoleSettings
from bot.console.simulator import Simulator
from storage.db import Database


@dataclass
class Console:
    database: Database
    settings: ConsoleSettings
    jinja: dict[str, jinja2.Environment]  # one per locale (bot.console.i18n.LOCALES)
    dialogs_dir: Path
    var_dir: Path
    variables: dict[str, str]
    throttle: LoginThrottle
    campaigns_config: dict[str, Any] = field(default_factory=dict)  # [campaigns]: defaults, region, columns
    simulator: Simulator = field(default_factory=Simulator)
    recent_plays: dict[tuple[int, int], float] = field(default_factory=dict)  # (user, turn) -> monotonic
    recent_views: dict[tuple[int, str, str], float] = field(default_factory=dict)  # (user, action, id) -> until
    results_outbox: bool = False  # [webhook] configured: operators' resolutions are pushed too
    call_runner: Any = None  # bot.calls.CallRunner when `veribot serve` runs the SIP endpoint: test calls
    call_parser: Any = None  # the calls' answer understanding ([nlu] area)
    test_calls: set[Any] = field(default_factory=set)  # running test-call tasks (kept from the GC)
    storage_alarm: Any = None  # the worker's StorageHealth (bot.campaigns.outage.storage_alarm), on the dashboard
    admission: Any = None  # the worker's Admission (bot/pipeline/headroom.py) when it takes calls: the dashboard


CONSOLE: web.AppKey[Console] = web.AppKey("console", Console)
USER: web.RequestKey[SessionUser | None] = web.RequestKey("user", SessionUser)  # type: ignore[arg-type]
PRE_CSRF: web.RequestKey[str] = web.RequestKey("pre_csrf", str)
LOCALE: web.RequestKey[str] = web.RequestKey("locale", str)  # zh-CN | en-US


def console(request: web.Request) -> Console:
    return request.app[CONSOLE]

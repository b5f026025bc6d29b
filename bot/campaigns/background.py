"""The campaign side of `veribot serve`.

    stop = asyncio.Event()
    await run_dialer(config, runner, stop)     # returns after `stop` is set and live calls drained

runs, until `stop` is set:
- the dialer (bot.campaigns.dialing.dialer.Dialer) over every *running* campaign, with `runner`
  (a bot.calls.CallRunner: the SIP runner in production);
- the webhook pusher, when `[webhook] url` is configured (results to the health department);
- the retention purge, at start and every `[campaigns] purge_every_hours` (default 6).

Settings (config.toml): `[database] url` (default sqlite:///<var_dir>/veribot.db);
`[dialer] worker_id` (unique per running process; default host:pid), `max_calls` (lines this
worker may use, default 50), `claim_ttl` seconds (600), `poll_seconds` (1), `drain_seconds` (120);
`[webhook] url, secret, max_tries, backoff`; `[campaigns] purge_every_hours, audio_roots`;
`[nlu] default_province, default_city` (the area an ambiguous district name is placed in).
The schema is upgraded (alembic) before anything runs.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from bot.calls import CallRunner
from bot.campaigns.dialing.dialer import Dialer
from bot.campaigns.outage.escalation_spool import EscalationSpool
from bot.campaigns.people.retention import audio_roots, purge
from bot.campaigns.results.webhook import WebhookPusher, WebhookSettings
from bot.campaigns.scripts import agency_overrides
from bot.campaigns.scripts.dialog_versions import ScriptSource
from storage.db import Database
from storage.models import utcnow

log = logging.getLogger(__name__)


def build_dialer(config: Any, runner: CallRunner, db: Database, spool: EscalationSpool | None = None,
                 holding: Any = None, starts: Any = None) -> Dialer:
    d = config.dialer
    hook = WebhookSettings.from_section(config.section("webhook"))
    return Dialer(
        db, runner,
        worker_id=d.worker_id or None,
        max_calls=d.max_calls,
        claim_ttl=d.claim_ttl,
        poll_seconds=d.poll_seconds,
        drain_seconds=d.drain_seconds,
        start_rate=d.start_rate,
        variables=config.variables,
        scripts=ScriptSource(db),
        outbox=hook is not None,
        parser=call_parser(config),
        spool=spool if spool is not None else worker_spool(config),
        suppression_days=config.campaigns.suppression_days,
        live_variables=lambda: agency_overrides.load(config.var_dir),
        holding=holding,  # the worker's admission control (bot/pipeline/headroom.py)
        starts=starts,  # and its start ramp (bot/pipeline/headroom_gate.py)
    )


def worker_spool(config: Any) -> EscalationSpool:
    """The worker's escalation spool and, with it, its storage alarm (one per process: the dialer's,
    the callbacks', the console's dashboard and the SIP endpoint's 503 all read this one)."""
    return EscalationSpool(escalation_spool_path(config))


def escalation_spool_path(config: Any) -> Path:
    """Where escalations the database refused wait: var_dir/escalations.spool (mount var/ on another
    filesystem than a local database, or a full disk refuses both)."""
    path = Path(config.var_dir) / "escalations.spool"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def call_parser(config: Any) -> Any:
    """Answer understanding for the calls: bot.nlu.parse with the [nlu] default area bound. The
    division table and the area's towns and streets are loaded here, at start-up (≈1 s), not by the
    first call that names a town: that call's parse would hold every call on the loop meanwhile."""
    from bot.nlu import make_parser
    from bot.nlu.address import warm_up
    from bot.nlu.gazetteer import town_districts

    warm_up()
    town_districts(config.nlu.area[1] or None)
    return make_parser(*config.nlu.area)


async def run_dialer(config: Any, runner: CallRunner, stop: asyncio.Event, db: Database | None = None,
                     spool: EscalationSpool | None = None, holding: Any = None, starts: Any = None) -> None:
    """Dial, push results and purge until `stop` is set (see module doc). Raises on bad config."""
    own = db is None
    db = db or Database.from_config(config)
    await asyncio.to_thread(db.upgrade)
    dialer = build_dialer(config, runner, db, spool, holding, starts)
    hook = WebhookSettings.from_section(config.section("webhook"))
    jobs = [dialer.run(stop), _purge_loop(config, db, stop)]
    if hook is not None:
        jobs.append(WebhookPusher(db, hook).run(stop))
    log.info("dialer %s running (max %d calls)", dialer.worker_id, dialer.max_calls)
    try:
        await asyncio.gather(*jobs)
    finally:
        if own:
            db.dispose()


async def _purge_loop(config: Any, db: Database, stop: asyncio.Event) -> None:
    every = config.campaigns.purge_every_hours * 3600
    roots = audio_roots(config)
    while not stop.is_set():
        try:
            await asyncio.to_thread(purge, db, utcnow(), roots)
        except Exception:
            log.exception("retention purge failed; next try at the next interval")
        try:
            await asyncio.wait_for(stop.wait(), every)
        except TimeoutError:
            pass

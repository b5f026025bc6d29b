"""`veribot webhook resend [--all|ID…]` — send dead letters (deliveries that gave up) again.

    veribot webhook resend 12 15        those dead letters (see `veribot results dead-letters`)
    veribot webhook resend --all        every dead letter
        [--queue-only]                  only put them back in the outbox (the service sends them)
        [--config PATH]

Each one goes back to the outbox with its tries reset and is then sent once now when `[webhook]
url` is configured (the same signed, idempotent POST as the service's pusher: a receiver that got
it before drops the repeat by its Idempotency-Key). Exit 0 when every one chosen was delivered
(or queued with --queue-only); 1 when some are still failing (they stay in the outbox and the
service keeps trying); 2 for a usage error (an ID that is not a dead letter: nothing is changed).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILING, EXIT_USAGE = 0, 1, 2


def register(sub: Any) -> None:
    hook = sub.add_parser("webhook", help="results pushed to the health department")
    hsub = hook.add_subparsers(dest="webhook_cmd", metavar="ACTION", required=True)
    p = hsub.add_parser("resend", help="send dead letters again")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every dead letter")
    which.add_argument("ids", nargs="*", type=int, default=[], metavar="ID", help="dead-letter ids")
    p.add_argument("--queue-only", action="store_true", help="back to the outbox only; the service sends them")
    p.add_argument("--config", type=Path, default=None, help="config.toml (default: ./config.toml)")
    p.set_defaults(func=cmd_resend)


def _fail(msg: str, code: int = EXIT_USAGE) -> int:
    print(f"veribot: {msg}", file=sys.stderr)
    return code


def cmd_resend(args: argparse.Namespace) -> int:
    from sqlmodel import select

    from bot.campaigns.results.webhook import WebhookSettings
    from bot.config import load_config
    from storage.db import Database
    from storage.models import AuditEvent, DeliveryStatus, WebhookDelivery, utcnow

    if not args.all and not args.ids:
        return _fail("give dead-letter IDs or --all")
    config = load_config(args.config)
    try:
        settings = None if args.queue_only else WebhookSettings.from_section(config.section("webhook"))
    except ValueError as exc:
        return _fail(str(exc))
    db = Database.from_config(config)
    db.upgrade()

    def requeue(s: Any) -> list[int] | str:
        q = select(WebhookDelivery).where(WebhookDelivery.status == DeliveryStatus.DEAD)
        if not args.all:
            q = q.where(WebhookDelivery.id.in_(args.ids))
        rows = list(s.exec(q.order_by(WebhookDelivery.id)))
        missing = sorted(set(args.ids) - {r.id for r in rows})
        if missing:
            return f"not dead letters: {', '.join(map(str, missing))} (see veribot results dead-letters)"
        now = utcnow()
        for r in rows:
            r.status, r.tries, r.next_try_at, r.last_error = DeliveryStatus.PENDING, 0, now, ""
            s.add(r)
        s.add(AuditEvent(actor="cli", action="webhook.resend", target_type="webhook_delivery", source="cli",
                         target_id=",".join(str(r.id) for r in rows)[:100], detail=f"{len(rows)} requeued"))
        return [r.id for r in rows]

    chosen = db.run(requeue)
    if isinstance(chosen, str):
        return _fail(chosen)
    if not chosen:
        print("no dead letters", file=sys.stderr)
        return EXIT_OK
    if settings is None:
        if not args.queue_only:
            print(f"{len(chosen)} queued; no [webhook] url configured here: the service sends them", file=sys.stderr)
        else:
            print(f"{len(chosen)} queued", file=sys.stderr)
        return EXIT_OK
    asyncio.run(_send(db, settings, chosen))

    def states(s: Any) -> dict[int, tuple[str, str]]:
        rows = s.exec(select(WebhookDelivery).where(WebhookDelivery.id.in_(chosen)))
        return {r.id: (r.status, r.last_error) for r in rows}

    done = db.run(states, write=False)
    failing = {i: e for i, (st, e) in done.items() if st != DeliveryStatus.DELIVERED}
    for i in chosen:
        st, err = done.get(i, ("purged", ""))
        print(f"{i}\t{st}" + (f"\t{err}" if err else ""))
    print(f"{len(chosen) - len(failing)} delivered, {len(failing)} still failing", file=sys.stderr)
    return EXIT_FAILING if failing else EXIT_OK


async def _send(db: Any, settings: Any, ids: list[int]) -> None:
    import aiohttp

    from bot.campaigns.results.webhook import WebhookPusher

    pusher = WebhookPusher(db, settings)
    async with aiohttp.ClientSession() as http:
        for i in range(0, len(ids), 200):
            await pusher.push_due(http, ids[i:i + 200])

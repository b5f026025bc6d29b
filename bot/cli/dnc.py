"""`veribot dnc ...`: the do-not-call list, for every campaign (see bot/campaigns/people/suppression.py).

    veribot dnc add PHONE [--reason TEXT] [--by NAME]     (audited; pending people set aside at once)
    veribot dnc remove PHONE [--by NAME]
    veribot dnc list [--all] [--json]                     (--all: expired suppressions too)

A number without +country code is read in [campaigns] region. Exit 2 for a number that is not one.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="config.toml (default: ./config.toml)")
    p = sub.add_parser("dnc", help="the do-not-call list (all campaigns)")
    dsub = p.add_subparsers(dest="dnc_command", metavar="ACTION", required=True)
    add = dsub.add_parser("add", help="never call this number (any campaign)", parents=[common])
    add.add_argument("phone")
    add.add_argument("--reason", default="", help="why (kept with the entry, max 200 characters)")
    add.add_argument("--by", help="who asked for it, for the audit (default: your login name)")
    add.set_defaults(func=cmd_add)
    rm = dsub.add_parser("remove", help="take a number off the list", parents=[common])
    rm.add_argument("phone")
    rm.add_argument("--by", help="who, for the audit (default: your login name)")
    rm.set_defaults(func=cmd_remove)
    ls = dsub.add_parser("list", help="numbers not called, and suppressions in force", parents=[common])
    ls.add_argument("--all", action="store_true", help="include suppressions that have ended")
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    ls.set_defaults(func=cmd_list)


def _setup(args: argparse.Namespace) -> tuple[Any, Any, str]:
    """(config, database, phone in E.164 or "")."""
    from bot.campaigns.people.list_import import normalise_phone
    from bot.cli import UserError
    from bot.config import load_config
    from storage.db import Database

    config = load_config(args.config)
    phone = ""
    if getattr(args, "phone", None) is not None:
        try:
            phone = normalise_phone(args.phone, config.campaigns.region)
        except ValueError as exc:
            raise UserError(f"{args.phone!r}: {exc}") from None
    database = Database.from_config(config)
    database.upgrade()
    return config, database, phone


def _actor(args: argparse.Namespace) -> str:
    return (args.by or "").strip() or f"cli:{getpass.getuser()}"


def cmd_add(args: argparse.Namespace) -> int:
    from bot.campaigns.people import suppression
    from bot.privacy import mask_phone

    _config, database, phone = _setup(args)
    entry = database.run(lambda s: suppression.add(s, phone, actor=_actor(args), source="cli", reason=args.reason))
    print(f"do not call: {mask_phone(phone)} (entry {entry.id}, every campaign)")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from bot.campaigns.people import suppression
    from bot.privacy import mask_phone

    _config, database, phone = _setup(args)
    if not database.run(lambda s: suppression.remove(s, phone, actor=_actor(args), source="cli")):
        print(f"veribot dnc remove: {mask_phone(phone)} is not on the list", file=sys.stderr)
        return 1
    print(f"removed {mask_phone(phone)} from the do-not-call list")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from bot.campaigns.people import suppression

    _config, database, _ = _setup(args)
    rows = database.run(lambda s: suppression.entries(s, include_expired=args.all), write=False)
    if not rows:
        print("the do-not-call list is empty", file=sys.stderr)
    for e in rows:
        until = e.expires_at.isoformat(timespec="minutes") if e.expires_at else ""
        if args.json:
            print(json.dumps({"phone": e.phone, "kind": e.kind, "until": until or None, "reason": e.reason,
                              "added_by": e.added_by, "added_at": e.created_at.isoformat(timespec="seconds"),
                              "campaign_id": e.campaign_id, "attempt_id": e.attempt_id}, ensure_ascii=False))
        else:
            print(f"{e.phone}\t{e.kind}\t{until or 'for good'}\t{e.added_by}\t{e.reason}")
    return 0

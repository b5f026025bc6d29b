"""`veribot users ...`: console accounts from the command line.

    veribot users add NAME --role admin|operator|viewer [--password-stdin]
    veribot users list
    veribot users disable NAME     (ends the user's sessions at once)
    veribot users enable NAME

The password is read from a prompt (twice), or from the first line of stdin with
`--password-stdin`; it is never a command-line argument.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

from sqlmodel import Session, select

if TYPE_CHECKING:
    from storage.db import Database


def register(sub: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="config.toml (default: ./config.toml)")
    p = sub.add_parser("users", help="console accounts")
    usub = p.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = usub.add_parser("add", help="create an account", parents=[common])
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["admin", "operator", "viewer"])
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.set_defaults(func=cmd_add)
    lst = usub.add_parser("list", help="list accounts", parents=[common])
    lst.set_defaults(func=cmd_list)
    for action in ("disable", "enable"):
        q = usub.add_parser(action, help=f"{action} an account", parents=[common])
        q.add_argument("name")
        q.set_defaults(func=cmd_toggle, disable=action == "disable")


def _database(args: argparse.Namespace) -> Database:
    from bot.config import load_config
    from storage.db import Database

    database = Database.from_config(load_config(args.config))
    database.upgrade()
    return database


def _read_password(from_stdin: bool) -> str:
    from bot.cli import UserError

    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise UserError("no terminal to ask for the password: pipe it in with --password-stdin")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password again: "):
        raise ValueError("the two passwords differ")
    return first


def cmd_add(args: argparse.Namespace) -> int:
    from bot.console import audit, auth

    try:
        password = _read_password(args.password_stdin)
        database = _database(args)
        user = database.run(lambda s: auth.add_user(s, args.name, args.role, password))
    except (auth.AccountError, ValueError) as exc:
        print(f"veribot users add: {exc}", file=sys.stderr)
        return 1
    database.run(lambda s: audit.record(s, "cli", "user.add", "user", user.id or "", "cli", f"role={user.role}"))
    print(f"added {user.username} ({user.role})")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from bot.console import auth

    users = _database(args).run(auth.list_users, write=False)
    if not users:
        print("no users (add one: veribot users add NAME --role admin)", file=sys.stderr)
    for u in users:
        state = "disabled" if u.disabled else "active"
        print(f"{u.username}\t{u.role}\t{state}")
    return 0


def cmd_toggle(args: argparse.Namespace) -> int:
    from bot.console import audit, auth
    from storage.models import User

    database = _database(args)

    def change(s: Session) -> int:
        user = s.exec(select(User).where(User.username == auth.normalise_username(args.name))).first()
        if user is None or user.id is None:
            raise auth.AccountError(f"no user {args.name!r}")
        auth.set_disabled(s, user.id, args.disable)
        audit.record(s, "cli", "user.disable" if args.disable else "user.enable", "user", user.id, "cli")
        return user.id

    try:
        database.run(change)
    except auth.AccountError as exc:
        print(f"veribot users: {exc}", file=sys.stderr)
        return 1
    print(f"{'disabled' if args.disable else 'enabled'} {args.name}")
    return 0

"""The `veribot` command. Each area registers its own subcommands from its own module,
so the areas do not edit one shared file: add a line to AREAS naming the subcommand and
the module whose `register(subparsers)` adds it. Modules are imported lazily: `veribot nlu`
must not pay for pipecat, vosk or the database.

A user error — bad or missing config, a file that is not there, a busy port, no terminal —
is one line on stderr and exit 2, never a traceback: raise `UserError` (or let a
`ConfigError`, a missing file or a refused address reach `main`). Quiet by default
(warnings only; `serve` logs what it runs); `-v` shows logs, `-vv` debug."""

from __future__ import annotations

import argparse
import errno
import importlib
import importlib.util
import logging
import sys

# subcommand -> module that provides `register(subparsers)`; the module's parser sets
# `func` (a callable taking the parsed args and returning an exit code).
AREAS: dict[str, str] = {
    "nlu": "bot.cli.core",
    "simulate": "bot.cli.core",
    "dialogs": "bot.cli.core",
    "call": "bot.cli.speech",
    "models": "bot.cli.speech",
    "dial": "bot.cli.telephony",
    "softphone": "bot.cli.telephony",
    "people": "bot.cli.campaigns",
    "campaigns": "bot.cli.campaigns",
    "results": "bot.cli.campaigns",
    "purge": "bot.cli.campaigns",
    "webhook": "bot.cli.webhook",
    "users": "bot.cli.users",
    "dnc": "bot.cli.dnc",
    "serve": "bot.cli.serve",
    "prompts": "bot.cli.prompts",
    "evidence": "bot.cli.evidence",
}
EXIT_USER_ERROR = 2


class UserError(Exception):
    """Something the user must fix; its message is printed as one line (exit 2)."""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="veribot", description="Verification calls by voice.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="show logs (-vv: debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    done: set[str] = set()
    for name, modname in AREAS.items():
        if (only is not None and name != only) or modname in done:
            continue
        importlib.import_module(modname).register(sub)
        done.add(modname)
    _verbose_everywhere(parser)
    return parser


def _verbose_everywhere(parser: argparse.ArgumentParser, top: bool = True) -> None:
    """`-v` after the subcommand too (`veribot campaigns list -v`). argparse has no public
    way to walk its subparsers, hence `_actions`."""
    if not top:
        parser.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                            help="show logs (-vv: debug)")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                _verbose_everywhere(child, top=False)


def _logging(args: argparse.Namespace) -> None:
    verbose = args.verbose or 0
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose else getattr(args, "log_level", logging.WARNING)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if not verbose:  # schema migration chatter on every command
        logging.getLogger("alembic").setLevel(logging.WARNING)
    if importlib.util.find_spec("loguru") is not None:  # pipecat logs through loguru (a banner on import)
        from loguru import logger

        logger.remove()
        logger.add(sys.stderr, level=logging.getLevelName(level))


def user_error(exc: BaseException) -> str | None:
    """The one-line message for an error the user caused, or None for a bug."""
    from bot.config import ConfigError
    from bot.dialog.model import ScriptError

    if isinstance(exc, UserError | ConfigError):
        return str(exc)
    if isinstance(exc, ScriptError):  # a dialog named by the config or a flag that cannot run
        more = f" (and {len(exc.errors) - 1} more: veribot dialogs lint)" if len(exc.errors) > 1 else ""
        return str(exc).splitlines()[0] + more
    if isinstance(exc, UnicodeDecodeError):
        return f"input is not UTF-8 text (byte {exc.start})"
    if isinstance(exc, FileNotFoundError | IsADirectoryError | NotADirectoryError | PermissionError):
        return f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc)
    if isinstance(exc, OSError) and exc.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
        return f"cannot listen: {exc.strerror}"
    return None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    first = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(first if first in AREAS else None)
    args = parser.parse_args(argv)
    _logging(args)
    if not getattr(args, "func", None):
        build_parser().print_help()
        return EXIT_USER_ERROR
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except Exception as exc:
        message = user_error(exc)
        if message is None:
            raise
        print(f"veribot {args.command}: {message}", file=sys.stderr)
        return EXIT_USER_ERROR

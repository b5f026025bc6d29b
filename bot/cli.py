"""The `veribot` command. Each area registers its own subcommands from its own module,
so the areas do not edit one shared file. Modules are imported lazily: `veribot nlu`
must not pay for pipecat, vosk or the database."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# subcommand -> module that provides `register(subparsers)`; the module's parser sets
# `func` (a callable taking the parsed args and returning an exit code).
AREAS: dict[str, str] = {
    "nlu": "bot.core_cli",
    "simulate": "bot.core_cli",
    "dialogs": "bot.core_cli",
    "call": "audio.cli",
    "models": "audio.cli",
    "dial": "bot.telephony.cli",
    "softphone": "bot.telephony.cli",
    "people": "bot.campaigns.cli",
    "campaigns": "bot.campaigns.cli",
    "results": "bot.campaigns.cli",
    "purge": "bot.campaigns.cli",
    "users": "bot.console.cli",
    "serve": "bot.serve",
    "prompts": "bot.prompts_cli",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="veribot", description="Verification calls by voice.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    done: set[str] = set()
    for name, modname in AREAS.items():
        if only is not None and name != only:
            continue
        if modname in done:
            continue
        try:
            mod = importlib.import_module(modname)
        except ModuleNotFoundError as exc:
            if exc.name and modname.startswith(exc.name):
                continue  # area not built yet
            raise
        mod.register(sub)
        done.add(modname)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    first = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(first if first in AREAS else None)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not getattr(args, "func", None):
        build_parser().print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0

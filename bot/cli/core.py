"""Subcommands of the dialog core: `nlu`, `simulate`, `dialogs lint|table`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.config import ConfigError, load_config
from bot.dialog.script import ScriptError, load_script


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("nlu", help="parse answers (JSON lines in, JSON lines out)")
    p.add_argument("--batch", required=True, metavar="FILE|-", help='JSON lines {"locale","expect","text"}')
    p.set_defaults(func=cmd_nlu)

    p = sub.add_parser("simulate", help="run one conversation as text")
    p.add_argument("--dialog", required=True, type=Path, help="dialog script (YAML)")
    p.add_argument("--person", required=True, help="JSON object or a path to a JSON file")
    p.add_argument("--answers", type=Path,
                   help="one caller turn per line (words, dtmf:1, <silence>, <hangup>); without it: interactive")
    p.add_argument("--json", action="store_true", help="print the record as one JSON object")
    p.add_argument("--config", help="config.toml for agency variables")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("dialogs", help="check and explain dialog scripts")
    dsub = p.add_subparsers(dest="dialogs_command", metavar="ACTION", required=True)
    lint = dsub.add_parser("lint", help="exit 0 when valid; else line-numbered errors")
    lint.add_argument("path", type=Path, help="dialog script (YAML), or a system catalogue (system.<locale>.yaml)")
    lint.add_argument("--config", help="also check that the desk's variables (config.toml [agency]) leave "
                                       "nothing empty or unknown to say")
    lint.add_argument("--model", metavar="LOCALE", help="also check grammar words against that locale's Vosk model")
    lint.set_defaults(func=cmd_lint)
    table = dsub.add_parser("table", help="print the transition table of a script")
    table.add_argument("path", type=Path, help="dialog script (YAML)")
    table.set_defaults(func=cmd_table)
    diagram = dsub.add_parser("diagram", help="print the script as a Graphviz dot graph")
    diagram.add_argument("path", type=Path, help="dialog script (YAML)")
    diagram.set_defaults(func=cmd_diagram)


def cmd_nlu(args: argparse.Namespace) -> int:
    from bot import nlu

    src = sys.stdin if args.batch == "-" else open(args.batch, encoding="utf-8")
    out = sys.stdout
    bad = 0
    with src:
        try:
            lines = list(src) if args.batch != "-" else src  # a file: decoding errors before any output
        except UnicodeDecodeError as exc:
            print(f"veribot nlu: {args.batch}: not UTF-8 text (byte {exc.start})", file=sys.stderr)
            return 2
        for lineno, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                if not isinstance(item, dict):
                    raise ValueError("each line must be a JSON object")
                text = item.get("text")
                if not isinstance(text, str):
                    raise ValueError('"text" must be a string')
                result = nlu.parse(str(item.get("locale", "zh-CN")), str(item.get("expect")), text).to_json()
            except (ValueError, TypeError) as exc:
                bad += 1
                print(f"veribot nlu: line {lineno}: {exc}", file=sys.stderr)
                result = {"value": None, "intent": None, "error": str(exc)}
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
            out.flush() if args.batch == "-" else None
    return 1 if bad else 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from bot.campaigns.scripts import agency_overrides
    from bot.dialog.speakable import unspeakable, with_sample_code
    from bot.nlu import make_parser
    from bot.simulate import AnswerError, interactive, load_person, parse_answer, run_text

    try:
        script = load_script(args.dialog)
        person = load_person(args.person)
        config = load_config(args.config)
        answers = None
        if args.answers:
            answers = [canonical_answer(line) for line in args.answers.read_text(encoding="utf-8").splitlines()]
            for i, line in enumerate(answers, 1):
                parse_answer(line, i)
    except ScriptError as exc:
        print(exc, file=sys.stderr)
        return 2
    except (OSError, ValueError, ConfigError, AnswerError) as exc:
        print(f"veribot simulate: {exc}", file=sys.stderr)
        return 2
    parser = make_parser(*config.nlu.area)  # [nlu] default area for ambiguous district names
    desk = agency_overrides.applied(config.variables, config.var_dir)  # the console's number/badge, as a call's
    variables = with_sample_code(desk)  # a sample {call_code}: never the placeholder
    for line in unspeakable(script, desk):  # what a real call would refuse to say
        print(f"veribot simulate: warning: {line}", file=sys.stderr)
    if answers is None:
        conv = interactive(script, person, variables, sys.stdin, sys.stdout, parser=parser)
        print()
    else:
        conv = run_text(script, person, answers, variables, parser=parser)
    record = conv.record.to_json()
    if answers is None:
        print(summary(record))
    if args.json:
        print(json.dumps(record, ensure_ascii=False))
    elif answers is not None:
        for t in record["transcript"]:
            print(f"{t['speaker']}> {t['text']}")
        print(f"outcome: {record['outcome']}  escalation: {record['escalation']}")
        print("slots: " + json.dumps(record["slots"], ensure_ascii=False))
    return 0


def canonical_answer(line: str) -> str:
    """An answer line in the DESIGN.md syntax: the terminal's `/dtmf 1`, `/silence`,
    `/hangup` become `dtmf:1`, `<silence>`, `<hangup>` (both are accepted everywhere)."""
    text = line.strip()
    if text.startswith("/dtmf"):
        return "dtmf:" + text[5:].strip()
    return {"/silence": "<silence>", "/s": "<silence>", "/hangup": "<hangup>",
            "/quit": "<hangup>", "/q": "<hangup>"}.get(text, line)


def summary(record: dict) -> str:
    """One line for the end of a terminal conversation."""
    esc = record.get("escalation") or {}
    filled = sum(1 for v in (record.get("slots") or {}).values() if v is not None)
    return (f"call ended: {record.get('outcome')}" + (f" (escalated: {esc.get('reason')})" if esc else "")
            + f"; {filled} answer(s) kept; {len(record.get('transcript') or [])} turns")


def cmd_lint(args: argparse.Namespace) -> int:
    from bot.dialog.catalogue import catalogue_path, lint_catalogue
    from bot.dialog.speakable import unspeakable

    if args.path.name.startswith("system."):  # a catalogue of the system's own sentences
        try:
            problems = lint_catalogue(args.path.read_text(encoding="utf-8"), str(args.path))
        except (OSError, UnicodeDecodeError) as exc:
            print(f"veribot dialogs lint: cannot read {args.path}: {exc}", file=sys.stderr)
            return 2
        for p in problems:
            print(f"{args.path}:{p.line}: {p.message}")
        print(f"{args.path}: " + (f"{len(problems)} error(s)" if problems else "ok"), file=sys.stderr)
        return 1 if problems else 0
    try:
        script = load_script(args.path)
    except ScriptError as exc:
        for p in exc.errors:
            print(f"{args.path}:{p.line}: {p.message}")
        print(f"{len(exc.errors)} error(s)", file=sys.stderr)
        return 1
    said = []
    if catalogue_path(script.locale, args.path) is None:  # a warning: the script itself is valid
        print(f"{args.path}: warning: no system catalogue for {script.locale}: add system.{script.locale}.yaml "
              f"beside the script (until then the system's own sentences are "
              f"{script.system.locale if script.system else 'missing'}'s)", file=sys.stderr)
    if args.config:
        try:
            config = load_config(args.config)
        except ConfigError as exc:
            print(f"veribot dialogs lint: {exc}", file=sys.stderr)
            return 2
        said += [f"{args.path}:1: {line.split(': ', 1)[1]}" for line in unspeakable(script, config.variables)]
    if said:
        print("\n".join(said))
        print(f"{len(said)} error(s)", file=sys.stderr)
        return 1
    if args.model:
        try:
            from bot.pipeline.vocabulary import missing_words
        except ImportError:
            print("veribot dialogs lint: --model needs the speech package (audio.vocabulary)", file=sys.stderr)
            return 2
        try:
            missing = missing_words(script, args.model)
        except (OSError, ValueError, LookupError) as exc:  # LookupError: the model is not fetched
            print(f"veribot dialogs lint: {exc}", file=sys.stderr)
            return 2
        if missing:
            for w in missing:
                print(f"{args.path}:1: grammar word {w!r} is not in the {args.model} model's vocabulary")
            return 1
    print(f"{args.path}: ok ({len(script.steps)} steps, version {script.version})", file=sys.stderr)
    return 0


def _valid_script(path: Path):
    """The script at `path`, or None after printing its errors (for table and diagram)."""
    try:
        return load_script(path)
    except ScriptError as exc:
        print(exc, file=sys.stderr)
        return None


def cmd_table(args: argparse.Namespace) -> int:
    script = _valid_script(args.path)
    if script is None:
        return 1
    print(f"{'step':<18} {'kind':<14} transitions")
    for s in script.steps.values():
        if s.is_ask:
            kind = f"ask {s.expect}"
            moves = [f"{v} -> {t}" for v, t in s.branches] + [f"answer -> {s.next}"]
            moves += ["failures -> escalate unresolved"]
        elif s.end:
            kind, moves = "end", [s.end + (f" ({s.reason})" if s.reason else "")]
        elif s.branch_slot:
            kind = f"branch {s.branch_slot}"
            moves = [f"{v} -> {t}" for v, t in s.branches] + [f"else -> {s.next}"]
        else:
            kind, moves = "say", [f"-> {s.next}"]
        print(f"{s.id:<18} {kind:<14} {'; '.join(moves)}")
    print("global: " + ", ".join(f"{h}" + (f" (key {v.dtmf})" if v.dtmf else "") for h, v in script.handlers.items()))
    return 0


def cmd_diagram(args: argparse.Namespace) -> int:
    """Graphviz dot from the definition itself, so admins read what runs (`| dot -Tsvg`)."""
    script = _valid_script(args.path)
    if script is None:
        return 1
    q = json.dumps
    print(f"digraph {q(script.name)} {{\n  rankdir=TB; node [fontname=sans];")
    for s in script.steps.values():
        shape = "box" if s.is_ask else "doubleoctagon" if s.end else "diamond" if s.branch_slot else "note"
        label = f"{s.id}\n" + (f"ask {s.expect} -> {s.slot}" if s.is_ask else s.end or (f"branch {s.branch_slot}" if s.branch_slot else "say"))
        print(f"  {q(s.id)} [shape={shape}, label={q(label)}];")
        for value, target in s.branches:
            print(f"  {q(s.id)} -> {q(target)} [label={q(value)}];")
        if s.next:
            print(f"  {q(s.id)} -> {q(s.next)};")
        if s.is_ask:
            print(f"  {q(s.id)} -> escalated [style=dashed, label=\"failures/refuse/human\"];")
    print('  escalated [shape=doubleoctagon];\n}')
    return 0

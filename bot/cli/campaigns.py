"""`veribot people|campaigns|results|purge` — the terminal side of campaigns.

    veribot people import FILE --campaign NAME        exit 0 imported; 1 rejected (bad rows listed, nothing stored)
    veribot campaigns list|status NAME [--json]|start|pause|resume|cancel NAME
    veribot results export --campaign NAME --format csv|xlsx|json [--output PATH] [--layout FILE]
    veribot webhook resend [--all|ID…]                dead letters sent again (bot/cli/webhook.py)
    veribot results dead-letters [--json]             webhook deliveries that gave up
    veribot purge [--phone E164 [--campaign NAME] [--yes]] [--json]   retention purge, or erase one person (asks)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


def region_code(text: str) -> str:
    """argparse type: a region phone numbers are parsed in (ISO 3166 code known to libphonenumber)."""
    import phonenumbers

    code = text.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise argparse.ArgumentTypeError(f"unknown region {text!r} (a two-letter country code such as CN)")
    return code


def register(sub: Any) -> None:
    people = sub.add_parser("people", help="people lists").add_subparsers(dest="people_cmd", metavar="ACTION",
                                                                           required=True)
    p = people.add_parser("import", help="import people from CSV/XLSX into a campaign (all or nothing)")
    p.add_argument("file", type=Path, help="CSV or XLSX with a header row")
    p.add_argument("--campaign", required=True, help="campaign name (created as a draft when new)")
    p.add_argument("--region", type=region_code, help="default region for numbers without +country code (config: CN)")
    p.add_argument("--dialog", metavar="SCRIPT", help="the script a new campaign runs: survey, verification, "
                   "survey.zh-CN or a file under dialogs/ (default: [campaigns] dialog_path)")
    p.set_defaults(func=cmd_import)
    _common(p)

    camps = sub.add_parser("campaigns", help="list, start, pause, resume, cancel, status")
    csub = camps.add_subparsers(dest="campaigns_cmd", metavar="ACTION", required=True)
    p = csub.add_parser("list", help="every campaign with its counts")
    p.add_argument("--json", action="store_true", help="one JSON list")
    p.set_defaults(func=cmd_list)
    _common(p)
    p = csub.add_parser("status", help="counts of one campaign, and why it is (not) dialling now")
    p.add_argument("name", help="campaign name")
    p.add_argument("--json", action="store_true", help="one JSON object (keys as documented; `why` in --lang)")
    p.add_argument("--lang", choices=("zh-CN", "en-US"), default="zh-CN", help="language of the lines (default zh-CN)")
    p.set_defaults(func=cmd_status)
    _common(p)
    for action, what in (("start", "start dialling (checks that its dialog loads)"), ("pause", "stop dialling for now"),
                         ("resume", "dial again after a pause"), ("cancel", "stop for good")):
        p = csub.add_parser(action, help=what)
        p.add_argument("name", help="campaign name")
        p.set_defaults(func=cmd_change, action=action)
        _common(p)

    results = sub.add_parser("results", help="export results; webhook dead letters")
    rsub = results.add_subparsers(dest="results_cmd", metavar="ACTION", required=True)
    p = rsub.add_parser("export", help="one row per person: slots, outcome, escalation")
    p.add_argument("--campaign", required=True, help="campaign name")
    p.add_argument("--format", choices=("csv", "xlsx", "json"), default="csv", help="default csv")
    p.add_argument("--output", "-o", type=Path, help="file to write (default stdout; xlsx needs a file)")
    p.add_argument("--layout", help="csv/xlsx columns: a layout file or a shipped name (headers, order, value "
                   "words), e.g. health-department.zh-CN; `plain` for the English field names "
                   "(default: results.zh-CN: Chinese headers and values, local times)")
    p.set_defaults(func=cmd_export)
    _common(p)
    p = rsub.add_parser("dead-letters", help="webhook deliveries that gave up")
    p.add_argument("--json", action="store_true", help="one JSON list")
    p.set_defaults(func=cmd_dead_letters)
    _common(p)

    p = sub.add_parser("purge", help="erase records past retention, or one person on request")
    p.add_argument("--phone", help="erase this person now (E.164 or local number)")
    p.add_argument("--campaign", help="only in this campaign (with --phone)")
    p.add_argument("--yes", action="store_true", help="erase --phone without asking")
    p.add_argument("--json", action="store_true", help="the report as one JSON object")
    p.set_defaults(func=cmd_purge)
    _common(p)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="config.toml path (default ./config.toml or $VERIBOT_CONFIG)")
    func = p.get_default("func")
    if func is not None:
        p.set_defaults(func=_guarded(func))


def _guarded(func: Any) -> Any:
    """Bad configuration or an unreachable database: one clear line, exit 2 (no traceback)."""

    def run(args: argparse.Namespace) -> int:
        from sqlalchemy.exc import OperationalError

        from bot.config import ConfigError

        try:
            return func(args)
        except (ConfigError, ValueError) as exc:
            return _fail(f"configuration: {exc}")
        except OperationalError as exc:
            return _fail(f"database unavailable: {type(exc.orig).__name__ if exc.orig else exc}")

    return run


def _open(args: argparse.Namespace) -> tuple[Any, Any]:
    from bot.config import load_config
    from storage.db import Database

    config = load_config(args.config)
    db = Database.from_config(config)
    db.upgrade()
    return config, db


def _fail(msg: str, code: int = EXIT_USAGE) -> int:
    print(f"veribot: {msg}", file=sys.stderr)
    return code


def cmd_import(args: argparse.Namespace) -> int:

    from bot.campaigns.people.list_import import (
        ImportRejected,
        parse_people,
        read_table,
        stderr_progress,
        store_people,
    )
    from bot.campaigns.store import campaign_defaults, ensure_campaign

    if not args.file.is_file():
        return _fail(f"{args.file}: no such file")
    config, db = _open(args)
    section = config.section("campaigns")
    region = args.region or config.campaigns.region
    big = args.file.stat().st_size > 1_000_000
    try:
        report = parse_people(read_table(args.file), region, section.get("columns"),
                              progress=stderr_progress() if big else None)
    except ImportRejected as exc:
        print(f"veribot: {args.file}: rejected, nothing imported:", file=sys.stderr)
        for line in exc.problems[:200]:
            print(f"  {line}", file=sys.stderr)
        if len(exc.problems) > 200:
            print(f"  … and {len(exc.problems) - 200} more", file=sys.stderr)
        return EXIT_REJECTED
    defaults = campaign_defaults(section)
    if args.dialog:
        from bot.campaigns.scripts.dialog_versions import ScriptChoiceError, find_script

        default_path = Path(str(defaults["dialog_path"]))
        locale = default_path.name.split(".")[1] if default_path.name.count(".") >= 2 else ""
        try:
            path, script = find_script(args.dialog, default_path.parent, locale)
        except ScriptChoiceError as exc:
            return _fail(f"--dialog {exc}")
        defaults = {**defaults, "dialog_path": str(path), "dialog_name": script.name}

    def write(s: Any) -> Any:
        from bot.campaigns.store import CampaignError

        camp = ensure_campaign(s, args.campaign, defaults)
        if args.dialog and Path(camp.dialog_path).resolve() != Path(defaults["dialog_path"]).resolve():
            raise CampaignError(f"campaign {args.campaign!r} runs {camp.dialog_path}; --dialog names the script "
                                "of a new campaign only (nothing imported)")
        return store_people(s, camp.id, report)

    from bot.campaigns.store import CampaignError

    try:
        report = db.run(write)
    except CampaignError as exc:
        return _fail(str(exc), EXIT_REJECTED)
    print(json.dumps({"campaign": args.campaign, "rows": report.rows, "added": report.added,
                      "updated": report.updated, "merged": report.merged, "do_not_call": report.do_not_call}, ensure_ascii=False))
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from sqlmodel import select

    from bot.campaigns.store import status_counts
    from storage.models import Campaign

    _, db = _open(args)
    rows = db.run(lambda s: [status_counts(s, c) for c in s.exec(select(Campaign).order_by(Campaign.id)).all()],
                  write=False)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    elif not rows:
        print("no campaigns", file=sys.stderr)
    else:
        for r in rows:
            print(f"{r['campaign']}\t{r['status']}\tpeople={r['people']} pending={r['pending']} "
                  f"completed={r['completed']} escalated={r['escalated']} failed={r['failed']}")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from bot.campaigns.dialing import holds
    from bot.campaigns.dialing.why import explain
    from bot.campaigns.store import CampaignError, get_campaign, status_counts
    from storage.models import utcnow

    config, db = _open(args)

    from bot.console.i18n import translations
    from bot.console.labels import STATUS_LINES, word

    _ = translations(args.lang).gettext

    def counts_and_why(s: Any) -> dict[str, Any]:
        camp = get_campaign(s, args.name)
        counts = status_counts(s, camp)
        why = explain(s, camp, counts)  # the campaign page's own reason, in the chosen language
        counts["why"] = _(why.msgid) % why.params if why.params else _(why.msgid)
        counts["next_call"] = why.next_call.isoformat() if why.next_call else None
        # workers whose admission control holds new calls back now (bot/campaigns/dialing/holds.py)
        held = holds.current(s, utcnow(), timedelta(seconds=config.dialer.claim_ttl))
        counts["held_back"] = [{**h.as_dict(), "text": h.text(_)} for h in held]
        return counts

    try:
        r = db.run(counts_and_why, write=False)
    except CampaignError as exc:
        return _fail(str(exc), EXIT_REJECTED)
    if args.json:
        print(json.dumps(r, ensure_ascii=False))
    else:
        for k, v in r.items():
            if k == "held_back":
                for h in v:
                    print(f"{_(STATUS_LINES.get(k, k))}: {h['text']}")
                continue
            shown = word(v, _) if k == "status" else ("—" if v is None else v)
            print(f"{_(STATUS_LINES.get(k, k))}: {shown}")
    return EXIT_OK


def cmd_change(args: argparse.Namespace) -> int:
    from bot.campaigns.scripts.dialog_versions import ScriptSource
    from bot.campaigns.store import CampaignError, change_status, get_campaign

    _, db = _open(args)
    try:
        if args.action in ("start", "resume"):  # refuse to run a campaign whose dialog does not load
            camp = db.run(lambda s: get_campaign(s, args.name), write=False)
            try:
                ScriptSource(db).for_campaign(camp)
            except Exception as exc:
                return _fail(f"campaign {args.name!r}: its dialog cannot be loaded: {exc}", EXIT_REJECTED)
        camp = db.run(lambda s: change_status(s, args.name, args.action))
    except CampaignError as exc:
        return _fail(str(exc), EXIT_REJECTED)
    print(f"{camp.name}: {camp.status}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from bot.campaigns.results import export
    from bot.campaigns.store import CampaignError, get_campaign
    from storage.models import AuditEvent

    _, db = _open(args)
    if args.format == "xlsx" and args.output is None:
        return _fail("--format xlsx needs --output FILE")
    from bot.campaigns.results.export_layout import DEFAULT_LAYOUT, LayoutError, layout_choices, load_layout

    name = args.layout or (DEFAULT_LAYOUT if args.format != "json" else "plain")
    try:
        shipped = layout_choices()
        layout = None if name == "plain" else load_layout(shipped.get(name, name), args.format)
    except LayoutError as exc:
        return _fail(str(exc))

    def read(s: Any) -> tuple[list[dict[str, Any]], Any, str]:
        camp = get_campaign(s, args.campaign)
        s.add(AuditEvent(actor="cli", action="results.export", target_type="campaign",
                         target_id=str(camp.id), source="cli", detail=f"format={args.format}"))
        script = export.campaign_script(s, camp)
        slots = export.slot_order(script) if script is not None else []
        return export.collect(s, camp, detail=args.format == "json", slots=slots), script, camp.timezone

    try:
        rows, script, zone = db.run(read)
    except CampaignError as exc:
        return _fail(str(exc), EXIT_REJECTED)
    if layout is not None:
        layout.for_campaign(script, rows, zone).write(args.format, rows, args.output or sys.stdout)
        return EXIT_OK
    if args.format == "xlsx":
        export.write_xlsx(rows, args.output)
        return EXIT_OK
    out = args.output.open("w", encoding="utf-8", newline="") if args.output else sys.stdout
    try:
        if args.format == "csv":
            export.write_csv(rows, out)
        else:
            export.write_json(rows, out, args.campaign)
    finally:
        if args.output:
            out.close()
    return EXIT_OK


def cmd_dead_letters(args: argparse.Namespace) -> int:
    from bot.campaigns.results.webhook import dead_letters

    _, db = _open(args)
    rows = db.run(dead_letters, write=False)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    elif not rows:
        print("no dead letters", file=sys.stderr)
    else:
        for r in rows:
            print(f"{r['id']}\tattempt={r['attempt_id']}\ttries={r['tries']}\t{r['last_error']}")
    return EXIT_OK


def cmd_purge(args: argparse.Namespace) -> int:
    from sqlmodel import select

    from bot.campaigns.people.list_import import normalise_phone
    from bot.campaigns.people.retention import audio_roots, purge
    from bot.privacy import mask_phone
    from storage.models import Campaign, Person, utcnow

    config, db = _open(args)
    roots = audio_roots(config)
    ids = None
    if args.phone:
        try:
            phone = normalise_phone(args.phone, config.campaigns.region)
        except ValueError as exc:
            return _fail(str(exc))

        def find(s: Any) -> list[int]:
            q = select(Person.id).where(Person.phone == phone)
            if args.campaign:
                q = q.join(Campaign, Campaign.id == Person.campaign_id).where(Campaign.name == args.campaign)
            return list(s.exec(q).all())

        ids = db.run(find, write=False)
        if not ids:
            return _fail("no such person", EXIT_REJECTED)
        if not args.yes and not _confirm(f"erase {len(ids)} record(s) of {mask_phone(phone)} now, "
                                         "with transcripts and audio? [y/N] "):
            return _fail("nothing erased (confirm, or pass --yes)", EXIT_REJECTED)
    elif args.campaign:
        return _fail("--campaign only goes with --phone")
    report = purge(db, utcnow(), roots, person_ids=ids, actor="cli",
                   why="request" if ids is not None else "retention")
    print(json.dumps(report.to_json()) if args.json else
          f"purged {report.people} people, {report.attempts} attempts, {report.files} audio files/dirs")
    return EXIT_OK


def _confirm(question: str) -> bool:
    """Ask on the terminal; without one, a UserError (use --yes)."""
    from bot.cli import UserError

    if not sys.stdin.isatty():
        raise UserError("no terminal to confirm on: pass --yes to erase without asking")
    return input(question).strip().lower() in ("y", "yes")


"""Results for the health department: one row per person (CSV/XLSX) or full per-call detail (JSON).

Spreadsheet safety (OWASP "CSV injection"): a text cell starting with `= + - @`, a tab or a carriage
return would be run as a formula by Excel or LibreOffice. In CSV such a cell gets a leading `'`
(a valid phone number such as `+8613800138000` is left as it is: digits cannot run anything); in
XLSX every text cell is written as a string cell (never a formula), with Excel's own quote-prefix
flag on the risky ones, so the value itself is unchanged. CSV starts with a UTF-8 byte-order mark,
without which Excel shows Chinese as mojibake.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import phonenumbers
from sqlmodel import Session, select

from storage.models import (
    Attempt,
    Campaign,
    DialogVersion,
    Escalation,
    EscalationStatus,
    Person,
    PersonState,
    Result,
    Turn,
)

PERSON_COLUMNS = ("person_id", "name", "phone", "risk_category", "priority", "expected_address", "state",
                  "attempts", "last_outcome")
TAIL_COLUMNS = ("escalation", "dialog_version", "updated_at")
# between them: one column per slot, in the order the campaign's script asks them (`slot_order`)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
# characters XML 1.0 (so XLSX) cannot hold; openpyxl raises on them
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def is_phone(text: str) -> bool:
    """An E.164 number that phonenumbers accepts as valid."""
    if not _E164.fullmatch(text):
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(text, None))
    except phonenumbers.NumberParseException:
        return False


def risky(value: Any) -> bool:
    """A text cell a spreadsheet would run as a formula (a valid phone number is not)."""
    return isinstance(value, str) and value.startswith(FORMULA_START) and not is_phone(value)


def neutralise(value: Any) -> Any:
    """The CSV form of a cell: risky text gets a leading `'` (OWASP); anything else unchanged."""
    return "'" + value if risky(value) else value


def _iso(v: datetime | None) -> str | None:
    return v.isoformat() if v else None


def _cell(v: Any) -> Any:
    if isinstance(v, dict):
        return v.get("raw") or json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return json.dumps(v, ensure_ascii=False)
    return v


def slot_order(script: Any) -> list[str]:
    """The slots a script asks, in the order its steps are written."""
    out: list[str] = []
    for step in script.steps.values():
        if step.slot and step.expect and step.slot not in out:
            out.append(step.slot)
    return out


def campaign_script(s: Session, camp: Campaign) -> Any:
    """The script the campaign's calls run now (its active published version, else its file);
    None when neither loads."""
    from bot.dialog.script import ScriptError, load_script, load_script_text

    script = None
    try:
        script = load_script(camp.dialog_path)
    except (ScriptError, OSError, ValueError):
        pass
    name = script.name if script is not None else camp.dialog_name
    q = select(DialogVersion).where(DialogVersion.name == name, DialogVersion.active == True)  # noqa: E712
    if script is not None:
        q = q.where(DialogVersion.locale == script.locale)
    row = s.exec(q.order_by(DialogVersion.published_at.desc())).first()
    if row is not None:
        try:
            return load_script_text(row.yaml_text, name)
        except (ScriptError, ValueError):
            pass
    return script


def columns(rows: list[dict[str, Any]]) -> list[str]:
    """The plain export's columns: the person, every slot of the rows in order, the tail."""
    slots: dict[str, None] = {}
    for r in rows:
        slots.update(dict.fromkeys(r["slots"]))
    return [*PERSON_COLUMNS, *slots, *TAIL_COLUMNS]


def collect(s: Session, camp: Campaign, detail: bool = False, slots: list[str] | None = None) -> list[dict[str, Any]]:
    """Per person: identity, state and the latest value of every slot (the script's slots first, in its
    order, then any other stored); with `detail`, every attempt with its outcome, escalation, slots and
    transcript."""
    if slots is None:
        script = campaign_script(s, camp)
        slots = slot_order(script) if script is not None else []
    people = s.exec(select(Person).where(Person.campaign_id == camp.id, Person.purged == False)  # noqa: E712
                    .order_by(Person.id)).all()
    results: dict[int, dict[str, Any]] = defaultdict(dict)
    versions: dict[int, str | None] = {}
    by_attempt: dict[int, dict[str, Any]] = defaultdict(dict)
    for r in s.exec(select(Result).where(Result.campaign_id == camp.id).order_by(Result.id)).all():
        results[r.person_id][r.slot] = r.value
        versions[r.person_id] = r.dialog_version
        by_attempt[r.attempt_id][r.slot] = r.value
    escalations = {e.person_id: e for e in s.exec(
        select(Escalation).where(Escalation.campaign_id == camp.id).order_by(Escalation.id)).all()}
    for e in escalations.values():
        if e.resolution:
            results[e.person_id].update(e.resolution)  # an operator's correction wins
    attempts: dict[int, list[Attempt]] = defaultdict(list)
    turns: dict[int, list[Turn]] = defaultdict(list)
    if detail:
        for a in s.exec(select(Attempt).where(Attempt.campaign_id == camp.id).order_by(Attempt.id)).all():
            attempts[a.person_id].append(a)
        ids = [a.id for lst in attempts.values() for a in lst]
        for i in range(0, len(ids), 500):
            for t in s.exec(select(Turn).where(Turn.attempt_id.in_(ids[i:i + 500])).order_by(Turn.seq)).all():
                turns[t.attempt_id].append(t)
    out = []
    for p in people:
        esc = _standing(escalations.get(p.id), p)
        row: dict[str, Any] = {
            "person_id": p.id, "name": p.name, "phone": p.phone, "risk_category": p.risk_category,
            "priority": p.priority, "expected_address": p.expected_address, "state": p.state,
            "attempts": p.attempt_count, "last_outcome": p.last_outcome,
            "slots": {**dict.fromkeys(slots), **results[p.id]},
            "escalation": None if esc is None else {"reason": esc.reason, "step": esc.step, "status": esc.status},
            "dialog_version": versions.get(p.id), "updated_at": _iso(p.updated_at),
        }
        if detail:
            row["calls"] = [{
                "attempt_id": a.id, "state": a.state, "outcome": a.outcome, "network": a.network_outcome,
                "sip_status": a.sip_status, "started_at": _iso(a.started_at), "ended_at": _iso(a.ended_at),
                "dialog": a.dialog_name, "dialog_version": a.dialog_version,
                "escalation": a.escalation_reason, "slots": by_attempt.get(a.id, {}),
                "transcript": [{"speaker": t.speaker, "text": t.text, "step": t.step, "kind": t.kind,
                                "confidence": t.confidence, "at": _iso(t.at)} for t in turns.get(a.id, [])],
            } for a in attempts.get(p.id, [])]
        out.append(row)
    return out


def _standing(esc: Escalation | None, person: Person) -> Escalation | None:
    """The person's escalation, if it still stands: one handed back to the bot, or left open while a
    later call completed the person, is history (it is in the calls), not why the person is where
    they are; a completed person shows a reason only when an operator closed the case."""
    if esc is None or esc.status == EscalationStatus.RETURNED_TO_BOT:
        return None
    if person.state == PersonState.COMPLETED and esc.status != EscalationStatus.RESOLVED:
        return None
    return esc


def flat(row: dict[str, Any], cols: list[str]) -> list[Any]:
    esc = row["escalation"]
    values = {**row, **{k: _cell(v) for k, v in row["slots"].items()},
              "escalation": esc["reason"] if esc else None}
    return [values.get(c) for c in cols]


def write_csv(rows: list[dict[str, Any]], out: TextIO) -> None:
    """CSV for spreadsheets: a UTF-8 BOM first, formula-like cells neutralised."""
    out.write(BOM)
    w = csv.writer(out)
    cols = columns(rows)
    w.writerow(cols)
    for r in rows:
        w.writerow(["" if v is None else neutralise(v) for v in flat(r, cols)])


def write_json(rows: list[dict[str, Any]], out: TextIO, campaign: str) -> None:
    json.dump({"campaign": campaign, "people": rows}, out, ensure_ascii=False, indent=1)
    out.write("\n")


def write_xlsx(rows: list[dict[str, Any]], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("results")

    def cell(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        c = WriteOnlyCell(ws, value=_XML_ILLEGAL.sub("\ufffd", value))
        c.data_type = "s"  # text, never a formula, whatever it starts with
        if risky(value):
            c.quotePrefix = True  # what Excel itself sets when a user types '=...
        return c

    cols = columns(rows)
    ws.append(cols)
    for r in rows:
        ws.append([cell(v) for v in flat(r, cols)])
    wb.save(path)

"""`veribot people import`: read a CSV/XLSX list of people, validate every row, then store all or nothing.

Columns are recognised by header (aliases below, extendable in config `[campaigns.columns]`);
Chinese headers work out of the box. Phones are normalised to E.164 with `phonenumbers`
(default region `[campaigns] region`, CN). Rows with the same number are merged (first non-empty
value wins, the most urgent priority is kept, notes are joined), and a number already in the
campaign updates that person instead of adding another. One bad row rejects the whole file.

Hostile files cost little: the first MAX_SHOWN bad rows are listed with a count, and checking
stops after MAX_BAD bad rows; a cell over the CSV field limit is a row error; an XLSX whose
parts would unpack to more than MAX_XLSX_UNPACKED bytes (a zip bomb), or whose shared strings (which
openpyxl holds in memory whole) to more than MAX_XLSX_STRINGS, is refused before it is opened, and
openpyxl parses its XML through defusedxml. Control characters (NUL, escape, bidi overrides ...)
in a cell are a row error: only tab and line breaks, and only in the address and notes.
"""

from __future__ import annotations

import csv
import io
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import phonenumbers
from sqlalchemy import insert
from sqlmodel import Session, select

from storage.models import AuditEvent, DoNotCall, Person, utcnow

FIELDS = ("name", "phone", "expected_address", "risk_category", "priority", "notes")
ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "姓名", "名字", "人员姓名"),
    "phone": ("phone", "mobile", "电话", "手机号", "手机", "手机号码", "电话号码", "联系电话"),
    "expected_address": ("expected_address", "address", "地址", "住址", "现住址", "居住地址"),
    "risk_category": ("risk_category", "category", "类别", "风险类别", "人员类别"),
    "priority": ("priority", "优先级"),
    "notes": ("notes", "note", "备注"),
}
CATEGORY_PRIORITY = {"密接": 1, "密切接触者": 1, "次密接": 2, "次密切接触者": 2}
DEFAULT_PRIORITY = 5
MAX_ROWS = 1_000_000
MAX_FIELD = 500
MAX_SHOWN = 100  # bad rows listed
MAX_BAD = 1000  # checking stops after this many bad rows
MAX_XLSX_UNPACKED = 256 * 1024 * 1024
MAX_XLSX_RATIO = 200  # a real sheet compresses ~5-20x; a bomb ~1000x
# the shared strings are read into memory whole (the sheet itself is streamed): 64 MB of them holds a
# million rows' distinct names with short addresses; more is refused at once, whatever the ratio
MAX_XLSX_STRINGS = 64_000_000
BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
MULTILINE = ("expected_address", "notes")


class ImportRejected(ValueError):
    """The file was rejected; `problems` are "row N: ..." lines. Nothing was imported."""

    def __init__(self, problems: list[str], bad_rows: int | None = None) -> None:
        self.bad_rows = len(problems) if bad_rows is None else bad_rows
        super().__init__(f"{self.bad_rows} problem(s); nothing imported")
        self.problems = problems


@dataclass
class ImportReport:
    rows: int = 0
    added: int = 0
    updated: int = 0  # already in the campaign
    merged: int = 0  # duplicate rows within the file
    do_not_call: int = 0  # new people whose number is on the do-not-call list (kept, never dialled)
    people: list[dict[str, Any]] = field(default_factory=list, repr=False)


def read_table(path: Path) -> Iterator[tuple[int, list[Any]]]:
    """(spreadsheet row number, cells) for every non-empty row; the header is row 1."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        yield from _read_xlsx(path)
    elif suffix in (".csv", ".txt"):
        raw = path.read_bytes()
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ImportRejected(["file: not UTF-8 or GB18030 text"])
        reader = csv.reader(io.StringIO(text, newline=""))
        n = 0
        while True:
            n += 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # e.g. a cell over csv.field_size_limit(), or a NUL byte
                raise ImportRejected([f"row {n}: unreadable CSV ({exc})"]) from None
            if any(c.strip() for c in row):
                yield n, row
    else:
        raise ImportRejected([f"file: unsupported type {suffix or '(none)'}; use .csv or .xlsx"])


def _check_zip(path: Path) -> None:
    """Refuse a workbook that is not a zip, or whose parts would unpack to too much (a zip bomb).
    The sizes are the ones the zip declares; zipfile never unpacks more than declared."""
    try:
        with zipfile.ZipFile(path) as z:
            parts = z.infolist()
    except (zipfile.BadZipFile, OSError):
        raise ImportRejected(["file: not a readable .xlsx workbook"]) from None
    total = sum(p.file_size for p in parts)
    strings = sum(p.file_size for p in parts if p.filename.lower().endswith("sharedstrings.xml"))
    if strings > MAX_XLSX_STRINGS:
        raise ImportRejected([f"file: the workbook's shared strings unpack to {strings / 1e6:.0f} MB, more "
                              f"than {MAX_XLSX_STRINGS / 1e6:.0f} MB; split it or save it as CSV"])
    if len(parts) > 10_000 or total > MAX_XLSX_UNPACKED or any(
            p.file_size > 1024 * 1024 and p.file_size > MAX_XLSX_RATIO * max(p.compress_size, 1) for p in parts):
        raise ImportRejected([f"file: the workbook unpacks to {total // (1024 * 1024)} MB or is packed suspiciously "
                              "tightly; save it again from a spreadsheet program or as CSV"])


def _read_xlsx(path: Path) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    _check_zip(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds (KeyError, InvalidFileException, XML errors)
        raise ImportRejected(["file: not a readable .xlsx workbook"]) from None
    try:
        rows = wb.worksheets[0].iter_rows(values_only=True)
        n = 0
        while True:
            n += 1
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as exc:  # broken sheet XML
                raise ImportRejected([f"row {n}: unreadable ({type(exc).__name__})"]) from None
            if any(c not in (None, "") for c in row):
                yield n, list(row)
    finally:
        wb.close()


def map_header(header: list[Any], extra: dict[str, Any] | None = None) -> dict[str, int]:
    """field -> column index. `extra`: config `[campaigns.columns]` {field = "header" or [headers]}."""
    aliases = {f: {a.lower() for a in ALIASES[f]} for f in FIELDS}
    for f, names in (extra or {}).items():
        if f not in aliases:
            raise ImportRejected([f"config [campaigns.columns]: unknown field {f!r}"])
        aliases[f] |= {str(n).strip().lower() for n in ([names] if isinstance(names, str) else names)}
    cols: dict[str, int] = {}
    for i, h in enumerate(header):
        key = str(h or "").strip().lower()
        for f, names in aliases.items():
            if key in names and f not in cols:
                cols[f] = i
    missing = [f for f in ("name", "phone") if f not in cols]
    if missing:
        raise ImportRejected([f"row 1: no column for {', '.join(missing)} (headers: {header})"])
    return cols


def normalise_phone(value: Any, region: str) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value or "").strip()
    if not text:
        raise ValueError("phone is empty")
    try:
        num = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValueError("phone is not a telephone number") from None
    if not phonenumbers.is_valid_number(num):
        raise ValueError("phone is not a valid number")
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def parse_people(rows: Iterator[tuple[int, list[Any]]], region: str = "CN", columns: dict | None = None,
                 progress: Callable[[int], None] | None = None) -> ImportReport:
    """Validate and merge the rows; raise ImportRejected listing every bad row."""
    first = next(rows, None)
    if first is None:
        raise ImportRejected(["file: empty"])
    cols = map_header(first[1], columns)
    by_phone: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    bad = 0
    report = ImportReport()
    for n, row in rows:
        report.rows += 1
        if report.rows > MAX_ROWS:
            raise ImportRejected([f"file: more than {MAX_ROWS} rows"])
        if progress and report.rows % 10000 == 0:
            progress(report.rows)
        cell = {f: row[i] if i < len(row) else None for f, i in cols.items()}
        try:
            person = _person(cell, region)
        except ValueError as exc:
            bad += 1
            if bad <= MAX_SHOWN:
                problems.append(f"row {n}: {exc}")
            if bad >= MAX_BAD:
                problems.append(f"file: checking stopped at row {n} after {bad} bad rows; the first "
                                f"{MAX_SHOWN} are listed")
                raise ImportRejected(problems, bad) from None
            continue
        if person["phone"] in by_phone:
            _merge(by_phone[person["phone"]], person)
            report.merged += 1
        else:
            by_phone[person["phone"]] = person
    if problems:
        if bad > MAX_SHOWN:
            problems.append(f"file: {bad} bad rows; the first {MAX_SHOWN} are listed")
        raise ImportRejected(problems, bad)
    if not by_phone:
        raise ImportRejected(["file: no people in it"])
    report.people = list(by_phone.values())
    return report


def _person(cell: dict[str, Any], region: str) -> dict[str, Any]:
    text = {f: ("" if cell.get(f) is None else str(cell[f]).strip()) for f in FIELDS}
    for f, v in text.items():
        if len(v) > MAX_FIELD and f != "notes":
            raise ValueError(f"{f} is longer than {MAX_FIELD} characters")
        if bad := _control(v, f in MULTILINE):
            raise ValueError(f"{f} holds a control character (U+{ord(bad):04X}); remove it and import again")
    if not text["name"]:
        raise ValueError("name is empty")
    phone = normalise_phone(cell.get("phone"), region)
    if text["priority"]:
        try:
            priority = int(float(text["priority"]))
        except ValueError:
            raise ValueError(f"priority {text['priority']!r} is not a number") from None
        if not 1 <= priority <= 9:
            raise ValueError("priority must be 1 (most urgent) to 9")
    else:
        priority = CATEGORY_PRIORITY.get(text["risk_category"], DEFAULT_PRIORITY)
    return {"name": text["name"], "phone": phone, "expected_address": text["expected_address"],
            "risk_category": text["risk_category"], "priority": priority, "notes": text["notes"][:4000]}


def _control(text: str, multiline: bool) -> str:
    """The first control character in `text` ("" if none): C0/C1 controls, DEL and bidi overrides;
    tab, CR and LF are allowed where a cell may hold lines."""
    for c in text:
        if (c < " " or "\x7f" <= c <= "\x9f" or c in BIDI) and not (multiline and c in "\t\r\n"):
            return c
    return ""


def _merge(into: dict[str, Any], other: dict[str, Any]) -> None:
    for f in ("name", "expected_address", "risk_category"):
        if not into[f] and other[f]:
            into[f] = other[f]
    into["priority"] = min(into["priority"], other["priority"])
    if other["notes"] and other["notes"] not in into["notes"]:
        into["notes"] = f"{into['notes']}; {other['notes']}" if into["notes"] else other["notes"]


def store_people(s: Session, campaign_id: int, report: ImportReport, actor: str = "cli") -> ImportReport:
    """Insert new people and merge into existing ones, in the caller's transaction."""
    now = utcnow()
    existing = {phone: pid for phone, pid in s.exec(
        select(Person.phone, Person.id).where(Person.campaign_id == campaign_id)).all()}
    new = []
    listed = set(s.exec(select(DoNotCall.phone).where(DoNotCall.expires_at.is_(None))).all())
    for p in report.people:
        pid = existing.get(p["phone"])
        if pid is None:  # a number on the do-not-call list is kept, marked, and never dialled
            state = "do_not_call" if p["phone"] in listed else "pending"
            report.do_not_call += state == "do_not_call"
            new.append({**p, "campaign_id": campaign_id, "state": state, "attempt_count": 0,
                        "purged": False, "created_at": now, "updated_at": now})
            continue
        row = s.get(Person, pid)
        if row is None or row.purged:
            continue
        _merge_row(row, p, now)
        s.add(row)
        report.updated += 1
    for i in range(0, len(new), 5000):
        s.execute(insert(Person.__table__), new[i:i + 5000])  # core executemany: no ORM bookkeeping
    report.added = len(new)
    s.add(AuditEvent(actor=actor, action="people.import", target_type="campaign", target_id=str(campaign_id),
                     detail=f"rows={report.rows} added={report.added} updated={report.updated} merged={report.merged}"
                            f" do_not_call={report.do_not_call}"))
    return report


def _merge_row(row: Person, p: dict[str, Any], now: Any) -> None:
    row.name = p["name"] or row.name
    row.expected_address = p["expected_address"] or row.expected_address
    row.risk_category = p["risk_category"] or row.risk_category
    row.priority = min(row.priority, p["priority"])
    if p["notes"] and p["notes"] not in row.notes:
        row.notes = f"{row.notes}; {p['notes']}" if row.notes else p["notes"]
    row.updated_at = now


def stderr_progress(stream: TextIO | None = None) -> Callable[[int], None]:
    return lambda n: print(f"… {n} rows checked", file=stream or sys.stderr, flush=True)

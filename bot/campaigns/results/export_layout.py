"""Batch-export layouts: which columns, in which order, under which (Chinese) headers, with which
value words — the format a health department asks for, kept as a YAML file, not code.

    name: 卫健委流调结果
    columns:
      - {header: 姓名, field: name}
      - {header: 健康码, field: slots.health_code, values: {green: 绿码, yellow: 黄码, red: 红码}}
      - {header: 所在区县, field: slots.residence.district}
    relations: {spouse: 配偶, colleague: 同事}     # optional: words for a contact's relation

`field` is a key of an export row (bot.campaigns.results.export.collect: person_id, name, phone, state,
last_outcome, …), `slots.<slot>` (any slot of the script), a dotted path into one
(`slots.residence.district`) or `escalation.reason`. `{field: slots.*}` stands for every slot the
campaign's script asks, in its order, headed by the script's `title:` and worded by its `labels:` (when
the script speaks the layout's `locale:`), else by the layout's `words:` (yes: 是, green: 绿码, …).
Times (`updated_at`) are written in the campaign's time zone, "2026-12-07 19:05:00". An address is written as heard; a contacts
list as "王芳（配偶）+8613812345678；李明（同事）+8613909312233"; a places list as
"前天下午 西关十字的超市；…". The shipped layout: exports/health-department.zh-CN.yaml.
CSV and XLSX get the same spreadsheet-injection protection as the built-in export.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot.campaigns.results import export

ROW_FIELDS = ("person_id", "name", "phone", "risk_category", "priority", "expected_address", "state", "attempts",
              "last_outcome", "dialog_version", "updated_at")
MAX_COLUMNS = 200
TIME_FIELDS = ("updated_at",)
ALL_SLOTS = ("slots", "*")
EXPORTS_DIR = Path(__file__).resolve().parents[3] / "exports"  # the shipped layouts, beside bot/ (not `import bot`: the top layer)
DEFAULT_LAYOUT = "results.zh-CN"  # what an export uses unless another layout (or `plain`) is chosen


class LayoutError(ValueError):
    """A layout file that cannot be used; the message says where."""


@dataclass(frozen=True)
class Column:
    header: str
    path: tuple[str, ...]
    values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Layout:
    name: str
    columns: tuple[Column, ...]
    relations: dict[str, str] = field(default_factory=dict)
    words: dict[str, str] = field(default_factory=dict)  # value words for the script's slots
    locale: str = ""
    zone: str = ""  # local time of the time fields ("" = as stored, UTC ISO)

    def for_campaign(self, script: Any, rows: list[dict[str, Any]], zone: str) -> Layout:
        """`slots.*` expanded to the script's slots (to the rows' own slots without a script)."""
        cols: list[Column] = []
        for c in self.columns:
            if c.path != ALL_SLOTS:
                cols.append(c)
                continue
            cols += self._script_columns(script) if script is not None else [
                Column(s, ("slots", s), dict(self.words)) for s in dict.fromkeys(k for r in rows for k in r["slots"])]
        return replace(self, columns=tuple(cols), zone=zone)

    def _script_columns(self, script: Any) -> list[Column]:
        same = bool(self.locale) and script.locale == self.locale
        out: dict[str, Column] = {}
        for step in script.steps.values():
            if step.slot and step.expect and step.slot not in out:
                words = {**self.words, **(dict(step.labels) if same else {})}
                out[step.slot] = Column(step.title or step.slot, ("slots", step.slot), words)
        return list(out.values())

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def write(self, fmt: str, rows: list[dict[str, Any]], out: Path | TextIO) -> None:
        """`fmt` csv (to a path or a stream) or xlsx (to a path)."""
        if fmt == "xlsx":
            write_xlsx(self, rows, Path(out))  # type: ignore[arg-type]
        elif isinstance(out, Path):
            with out.open("w", encoding="utf-8", newline="") as fh:
                write_csv(self, rows, fh)
        else:
            write_csv(self, rows, out)

    def row(self, person: dict[str, Any]) -> list[Any]:
        return [self._cell(c, person) for c in self.columns]

    def _cell(self, col: Column, person: dict[str, Any]) -> Any:
        v: Any = person
        for key in col.path:
            v = v.get(key) if isinstance(v, dict) else None
        if col.path[0] in TIME_FIELDS and self.zone and v:
            return local(v, self.zone)
        if isinstance(v, bool):
            v = "yes" if v else "no"
        if isinstance(v, str | int) and str(v) in col.values:
            return col.values[str(v)]
        if isinstance(v, dict):
            return v.get("raw") or json.dumps(v, ensure_ascii=False)
        if isinstance(v, list):
            return "；".join(self._item(i) for i in v)
        return v

    def _item(self, item: Any) -> str:
        if not isinstance(item, dict):
            return str(item)
        if "place" in item or "when" in item:
            return " ".join(str(item[k]) for k in ("when", "place") if item.get(k))
        rel = item.get("relation")
        rel = self.relations.get(rel, rel) if rel else None
        return f"{item.get('name') or '（未说姓名）'}" + (f"（{rel}）" if rel else "") + (item.get("phone") or "")


def load_layout(path: str | Path, fmt: str = "csv") -> Layout:
    if fmt not in ("csv", "xlsx"):
        raise LayoutError("a layout is for csv and xlsx (json carries every field)")
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LayoutError(f"cannot read layout {p}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise LayoutError(f"layout {p} is not valid YAML{where}") from None
    return parse_layout(data, str(p))


def parse_layout(data: Any, name: str = "layout") -> Layout:
    if not isinstance(data, dict) or not isinstance(data.get("columns"), list) or not data["columns"]:
        raise LayoutError(f"{name}: needs `columns:`, a non-empty list of {{header, field}}")
    if len(data["columns"]) > MAX_COLUMNS:
        raise LayoutError(f"{name}: more than {MAX_COLUMNS} columns")
    cols = []
    for i, raw in enumerate(data["columns"], start=1):
        f = raw.get("field") if isinstance(raw, dict) else None
        if f == "slots.*":  # every slot of the campaign's script, headed by its titles
            cols.append(Column("", ALL_SLOTS))
            continue
        if not isinstance(raw, dict) or not isinstance(raw.get("header"), str | int) or not str(raw["header"]).strip():
            raise LayoutError(f"{name}: column {i} needs a header")
        path = tuple(str(f).split(".")) if isinstance(f, str) and f else ()
        if not path or not (path[0] in ROW_FIELDS and len(path) == 1 or path[0] == "slots" and len(path) >= 2
                            or path[0] == "escalation" and path[1:] in (("reason",), ("step",), ("status",))):
            raise LayoutError(f"{name}: column {i} ({raw['header']}): unknown field {f!r}; one of "
                              f"{', '.join(ROW_FIELDS)}, slots.<slot>[.key], escalation.reason")
        values = raw.get("values") or {}
        if not isinstance(values, dict):
            raise LayoutError(f"{name}: column {i} ({raw['header']}): values must be a mapping")
        cols.append(Column(str(raw.get("header") or ""), path, {_key(k): str(v) for k, v in values.items()}))
    relations, words = data.get("relations") or {}, data.get("words") or {}
    if not isinstance(relations, dict) or not isinstance(words, dict):
        raise LayoutError(f"{name}: relations and words must be mappings")
    return Layout(str(data.get("name") or name), tuple(cols), {str(k): str(v) for k, v in relations.items()},
                  {_key(k): str(v) for k, v in words.items()}, str(data.get("locale") or ""))


def local(value: Any, zone: str) -> Any:
    """A stored UTC time (ISO text or datetime) as local "YYYY-MM-DD HH:MM:SS" in `zone`."""
    try:
        when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        tz = ZoneInfo(zone)
    except (ValueError, ZoneInfoNotFoundError):
        return value
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo("UTC"))
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def layout_choices(exports_dir: Path = EXPORTS_DIR) -> dict[str, Path]:
    """The shipped layouts by name (file stem): what the console offers besides `plain`."""
    return {p.name.removesuffix(".yaml"): p for p in sorted(exports_dir.glob("*.yaml"))}


def _key(k: Any) -> str:
    return {True: "yes", False: "no"}.get(k, str(k)) if isinstance(k, bool) else str(k)  # YAML 1.1: yes -> True


def write_csv(layout: Layout, rows: list[dict[str, Any]], out: TextIO) -> None:
    out.write(export.BOM)
    w = csv.writer(out)
    w.writerow([export.neutralise(h) for h in layout.headers])
    for r in rows:
        w.writerow(["" if v is None else export.neutralise(v) for v in layout.row(r)])


def write_xlsx(layout: Layout, rows: list[dict[str, Any]], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_sheet_title(layout.name))

    def cell(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        c = WriteOnlyCell(ws, value=export._XML_ILLEGAL.sub("\ufffd", value))
        c.data_type = "s"  # text, never a formula
        if export.risky(value):
            c.quotePrefix = True
        return c

    ws.append([cell(h) for h in layout.headers])
    for r in rows:
        ws.append([cell(v) for v in layout.row(r)])
    wb.save(path)


def _sheet_title(name: str) -> str:
    bad = set("[]:*?/\\")
    return "".join(ch for ch in name if ch not in bad)[:31] or "results"

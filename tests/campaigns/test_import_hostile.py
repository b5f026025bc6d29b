"""Issue 24 item 9: hostile import files. A workbook whose shared strings unpack to 262 MB is refused
at once with memory bounded (before: parsed for 90 s at 0.9-1.6 GB); a control character in a
cell is a row error naming the row (before: a NUL in a name was imported)."""

from __future__ import annotations

import random
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from bot.campaigns.people.list_import import ImportRejected, parse_people, read_table

REPO = Path(__file__).resolve().parents[2]
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
PARTS = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
    f'workbook.xml" ContentType="{CT}.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" '
    f'ContentType="{CT}.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" '
    f'ContentType="{CT}.sharedStrings+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
    f'package/2006/relationships"><Relationship Id="rId1" Type="{R}/officeDocument" Target="xl/workbook.xml"/>'
    '</Relationships>',
    "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook {NS} xmlns:r="{R}"><sheets>'
    '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    f'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{R}/worksheet" '
    f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{R}/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>',
    "xl/worksheets/sheet1.xml": f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><sheetData><row r="1">'
    '<c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row><row r="2"><c r="A2" t="s"><v>2</v></c>'
    '<c r="B2"><v>13800138000</v></c></row></sheetData></worksheet>',
}


def strings_bomb_xlsx(path: Path, unpacked: int = 262_000_000) -> Path:
    """A well-formed workbook whose shared strings unpack to `unpacked` bytes at a ratio ~55 (issue 24:
    262 MB from 3.7 MB): Chinese names, repeated in 1 MB blocks. ~1.5 s to write."""
    rng = random.Random(24)
    block = "".join(f"<si><t>{''.join(rng.choice('张王李赵刘陈杨黄周吴徐孙马胡朱郭何罗高林') for _ in range(4))}"
                    f"{rng.randint(0, 10**9)}</t></si>" for _ in range(40)).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, text in PARTS.items():
            z.writestr(name, text)
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
            f.write(f'<?xml version="1.0" encoding="UTF-8"?><sst {NS}><si><t>姓名</t></si><si><t>电话</t></si>'
                    '<si><t>甲</t></si>'.encode())
            chunk = block * (1024 * 1024 // len(block))
            for _ in range(unpacked // len(chunk)):
                f.write(chunk)
            f.write(b"</sst>")
    return path


CHECK = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # 1 GiB: the attack took 0.9-1.6 GB
from pathlib import Path
from bot.campaigns.people.list_import import ImportRejected, read_table
try:
    rows = sum(1 for _ in read_table(Path(sys.argv[1])))
except ImportRejected as exc:
    print("REFUSED", exc.problems[0])
else:
    print("READ", rows)
"""


def test_a_workbook_whose_shared_strings_unpack_to_262_mb_is_refused_at_once(tmp_path) -> None:
    small = strings_bomb_xlsx(tmp_path / "small.xlsx", 2_000_000)  # the same shape, small: read as usual
    assert [r for _, r in read_table(small)][:2] == [["姓名", "电话"], ["甲", 13800138000]]
    bomb = strings_bomb_xlsx(tmp_path / "bomb.xlsx")
    assert bomb.stat().st_size < 5 * 1024 * 1024  # under the console's upload limit
    t0 = time.monotonic()
    try:
        out = subprocess.run([sys.executable, "-c", CHECK, str(bomb)], capture_output=True, text=True, timeout=30,
                             cwd=REPO, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CPU, (60, 60)))
    except subprocess.TimeoutExpired:
        pytest.fail("the workbook was still being read after 30 s")
    took = time.monotonic() - t0
    assert out.stdout.startswith("REFUSED file: the workbook's shared strings unpack to 262 MB, more than 64 MB"), (
        out.stdout, out.stderr[-500:])
    assert took < 10, took  # the interpreter's start and imports; the check itself reads only the zip's directory


@pytest.mark.parametrize("bad", ["\x00", "\x1b[2J", "\x07", "\x7f", "\x85", "\u202e"])
def test_a_control_character_in_an_imported_name_is_a_row_error(tmp_path, bad: str) -> None:
    csv = tmp_path / "people.csv"
    csv.write_text(f"姓名,电话,地址\n张三,13800138000,北京\n李{bad}四,13800138001,上海\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as caught:
        parse_people(read_table(csv))
    assert caught.value.problems[0] == (f"row 3: name holds a control character (U+{ord(bad[0]):04X}); "
                                        "remove it and import again")


def test_line_breaks_are_kept_in_addresses_and_notes_only(tmp_path) -> None:
    csv = tmp_path / "people.csv"
    csv.write_text('姓名,电话,地址,备注\n张三,13800138000,"北京\n朝阳区","第一行\t第二行"\n', encoding="utf-8")
    (person,) = parse_people(read_table(csv)).people
    assert person["expected_address"] == "北京\n朝阳区" and person["notes"] == "第一行\t第二行"
    csv.write_text('姓名,电话\n"张\n三",13800138000\n', encoding="utf-8")
    with pytest.raises(ImportRejected) as caught:
        parse_people(read_table(csv))
    assert caught.value.problems[0].startswith("row 2: name holds a control character (U+000A)")

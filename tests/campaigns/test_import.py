"""`veribot people import` and `campaigns status --json`: the command-line contract, on SQLite files."""

from __future__ import annotations

import json

import pytest
from openpyxl import Workbook
from robustness.hostile import bomb_xlsx
from sqlmodel import select

from bot.campaigns.people.list_import import ImportRejected, parse_people, read_table, store_people
from bot.cli import main
from storage.db import Database
from storage.models import Campaign, Person


@pytest.fixture
def config(tmp_path, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[service]\nvar_dir = "{tmp_path / "var"}"\n[campaigns]\nconcurrency = 3\n', encoding="utf-8")
    monkeypatch.setenv("VERIBOT_CONFIG", str(cfg))
    return tmp_path


def stored(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'var' / 'veribot.db'}")
    try:
        return db.run(lambda s: s.exec(select(Person).order_by(Person.id)).all(), write=False)
    finally:
        db.dispose()


def write_csv(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_chinese_headers_e164_merge_and_category_priority(config, capsys):
    f = write_csv(config / "people.csv",
                  "姓名,手机号,住址,类别,优先级,备注\n"
                  "张三,138 0013 8000,兰州市城关区张掖路1号,密接,,首次\n"
                  "李四,+86 139-0013-9000,兰州市七里河区,次密接,,\n"
                  "张三,13800138000,,,,复核\n"
                  "王五,010 6552 9988,北京市东城区,,3,\n")
    assert main(["people", "import", str(f), "--campaign", "兰州-1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["rows"], out["added"], out["merged"]) == (4, 3, 1)
    people = {p.phone: p for p in stored(config)}
    assert set(people) == {"+8613800138000", "+8613900139000", "+861065529988"}
    z = people["+8613800138000"]
    assert (z.name, z.expected_address, z.risk_category, z.priority, z.notes) == (
        "张三", "兰州市城关区张掖路1号", "密接", 1, "首次; 复核")
    assert people["+8613900139000"].priority == 2 and people["+861065529988"].priority == 3
    # importing again merges into the same people; the campaign was created once, with config defaults
    assert main(["people", "import", str(f), "--campaign", "兰州-1"]) == 0
    assert json.loads(capsys.readouterr().out)["updated"] == 3
    assert len(stored(config)) == 3
    assert main(["campaigns", "status", "兰州-1", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert {k: status[k] for k in ("people", "pending", "completed", "escalated", "failed")} == {
        "people": 3, "pending": 3, "completed": 0, "escalated": 0, "failed": 0}
    assert status["concurrency"] == 3 and status["status"] == "draft"


def test_a_file_with_bad_rows_is_rejected_whole(config, capsys):
    f = write_csv(config / "bad.csv",
                  "name,phone,priority\n"
                  "A,13800138000,1\n"
                  "B,12345,1\n"
                  ",13900139000,1\n"
                  "D,13700137000,high\n"
                  "E,13600136000,1\n")
    assert main(["people", "import", str(f), "--campaign", "c"]) == 1
    err = capsys.readouterr().err
    assert "row 3:" in err and "row 4:" in err and "row 5:" in err
    assert "row 2:" not in err and "row 6:" not in err
    db_file = config / "var" / "veribot.db"
    assert not db_file.exists() or stored(config) == []


def test_missing_phone_column_and_unknown_type(config, capsys):
    f = write_csv(config / "x.csv", "姓名,地址\n张三,兰州\n")
    assert main(["people", "import", str(f), "--campaign", "c"]) == 1
    assert "no column for phone" in capsys.readouterr().err
    g = write_csv(config / "x.json", "{}")
    assert main(["people", "import", str(g), "--campaign", "c"]) == 1
    assert main(["people", "import", str(config / "missing.csv"), "--campaign", "c"]) == 2


def test_xlsx_with_numeric_phone_cells(config, capsys):
    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "电话", "风险类别"])
    ws.append(["赵六", 13800138000, "密接"])
    ws.append(["钱七", 13900139000.0, "次密接"])
    wb.save(config / "p.xlsx")
    assert main(["people", "import", str(config / "p.xlsx"), "--campaign", "x"]) == 0
    assert [(p.name, p.phone, p.priority) for p in stored(config)] == [
        ("赵六", "+8613800138000", 1), ("钱七", "+8613900139000", 2)]


def test_store_people_on_both_databases(db, tmp_path):
    f = write_csv(tmp_path / "p.csv", "姓名,电话\n甲,13800138000\n乙,13900139000\n")
    report = parse_people(read_table(f))
    cid = db.run(lambda s: (lambda c: (s.add(c), s.flush(), c.id)[2])(Campaign(name="c")))
    db.run(lambda s: store_people(s, cid, report))
    db.run(lambda s: store_people(s, cid, parse_people(read_table(f))))
    assert db.run(lambda s: len(s.exec(select(Person)).all())) == 2
    with pytest.raises(ImportRejected) as exc:
        parse_people(read_table(write_csv(tmp_path / "q.csv", "姓名,电话\n甲,12345\n")))
    assert exc.value.problems == ["row 2: phone is not a valid number"]


def test_large_files_show_progress_on_stderr(config, capsys):
    f = config / "big.csv"
    with f.open("w", encoding="utf-8") as fh:
        fh.write("姓名,手机号,住址,备注\n")
        for i in range(30000):
            fh.write(f"测试人员{i},138{i:08d},甘肃省兰州市城关区某某街道某某小区{i}号楼,无\n")
    assert f.stat().st_size > 1_000_000
    assert main(["people", "import", str(f), "--campaign", "big"]) == 0
    out = capsys.readouterr()
    assert "10000 rows checked" in out.err and "30000 rows checked" in out.err
    assert json.loads(out.out)["added"] == 30000


def test_a_missing_config_or_database_is_one_clear_line(tmp_path, capsys):
    assert main(["campaigns", "list", "--config", str(tmp_path / "none.toml")]) == 2
    assert "config file not found" in capsys.readouterr().err
    cfg = tmp_path / "pg.toml"
    cfg.write_text('[database]\nurl = "postgresql+psycopg://nobody@127.0.0.1:1/none"\n', encoding="utf-8")
    assert main(["campaigns", "list", "--config", str(cfg)]) == 2
    assert "database unavailable" in capsys.readouterr().err


def test_a_flood_of_bad_rows_lists_the_first_100_with_a_count_and_stops_early(tmp_path):
    f = tmp_path / "bad.csv"
    with f.open("w", encoding="utf-8") as fh:
        fh.write("name,phone\n")
        fh.writelines(f"p{i},12345\n" for i in range(200_000))
    with pytest.raises(ImportRejected) as exc:
        parse_people(read_table(f))
    problems = exc.value.problems
    assert len(problems) == 101 and all(p.startswith("row ") for p in problems[:100])
    assert problems[0] == "row 2: phone is not a valid number"
    assert problems[-1].startswith("file: checking stopped at row 1001 after 1000 bad rows")
    assert exc.value.bad_rows == 1000


def test_a_few_hundred_bad_rows_are_all_counted(tmp_path):
    f = write_csv(tmp_path / "bad.csv", "name,phone\n" + "p,12345\n" * 250 + "q,13800138000\n")
    with pytest.raises(ImportRejected) as exc:
        parse_people(read_table(f))
    assert len(exc.value.problems) == 101 and exc.value.bad_rows == 250
    assert exc.value.problems[-1] == "file: 250 bad rows; the first 100 are listed"


def test_a_200000_character_cell_is_a_row_error(tmp_path):
    f = write_csv(tmp_path / "long.csv", "name,phone\nA,13800138000\n" + "x" * 200_000 + ",13900139000\n")
    with pytest.raises(ImportRejected) as exc:
        parse_people(read_table(f))
    assert exc.value.problems[0].startswith("row 3: unreadable CSV")
    g = write_csv(tmp_path / "long2.csv", "name,phone\n" + "x" * 100_000 + ",13900139000\n")
    with pytest.raises(ImportRejected) as exc:
        parse_people(read_table(g))
    assert exc.value.problems == ["row 2: name is longer than 500 characters"]


def test_an_xlsx_zip_bomb_or_a_non_workbook_is_refused(tmp_path):
    with pytest.raises(ImportRejected) as exc:
        parse_people(read_table(bomb_xlsx(tmp_path / "bomb.xlsx")))
    assert "packed suspiciously" in exc.value.problems[0]
    (tmp_path / "fake.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ImportRejected) as exc:
        parse_people(read_table(tmp_path / "fake.xlsx"))
    assert exc.value.problems == ["file: not a readable .xlsx workbook"]

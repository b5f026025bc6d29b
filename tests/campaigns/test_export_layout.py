"""Batch export in a configurable column layout (Chinese headers, value words), CSV and XLSX."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlmodel import select

from bot.campaigns.results.export_layout import LayoutError, load_layout, parse_layout
from bot.cli import main
from bot.config import load_config
from storage.db import Database
from storage.models import Attempt, Campaign, Person, Result

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "exports" / "health-department.zh-CN.yaml"
CONTACTS = [{"name": "王芳", "relation": "spouse", "phone": "+8613812345678"},
            {"name": None, "relation": "colleague", "phone": "+8613909312233"}]


@pytest.fixture
def config(tmp_path, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[service]\nvar_dir = "{tmp_path / "var"}"\n', encoding="utf-8")
    monkeypatch.setenv("VERIBOT_CONFIG", str(cfg))
    people = tmp_path / "people.csv"
    people.write_text("姓名,电话,类别\n张三,13800138000,密接\n李四,13900139000,次密接\n", encoding="utf-8")
    assert main(["people", "import", str(people), "--campaign", "c1"]) == 0
    db = Database.from_config(load_config(cfg))

    def answers(s):
        camp = s.exec(select(Campaign).where(Campaign.name == "c1")).one()
        p = s.exec(select(Person).where(Person.name == "张三")).one()
        p.state, p.last_outcome = "completed", "completed"
        a = Attempt(person_id=p.id, campaign_id=camp.id, phone=p.phone, state="ended", outcome="completed")
        s.add(a)
        s.flush()
        for slot, value in {"identity": "yes", "health_code": "yellow", "nat_count": 2,
                            "residence": {"raw": "城关区白银路", "district": "城关区"}, "contacts": CONTACTS,
                            "places": [{"place": "西关十字的超市", "when": "前天下午"}]}.items():
            s.add(Result(attempt_id=a.id, person_id=p.id, campaign_id=camp.id, slot=slot, value=value))
        q = s.exec(select(Person).where(Person.name == "李四")).one()
        q.state, q.last_outcome = "pending", "powered_off"

    db.run(answers)
    db.dispose()
    return cfg


def test_the_shipped_layout_exports_chinese_columns(config, tmp_path, capsys):
    out = tmp_path / "r.csv"
    assert main(["results", "export", "--campaign", "c1", "--format", "csv", "--layout", str(SHIPPED), "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    zhang = next(r for r in rows if r["姓名"] == "张三")
    assert zhang["联系电话"] == "+8613800138000" and zhang["人员类别"] == "密接"
    assert (zhang["是否本人"], zhang["健康码"], zhang["近7天核酸次数"]) == ("是", "黄码", "2")
    assert (zhang["现居住地址"], zhang["所在区县"]) == ("城关区白银路", "城关区")
    assert zhang["密接人员（姓名/关系/电话）"] == "王芳（配偶）+8613812345678；（未说姓名）（同事）+8613909312233"
    assert zhang["到访地点及时间"] == "前天下午 西关十字的超市" and zhang["核查状态"] == "已完成"
    li = next(r for r in rows if r["姓名"] == "李四")
    assert (li["最近通话结果"], li["核查状态"], li["健康码"]) == ("关机", "待拨打", "")
    assert list(rows[0])[:3] == ["序号", "姓名", "联系电话"]


def test_the_layout_in_xlsx(config, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "r.xlsx"
    assert main(["results", "export", "--campaign", "c1", "--format", "xlsx", "--layout", str(SHIPPED), "-o", str(out)]) == 0
    ws = load_workbook(out).active
    header = [c.value for c in ws[1]]
    assert header[:3] == ["序号", "姓名", "联系电话"] and "健康码" in header
    values = {header[i]: c.value for i, c in enumerate(ws[2])}
    assert values["姓名"] == "张三" and values["健康码"] == "黄码"


def test_a_custom_layout_and_formula_cells(tmp_path):
    layout = parse_layout({"name": "x", "columns": [
        {"header": "=HEADER", "field": "name"}, {"header": "码", "field": "slots.health_code",
                                                 "values": {"green": "绿"}},
        {"header": "同意", "field": "slots.notice_ack", "values": {True: "是"}}]})
    buf = io.StringIO()
    layout.write("csv", [{"name": "=cmd|' /C calc'!A0", "slots": {"health_code": "green", "notice_ack": "yes"}}], buf)
    lines = buf.getvalue()[1:].splitlines()
    assert lines[0].startswith("'=HEADER") and lines[1].startswith("'=cmd") and lines[1].endswith(",绿,是")


@pytest.mark.parametrize("data, message", [
    ({}, "needs `columns:`"),
    ({"columns": [{"field": "name"}]}, "column 1 needs a header"),
    ({"columns": [{"header": "姓名", "field": "password"}]}, "unknown field 'password'"),
    ({"columns": [{"header": "姓名", "field": "slots"}]}, "unknown field"),
    ({"columns": [{"header": "码", "field": "slots.health_code", "values": ["绿"]}]}, "values must be a mapping"),
])
def test_bad_layouts_are_told_clearly(data, message):
    with pytest.raises(LayoutError, match=message.replace("(", r"\(")):
        parse_layout(data)


def test_a_bad_layout_file_is_a_one_line_error(config, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns: [\n", encoding="utf-8")
    assert main(["results", "export", "--campaign", "c1", "--layout", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "not valid YAML" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert main(["results", "export", "--campaign", "c1", "--format", "json", "--layout", str(SHIPPED)]) == 2
    assert main(["results", "export", "--campaign", "c1", "--layout", str(tmp_path / "missing.yaml")]) == 2
    with pytest.raises(LayoutError):
        load_layout(tmp_path / "missing.yaml")

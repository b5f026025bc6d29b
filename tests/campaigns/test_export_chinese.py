"""Issue 22 item 7: exports read as a Chinese system by default — Chinese headers and values,
times in the campaign's zone (Asia/Shanghai by default) — with the columns of the campaign's own
script; `--layout plain` keeps the English field names; formulas stay neutralised either way."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from bot.cli import main
from bot.config import load_config
from storage.db import Database
from storage.models import Attempt, Campaign, Person, Result

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config(tmp_path, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[service]\nvar_dir = "{tmp_path / "var"}"\n'
                   f'[campaigns]\ndialog_path = "{ROOT / "dialogs" / "verification.zh-CN.yaml"}"\n', encoding="utf-8")
    monkeypatch.setenv("VERIBOT_CONFIG", str(cfg))
    people = tmp_path / "people.csv"
    people.write_text("姓名,电话\n张三,13800138000\n=1+1,13900139000\n", encoding="utf-8")
    assert main(["people", "import", str(people), "--campaign", "核验"]) == 0
    assert main(["people", "import", str(people), "--campaign", "流调", "--dialog", "survey"]) == 0
    db = Database.from_config(load_config(cfg))

    def answers(s):
        for name, slots in (("核验", {"identity": "yes", "health_code": "yellow", "nat_result": "negative",
                                       "nat_count": 2}),
                            ("流调", {"identity": "yes", "contacts": [{"name": "王芳", "relation": "spouse",
                                                                      "phone": "+8613812345678"}], "places": []})):
            camp = s.exec(select(Campaign).where(Campaign.name == name)).one()
            p = s.exec(select(Person).where(Person.campaign_id == camp.id, Person.name == "张三")).one()
            p.state, p.last_outcome = "completed", "completed"
            p.updated_at = datetime(2026, 12, 7, 3, 4, 5, tzinfo=UTC)  # UTC: 11:04:05 in Shanghai
            a = Attempt(person_id=p.id, campaign_id=camp.id, phone=p.phone, state="ended", outcome="completed")
            s.add(a)
            s.flush()
            for slot, value in slots.items():
                s.add(Result(attempt_id=a.id, person_id=p.id, campaign_id=camp.id, slot=slot, value=value))

    db.run(answers)
    db.dispose()
    return tmp_path


def _csv(*argv: str) -> list[dict[str, str]]:
    out = Path(argv[-1])
    assert main(["results", "export", "--format", "csv", *argv[:-1], "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_the_default_export_is_chinese_with_local_times(config):
    rows = _csv("--campaign", "核验", str(config / "a.csv"))
    zhang = next(r for r in rows if r["姓名"] == "张三")
    assert (zhang["健康码"], zhang["最近核酸结果"], zhang["核查状态"], zhang["最近通话结果"]) == (
        "黄码", "阴性", "已完成", "已完成")
    assert zhang["是否本人"] == "是本人"  # the script's own word for the value
    assert zhang["更新时间"] == "2026-12-07 11:04:05"
    assert zhang["联系电话"] == "+8613800138000"
    assert "'=1+1" in {r["姓名"] for r in rows}  # still neutralised
    assert not any(v in ("green", "negative", "completed") for r in rows for v in r.values())


def test_a_survey_campaign_exports_its_own_questions(config):
    rows = _csv("--campaign", "流调", str(config / "b.csv"))
    zhang = next(r for r in rows if r["姓名"] == "张三")
    assert zhang["密接人员（姓名/关系/电话）"] == "王芳（配偶）+8613812345678"
    assert "到访地点及时间" in zhang and "健康码" not in zhang
    heads = list(zhang)
    assert heads.index("是否本人") < heads.index("密接人员（姓名/关系/电话）") < heads.index("到访地点及时间")


def test_the_health_department_layout_writes_local_times(config):
    rows = _csv("--campaign", "核验", "--layout", "health-department.zh-CN", str(config / "c.csv"))
    assert next(r for r in rows if r["姓名"] == "张三")["更新时间"] == "2026-12-07 11:04:05"


def test_plain_keeps_the_english_field_names_and_json_every_field(config, capsys):
    rows = _csv("--campaign", "核验", "--layout", "plain", str(config / "d.csv"))
    zhang = next(r for r in rows if r["name"] == "张三")
    assert zhang["health_code"] == "yellow" and zhang["state"] == "completed"
    assert main(["results", "export", "--campaign", "核验", "--format", "json"]) == 0
    assert '"health_code": "yellow"' in capsys.readouterr().out
    assert main(["results", "export", "--campaign", "核验", "--layout", "nope"]) == 2
    assert "nope" in capsys.readouterr().err

"""Where a worker holding new calls back (admission control) is said, in Chinese: the console's
dashboard (this worker's own headroom) and `veribot campaigns status` (every worker's hold, read
from the audit rows the dialer writes)."""

from __future__ import annotations

import json

from aiohttp.test_utils import TestClient

from bot.campaigns.dialing import holds
from bot.cli import main
from bot.config import load_config
from bot.pipeline.headroom import Admission, Headroom
from bot.settings import WorkerSettings
from storage.db import Database
from storage.models import utcnow

from .conftest import login
from .seed import add_users


async def test_the_dashboard_says_when_this_worker_holds_new_calls_and_why(client: TestClient, database: Database):
    from bot.console.context import CONSOLE

    add_users(database, ("viewer3", "viewer"))
    await login(client, "viewer3")
    headroom = Headroom(WorkerSettings())
    client.app[CONSOLE].admission = Admission(headroom, lambda: True)
    page = await (await client.get("/dashboard")).text()
    assert 'id="admission-hold"' not in page
    headroom.note_queue_wait(900)
    headroom.check()
    page = await (await client.get("/dashboard", headers={"Accept-Language": "zh-CN"})).text()
    assert 'id="admission-hold"' in page
    assert "本工作进程已暂停接入新通话" in page and "语音识别排队" in page and "900" in page


def test_campaigns_status_says_which_worker_holds_calls_back_and_why(tmp_path, monkeypatch, capsys):
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[service]\nvar_dir = "{tmp_path / "var"}"\n', encoding="utf-8")
    monkeypatch.setenv("VERIBOT_CONFIG", str(cfg))
    people = tmp_path / "people.csv"
    people.write_text("姓名,电话\n张三,13800138000\n", encoding="utf-8")
    assert main(["people", "import", str(people), "--campaign", "c1"]) == 0
    capsys.readouterr()
    assert main(["campaigns", "status", "c1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["held_back"] == []

    db = Database.from_config(load_config(cfg))
    db.run(lambda s: holds.record(s, "box-a:41", {"code": "loop_lag", "value": 130.4, "limit": 60}, utcnow()))
    db.run(lambda s: holds.record(s, "box-b:42", {"code": "late_frames", "value": 40, "limit": 25}, utcnow()))
    db.run(lambda s: holds.record(s, "box-b:42", None, utcnow()))  # box-b resumed
    assert main(["campaigns", "status", "c1", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert [h["worker"] for h in status["held_back"]] == ["box-a:41"]
    assert status["held_back"][0]["reason"]["code"] == "loop_lag"
    assert main(["campaigns", "status", "c1"]) == 0
    out = capsys.readouterr().out
    assert "暂停接入: 工作进程 box-a:41" in out and "事件循环处理滞后（延迟 p99 130 毫秒，上限 60 毫秒）" in out
    assert "box-b" not in out
    db.dispose()


def test_the_new_signs_read_in_chinese_where_a_hold_is_said():
    """The recognition turnaround and the CPU wait that can now hold a worker are said in Chinese
    by the dashboard line and `campaigns status` (both through holds.reason_text)."""
    from bot.console.i18n import translations

    zh = translations("zh-CN").gettext
    assert holds.reason_text({"code": "recognition", "value": 512.3, "limit": 300}, zh) == \
        "居民等待语音识别结果（p95 512 毫秒，上限 300 毫秒）"
    assert holds.reason_text({"code": "cpu_wait", "value": 640, "limit": 400}, zh) == \
        "工作进程等待 CPU（每秒 640 毫秒，上限 400 毫秒）"
    headroom = Headroom(WorkerSettings(), in_progress=lambda: 10)
    headroom.note_turnaround(900)
    headroom.check()
    line = holds.admission_line(Admission(headroom, lambda: True), zh)
    assert line.startswith("本工作进程已暂停接入新通话：居民等待语音识别结果（p95 900 毫秒")

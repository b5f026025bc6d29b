"""`veribot campaigns list|start|pause|resume|cancel|status`, `results export`, `purge`,
`results dead-letters` end to end on a SQLite file, calls placed by the dialer with a fake runner."""

from __future__ import annotations

import asyncio
import csv
import io
import json

import pytest
from campaign_fakes import ScriptedRunner
from openpyxl import load_workbook

from bot.campaigns.background import run_dialer
from bot.campaigns.store import get_campaign
from bot.cli import main
from bot.config import load_config
from storage.db import Database


@pytest.fixture
def config(tmp_path, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[service]\nvar_dir = "{tmp_path / "var"}"\n'
                   '[campaigns]\nwindow_start = "00:00"\nwindow_end = "00:00"\nretention_days = 1\n'
                   '[dialer]\npoll_seconds = 0.05\n', encoding="utf-8")
    monkeypatch.setenv("VERIBOT_CONFIG", str(cfg))
    people = tmp_path / "people.csv"
    people.write_text("姓名,电话,类别\n张三,13800138000,密接\n李四,13900139000,次密接\n", encoding="utf-8")
    assert main(["people", "import", str(people), "--campaign", "c1"]) == 0
    return cfg


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


async def serve_until_done(cfg, runner):
    """`veribot serve`'s campaign side (run_dialer) until the campaign is no longer running."""
    config = load_config(cfg)
    db = Database.from_config(config)
    stop = asyncio.Event()
    task = asyncio.create_task(run_dialer(config, runner, stop))
    for _ in range(400):
        await asyncio.sleep(0.05)
        if db.run(lambda s: get_campaign(s, "c1").status, write=False) != "running":
            break
    stop.set()
    await task
    db.dispose()


async def test_lifecycle_export_and_purge(config, capsys):
    code, out, _ = run(capsys, "campaigns", "list", "--json")
    assert code == 0 and json.loads(out)[0]["status"] == "draft"
    assert run(capsys, "campaigns", "pause", "c1")[0] == 1  # not running
    assert run(capsys, "campaigns", "start", "c1")[1].strip() == "c1: running"
    assert run(capsys, "campaigns", "pause", "c1")[0] == 0
    paused = json.loads(run(capsys, "campaigns", "status", "c1", "--json")[1])
    assert paused["why"].startswith("已暂停") and paused["next_call"] is None  # says why it waits
    assert run(capsys, "campaigns", "resume", "c1")[0] == 0
    assert run(capsys, "campaigns", "status", "nope", "--json")[0] == 1
    await serve_until_done(config, ScriptedRunner())
    code, out, _ = run(capsys, "campaigns", "status", "c1", "--json")
    status = json.loads(out)
    assert (status["status"], status["people"], status["completed"], status["pending"]) == ("done", 2, 2, 0)
    assert status["why"].startswith("已完成")

    code, out, _ = run(capsys, "results", "export", "--campaign", "c1", "--format", "csv", "--layout", "plain")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["name"], r["phone"], r["health_code"], r["state"]) for r in rows] == [
        ("张三", "+8613800138000", "green", "completed"), ("李四", "+8613900139000", "green", "completed")]
    code, out, _ = run(capsys, "results", "export", "--campaign", "c1", "--format", "json")
    data = json.loads(out)
    call = data["people"][0]["calls"][0]
    assert call["outcome"] == "completed" and [t["speaker"] for t in call["transcript"]] == ["bot", "caller"]
    xlsx = config.parent / "r.xlsx"
    assert run(capsys, "results", "export", "--campaign", "c1", "--format", "xlsx", "-o", str(xlsx))[0] == 0
    sheet = list(load_workbook(xlsx).active.iter_rows(values_only=True))
    assert sheet[0][:3] == ("序号", "姓名", "联系电话") and len(sheet) == 3  # Chinese by default
    assert run(capsys, "results", "export", "--campaign", "c1", "--format", "xlsx")[0] == 2

    code, out, _ = run(capsys, "results", "dead-letters", "--json")
    assert code == 0 and json.loads(out) == []
    # erasure on request, then the retention purge (nothing is old enough yet)
    code, out, _ = run(capsys, "purge", "--phone", "13800138000", "--yes", "--json")
    assert json.loads(out)["people"] == 1
    assert run(capsys, "purge", "--phone", "13800138000")[0] == 1  # gone already
    code, out, _ = run(capsys, "purge", "--json")
    assert json.loads(out)["people"] == 0
    code, out, _ = run(capsys, "campaigns", "status", "c1", "--json")
    assert json.loads(out)["people"] == 1
    assert run(capsys, "campaigns", "cancel", "c1")[0] == 1  # done campaigns cannot be cancelled


def test_a_campaign_whose_dialog_does_not_load_cannot_start(config, capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsteps: [\n", encoding="utf-8")
    db = Database.from_config(load_config(config))
    db.run(lambda s: setattr(get_campaign(s, "c1"), "dialog_path", str(bad)))
    db.dispose()
    code, _, err = run(capsys, "campaigns", "start", "c1")
    assert code == 1 and "dialog cannot be loaded" in err
    assert json.loads(run(capsys, "campaigns", "status", "c1", "--json")[1])["status"] == "draft"

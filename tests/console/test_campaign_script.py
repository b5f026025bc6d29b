"""Issue 22 item 1: a campaign carries its script. Made in the console (a list of the published
scripts, not a path) or named on `people import --dialog`, its calls run that script — also
when another script of the same locale has a published version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlmodel import select

from bot.campaigns.dialing import claims
from bot.campaigns.scripts.dialog_versions import ScriptSource
from bot.campaigns.store import get_campaign
from bot.cli import main
from bot.config import load_config
from bot.console import dialogs
from bot.dialog.script import load_script
from storage.db import Database
from storage.models import Campaign, Person

from .conftest import REPO, csrf_of, login
from .seed import add_users


def _publish_verification(database: Database) -> None:
    """The desk's situation: the verification script was published from the editor."""
    script = load_script(REPO / "dialogs" / "verification.zh-CN.yaml")
    database.run(lambda s: dialogs.publish(s, script, "admin1"))


def _first_call_script(database: Database, camp_id: int) -> tuple[str, str]:
    """(the script the dialer loads for the campaign, the dialog name its first attempt records)."""
    def go(s):
        camp = s.get(Campaign, camp_id)
        s.add(Person(campaign_id=camp_id, name="张三", phone="+8613800138000"))
        camp.status = "running"
        s.add(camp)
        s.flush()
        clock = lambda: datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # noqa: E731  11:00 in Shanghai
        return claims.claim_due(s, camp_id, 1, "w1", clock, timedelta(minutes=5))
    claimed = database.run(go)
    assert claimed, "nobody was claimed"
    from storage.models import Attempt

    attempt = database.run(lambda s: s.get(Attempt, claimed[0].attempt_id), write=False)
    camp = database.run(lambda s: s.get(Campaign, camp_id), write=False)
    return ScriptSource(database).for_campaign(camp).name, attempt.dialog_name


@pytest.mark.parametrize("choice,expected", [("survey.zh-CN", "survey"), ("verification.zh-CN", "verification")])
async def test_a_campaign_made_in_the_console_runs_the_chosen_script(
        client: TestClient, database: Database, choice: str, expected: str) -> None:
    add_users(database, ("admin1", "admin"))
    _publish_verification(database)
    await login(client, "admin1")
    page = await (await client.get("/campaigns")).text()
    assert '<select name="dialog"' in page and 'value="survey.zh-CN"' in page  # a list, not a path
    assert 'name="dialog_path"' not in page
    token = await csrf_of(client, "/campaigns")
    resp = await client.post("/campaigns", data={"csrf": token, "name": f"流调-{expected}", "dialog": choice},
                             allow_redirects=False)
    assert resp.status == 303, await resp.text()
    camp_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    camp = database.run(lambda s: s.get(Campaign, camp_id), write=False)
    assert camp.dialog_name == expected and Path(camp.dialog_path).name == f"{choice}.yaml"
    assert _first_call_script(database, camp_id) == (expected, expected)


async def test_an_unknown_script_is_refused(client: TestClient, database: Database) -> None:
    add_users(database, ("admin1", "admin"))
    await login(client, "admin1")
    token = await csrf_of(client, "/campaigns")
    resp = await client.post("/campaigns", data={"csrf": token, "name": "x", "dialog": "../../etc/passwd"})
    assert resp.status == 400 and "Choose the script" in await resp.text()
    assert database.run(lambda s: s.exec(select(Campaign)).all(), write=False) == []


@pytest.fixture
def config(tmp_path, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[service]\nvar_dir = "{tmp_path / "var"}"\n'
                   f'[campaigns]\ndialog_path = "{REPO / "dialogs" / "verification.zh-CN.yaml"}"\n', encoding="utf-8")
    monkeypatch.setenv("VERIBOT_CONFIG", str(cfg))
    people = tmp_path / "people.csv"
    people.write_text("姓名,电话\n张三,13800138000\n", encoding="utf-8")
    return cfg, people


def _campaign(cfg: Path, name: str) -> Campaign:
    db = Database.from_config(load_config(cfg))
    try:
        return db.run(lambda s: get_campaign(s, name), write=False)
    finally:
        db.dispose()


def test_people_import_names_the_script_of_a_new_campaign(config, capsys) -> None:
    cfg, people = config
    assert main(["people", "import", str(people), "--campaign", "流调", "--dialog", "survey"]) == 0
    assert main(["people", "import", str(people), "--campaign", "核验"]) == 0  # the contract form: the default
    db = Database.from_config(load_config(cfg))
    _publish_verification(db)
    tracing, checking = _campaign(cfg, "流调"), _campaign(cfg, "核验")
    assert (tracing.dialog_name, Path(tracing.dialog_path).name) == ("survey", "survey.zh-CN.yaml")
    assert ScriptSource(db).for_campaign(tracing).name == "survey"
    assert ScriptSource(db).for_campaign(checking).name == "verification"
    db.dispose()
    capsys.readouterr()
    # another script for an existing campaign: refused, nothing imported
    assert main(["people", "import", str(people), "--campaign", "核验", "--dialog", "survey"]) != 0
    assert "new campaign only" in capsys.readouterr().err
    assert main(["people", "import", str(people), "--campaign", "c9", "--dialog", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "survey.zh-CN" in err and "Traceback" not in err


def test_config_naming_the_survey_file_runs_the_survey(tmp_path, monkeypatch, capsys) -> None:
    """`[campaigns] dialog_path = survey…` without a dialog_name (the shipped config has no such key)."""
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[service]\nvar_dir = "{tmp_path / "var"}"\n'
                   f'[campaigns]\ndialog_path = "{REPO / "dialogs" / "survey.zh-CN.yaml"}"\n', encoding="utf-8")
    monkeypatch.setenv("VERIBOT_CONFIG", str(cfg))
    people = tmp_path / "people.csv"
    people.write_text("姓名,电话\n张三,13800138000\n", encoding="utf-8")
    assert main(["people", "import", str(people), "--campaign", "流调"]) == 0
    db = Database.from_config(load_config(cfg))
    _publish_verification(db)
    camp = _campaign(cfg, "流调")
    assert camp.dialog_name == "survey" and ScriptSource(db).for_campaign(camp).name == "survey"
    db.dispose()

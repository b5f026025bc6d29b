"""Issue 22 item 5 in the console: publishing a script, and saving the agency's number and badge,
are refused when residents would hear an empty or unknown value, naming the key (the check of
`veribot dialogs lint --config` and `serve`: bot.dialog.speakable)."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from sqlmodel import select

from bot.campaigns.scripts import agency_overrides
from bot.console.context import CONSOLE
from storage.db import Database
from storage.models import DialogVersion

from .conftest import REPO, csrf_of, login
from .seed import add_users
from .visible import visible_text

ZH = {"Accept-Language": "zh-CN"}
SCRIPT = (REPO / "dialogs" / "verification.zh-CN.yaml").read_text(encoding="utf-8")


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


async def _admin(client: TestClient, database: Database) -> str:
    add_users(database, ("admin1", "admin"))
    await login(client, "admin1")
    return await csrf_of(client, "/dialogs")


def _versions(database: Database) -> list[DialogVersion]:
    return database.run(lambda s: list(s.exec(select(DialogVersion)).all()), write=False)


async def test_publish_refuses_an_empty_badge_and_an_unknown_variable_naming_them(
        client: TestClient, database: Database) -> None:
    token = await _admin(client, database)
    client.server.app[CONSOLE].variables["badge"] = ""  # a desk whose config.toml leaves it empty
    lint = await (await client.post("/dialogs/lint", json={"source": SCRIPT}, headers={"X-CSRF-Token": token, **ZH})).json()
    assert not lint["ok"] and [e["line"] for e in lint["errors"]] == [line_of(SCRIPT, "工号{badge}")]
    assert "{badge}" in lint["errors"][0]["message"] and "工号（“机构信息”页）为空" in lint["errors"][0]["message"]
    refused = await client.post("/dialogs/publish", data={"csrf": token, "source": SCRIPT}, headers=ZH)
    text = visible_text(await refused.text())
    assert refused.status == 422 and "未发布" in text and "工号（“机构信息”页）为空" in text, text
    assert _versions(database) == []

    client.server.app[CONSOLE].variables["badge"] = "6201-0427"
    del client.server.app[CONSOLE].variables["callback_minutes"]  # {callback_within} is made from it
    draft = SCRIPT.replace("感谢您的配合，再见。", "感谢您的配合！再见。", 1)
    refused = await client.post("/dialogs/publish", data={"csrf": token, "source": draft}, headers=ZH)
    text = visible_text(await refused.text())
    assert refused.status == 422 and "{callback_within}" in text and "未知变量" in text, text
    assert "[agency] callback_minutes" in text and f"第 {line_of(draft, '{callback_within}')} 行" in text
    assert "感谢您的配合！再见。" in await refused.text()  # the draft is kept in the editor
    client.server.app[CONSOLE].variables["callback_minutes"] = "120"
    ok = await client.post("/dialogs/publish", data={"csrf": token, "source": SCRIPT}, allow_redirects=False)
    assert ok.status == 303 and len(_versions(database)) == 1


async def test_saving_an_empty_badge_is_refused_naming_where_it_is_said(client: TestClient,
                                                                       database: Database) -> None:
    token = await _admin(client, database)
    resp = await client.post("/agency", data={"csrf": token, "callback_number": "0931-12345", "badge": "  "},
                             headers=ZH)
    text = visible_text(await resp.text())
    assert resp.status == 400 and "{badge}" in text and "工号（“机构信息”页）为空" in text, text
    assert "verification.zh-CN" in text  # which script says it
    assert agency_overrides.load(client.server.app[CONSOLE].var_dir) == {}

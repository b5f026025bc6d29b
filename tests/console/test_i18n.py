"""The console speaks Chinese first and English second: by the browser's Accept-Language, by
the user's choice, and through a catalog that translates every message the console marks."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp.test_utils import TestClient
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.console import i18n
from storage.db import Database

from .conftest import login
from .seed import add_users, seed_cases

CONSOLE = Path(i18n.__file__).parent


async def test_a_chinese_browser_gets_chinese_and_an_english_one_english(client: TestClient, database: Database) -> None:
    zh = await client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    page = await zh.text()
    assert '<html lang="zh-CN">' in page and "用户名" in page and "密码" in page and "Username" not in page
    assert zh.headers["Content-Language"] == "zh-CN"
    en = await client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    page = await en.text()
    assert '<html lang="en-US">' in page and "Username" in page and "用户名" not in page
    # no header, or only languages the console does not have: Chinese
    assert '<html lang="zh-CN">' in await (await client.get("/login", headers={"Accept-Language": ""})).text()
    assert '<html lang="zh-CN">' in await (await client.get("/login", headers={"Accept-Language": "fr-FR"})).text()
    # the first supported language in order of preference wins
    assert '<html lang="en-US">' in await (await client.get("/login", headers={"Accept-Language": "fr;q=1, en;q=0.8, zh;q=0.5"})).text()


async def test_the_language_a_user_chooses_overrides_the_browser(client: TestClient, database: Database) -> None:
    resp = await client.get("/lang/en-US?next=/login", headers={"Accept-Language": "zh-CN"}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/login"
    page = await (await client.get("/login", headers={"Accept-Language": "zh-CN"})).text()
    assert '<html lang="en-US">' in page
    away = await client.get("/lang/zh-CN?next=//evil.example/", allow_redirects=False)
    assert away.headers["Location"] == "/"  # only pages of this console
    assert (await client.get("/lang/fr-FR", allow_redirects=False)).status == 404


async def test_an_operator_reads_a_case_in_chinese(client: TestClient, database: Database) -> None:
    add_users(database, ("op1", "operator"))
    case_id = seed_cases(database)["cases"][0]
    await login(client, "op1")
    zh = {"Accept-Language": "zh-CN"}
    queue = await (await client.get("/queue", headers=zh)).text()
    assert "转人工队列" in queue and "张伟" in queue and "回答未能识别" in queue and "健康码" in queue
    page = await (await client.get(f"/cases/{case_id}", headers=zh)).text()
    # slot names and values with the labels the script carries, keys and parses readable
    assert "是否本人" in page and "是本人" in page and "置信度 0.41" in page and "识别为" in page
    assert "identity" not in re.sub(r'(data-slot|name|class)="[^"]*"', "", page)
    assert "\\u" not in page and '{"value"' not in page
    assert "Asia/Shanghai" in page  # times say their zone


def test_every_marked_message_has_a_chinese_translation() -> None:
    with i18n.catalog_path("zh-CN").open("rb") as f:
        catalog = read_po(f)
    translated = {m.id for m in catalog if m.id and m.string}
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "gettext": None, "N_": None, "msg": None}
    dialing = CONSOLE.parent / "campaigns" / "dialing"  # why a campaign is (not) dialling: worded on the page
    found = {msg for where in (CONSOLE, dialing)
             for _, _, msg, _, _ in extract_from_dir(str(where), method_map, options, keywords)
             if isinstance(msg, str) and msg}
    assert found - translated == set(), "run the extraction in bot/console/i18n.py and translate these"


def test_the_catalog_is_compiled_from_its_source() -> None:
    i18n.translations.cache_clear()
    t = i18n.translations("zh-CN")
    assert t.gettext("Log in") == "登录" and t.gettext("Key %(digit)s") % {"digit": "1"} == "按键 1"
    assert i18n.translations("en-US").gettext("Log in") == "Log in"
    assert not list(CONSOLE.joinpath("locale").rglob("*.mo"))  # no binary to go stale


def test_times_are_local_with_dates_as_yyyy_mm_dd() -> None:
    from datetime import UTC, datetime

    t = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)
    assert i18n.local_time(t) == "2026-03-02 00:30"
    assert i18n.local_time(t.replace(tzinfo=None), "Europe/London") == "2026-03-01 16:30"
    assert i18n.zone_label("Asia/Shanghai") == "Asia/Shanghai, UTC+08:00"

"""Issue 22 item 5 in Debian's chromium against `veribot serve`, in Chinese: a desk whose config
leaves the badge empty cannot publish the script that says it — the editor names the key and the
line, 发布 stays disabled — until an admin sets the badge on the 机构信息 page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storage.db import Database

from .live import CHROMIUM, REPO, Server, browser, shot, write_config
from .seed import PASSWORD, add_users

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs chromium")]
ZH_YAML = (REPO / "dialogs" / "verification.zh-CN.yaml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("console-publish")
    url = f"sqlite:///{tmp / 'console.db'}"
    db = Database(url)
    db.upgrade()
    add_users(db, ("admin1", "admin"))
    config = write_config(tmp, url)
    config.write_text(config.read_text(encoding="utf-8").replace('badge = "6201-0427"', 'badge = ""'),
                      encoding="utf-8")
    server = Server(config, tmp / "serve.log")
    try:
        with browser() as b:
            yield {"server": server, "browser": b}
    finally:
        server.stop()
        db.dispose()


def test_an_empty_badge_blocks_publishing_until_it_is_set(desk: dict[str, Any]) -> None:
    page = desk["browser"].new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page.set_default_timeout(15000)
    base = desk["server"].base
    page.goto(base + "/login")
    page.fill("#username", "admin1")
    page.fill("#password", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_selector("header nav")
    page.goto(base + "/dialogs/verification.zh-CN")
    line = next(i for i, text in enumerate(ZH_YAML.splitlines(), 1) if "工号{badge}" in text)
    page.wait_for_selector(f"#lint-errors li[data-line='{line}']")
    said = page.locator(f"#lint-errors li[data-line='{line}']").inner_text()
    assert f"第 {line} 行" in said and "{badge}" in said and "工号（“机构信息”页）为空" in said, said
    assert "lint bad" in (page.get_attribute("#lint-status", "class") or "")
    assert page.locator("#publish").is_disabled()
    shot(page, "12-editor-empty-badge")
    page.goto(base + "/agency")
    page.fill("input[name=badge]", "GA2031")
    page.fill("input[name=callback_number]", "0931-12345")
    page.click("form[action='/agency'] button[type=submit]")
    page.wait_for_selector("p.notice")
    page.goto(base + "/dialogs/verification.zh-CN")
    page.wait_for_selector("#lint-status.ok")
    assert page.locator("#lint-errors li").count() == 0
    page.click("#publish")
    page.wait_for_url("**/dialogs/verification.zh-CN?published=*")
    assert page.locator("#active-version").inner_text() == page.url.rsplit("=", 1)[1]
    page.close()

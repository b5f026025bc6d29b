"""Each user's first day, in Debian's chromium (zh-CN) against `veribot serve` with its SIP endpoint
and dialer on loopback, and `veribot softphone` as the resident (answers by keypad: real SIP/RTP).

Admin: imports a list, edits and publishes the script, starts a campaign that says why it waits
(outside its calling window), places a test call to the softphone, opens the window and watches
the call live. Operator: claims the case (the keypad cannot give an address), listens, corrects the
address, hands back. The bot phones again and completes. Screenshots: var/test-artifacts/console/
(first-day-*), at 1280×800 and 390 px."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from storage.db import Database

from .live import CHROMIUM, REPO, Server, browser, shot
from .seed import PASSWORD, add_users

pytestmark = [pytest.mark.browser, pytest.mark.sip,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs chromium")]

CALL_TIMEOUT = 150_000  # ms: a keypad call with spoken prompts takes a minute or so


def udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("first-day")
    url = f"sqlite:///{tmp / 'day.db'}"
    sip, phone = udp_port(), udp_port()
    config = tmp / "config.toml"
    config.write_text(f"""
[agency]
name = "兰州市公安局"
callback_number = "96110"
badge = "6201-0427"
[service]
host = "127.0.0.1"
var_dir = "{tmp / 'var'}"
[database]
url = "{url}"
[console]
secure_cookies = false
[serve]
sip = true
dialer = true
dialogs_dir = "{REPO / 'dialogs'}"
[speech]
models_dir = "{tmp / 'no-models'}"
[telephony]
listen = "127.0.0.1:{sip}"
trunk = "sip:127.0.0.1:{phone}"
rtp_ports = "35000-35100"
[dialer]
poll_seconds = 0.5
drain_seconds = 5
""", encoding="utf-8")
    db = Database(url)
    db.upgrade()
    add_users(db, ("王芳", "admin"), ("李娜", "operator"))
    answers = tmp / "answers.txt"  # every question answered with key 1 (an address cannot be keyed in)
    answers.write_text("dtmf:1\n" * 10, encoding="utf-8")
    resident = subprocess.Popen(
        [sys.executable, "-m", "bot", "softphone", "--listen", f"127.0.0.1:{phone}", "--answers", str(answers),
         "--dialog", "dialogs/verification.zh-CN.yaml", "--rtp-ports", "36000-36100"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Server(config, tmp / "serve.log")
    try:
        with browser() as b:
            yield {"db": db, "server": server, "browser": b, "tmp": tmp, "phone": phone}
    finally:
        server.stop()
        resident.kill()
        resident.wait()
        db.dispose()


def page_for(day: dict[str, Any], user: str, width: int = 1280, height: int = 800) -> Any:
    page = day["browser"].new_page(viewport={"width": width, "height": height}, locale="zh-CN")
    page.set_default_timeout(20000)
    page.goto(day["server"].base + "/login")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_selector("header nav")
    return page


def phone_shot(day: dict[str, Any], user: str, path: str, name: str) -> None:
    """The same page at 390 px: nothing wider than the phone."""
    page = page_for(day, user, 390, 844)
    page.goto(day["server"].base + path)
    page.wait_for_timeout(600)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1, path
    shot(page, name)
    page.close()


def test_first_day(day: dict[str, Any]) -> None:
    base = day["server"].base
    admin = page_for(day, "王芳")
    assert admin.get_attribute("html", "lang") == "zh-CN"

    # 1. the script: a friendlier greeting, published
    admin.goto(base + "/dialogs/verification.zh-CN")
    admin.wait_for_selector("#lint-status.ok")
    admin.evaluate("""() => { const t = document.getElementById('source');
        t.value = t.value.replace('请您配合。"', '请您配合，谢谢。"'); t.dispatchEvent(new Event('input')); }""")
    admin.wait_for_selector("#lint-status.ok")
    admin.click("#publish")
    admin.wait_for_url(re.compile(r".*\?published=\w+"))
    shot(admin, "first-day-01-script-published")

    # 2. a campaign and its list
    admin.goto(base + "/campaigns")
    admin.fill("input[name='name']", "城关区第一批")
    admin.click("form[action='/campaigns'] button[type=submit]")
    admin.wait_for_url(re.compile(r".*/campaigns/\d+$"))
    camp_url = admin.url
    people = day["tmp"] / "people.csv"
    people.write_text("姓名,手机号,现住址,人员类别\n张伟,13800000001,城关区张掖路1号,密接\n", encoding="utf-8")
    admin.set_input_files("#people-file", str(people))
    admin.click("#upload")
    admin.wait_for_selector("p.notice")
    expect(admin.locator("#people")).to_have_text("1")

    # 3. started outside its calling window: the page says why nothing dials
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    closed_from, closed_to = (now + timedelta(hours=2)).strftime("%H:00"), (now + timedelta(hours=3)).strftime("%H:00")
    admin.click("#camp-settings >> xpath=ancestor::details/summary")
    admin.fill("input[name='window_start']", closed_from)
    admin.fill("input[name='window_end']", closed_to)
    admin.click("#camp-settings button[type=submit]")
    admin.wait_for_url(camp_url)
    admin.click("#btn-start")
    expect(admin.locator("#why-text")).to_contain_text("不在拨打时段")
    shot(admin, "first-day-02-campaign-waits")
    phone_shot(day, "王芳", camp_url.removeprefix(base), "first-day-02-campaign-waits-390")

    # 4. a test call to the softphone, watched live
    admin.fill("input[name='target']", f"sip:test@127.0.0.1:{day['phone']}")
    admin.click("#btn-test-call")
    admin.wait_for_selector("#test-call-placed")
    expect(admin.locator("h1")).to_contain_text("测试")
    assert admin.locator("#btn-start").count() == 0  # a test campaign is never started
    admin.wait_for_selector("#live-rows tr[data-attempt]", timeout=CALL_TIMEOUT)
    expect(admin.locator("#live-rows td.words").first).to_contain_text("兰州市公安局", timeout=CALL_TIMEOUT)
    shot(admin, "first-day-03-test-call-live")
    admin.wait_for_selector("#live-rows tr.empty", timeout=CALL_TIMEOUT)  # the call ended
    admin.reload()
    expect(admin.locator("#attempts tbody tr").first).not_to_have_class("empty")

    # 5. the calling window opens (all day): the bot phones 张伟, watched live
    admin.goto(camp_url)
    admin.click("#camp-settings >> xpath=ancestor::details/summary")
    admin.fill("input[name='window_start']", "00:00")
    admin.fill("input[name='window_end']", "00:00")
    admin.click("#camp-settings button[type=submit]")
    admin.wait_for_url(camp_url)
    admin.wait_for_selector("#live-rows tr[data-attempt]", timeout=CALL_TIMEOUT)
    expect(admin.locator("#live-rows")).to_contain_text("张伟")
    shot(admin, "first-day-04-campaign-call-live")
    admin.wait_for_selector("#live-rows tr.empty", timeout=CALL_TIMEOUT)
    expect(admin.locator("#n-escalated")).to_have_text("1", timeout=CALL_TIMEOUT)

    # 6. the operator: claims the case, listens, corrects the address, hands back
    op = page_for(day, "李娜")
    op.goto(base + "/queue")
    row = op.locator("#queue tbody tr[data-case]").first
    expect(row).to_contain_text("张伟")
    shot(op, "first-day-05-queue")
    phone_shot(day, "李娜", "/queue", "first-day-05-queue-390")
    row.locator("button.claim").click()
    op.wait_for_url(re.compile(r".*/cases/\d+$"))
    case_path = op.url.removeprefix(base)
    assert "请问您是张伟本人吗？" in op.locator("#transcript").inner_text()
    audio = op.locator("#transcript audio")
    if audio.count():  # what the resident said, when the call kept their audio
        audio.first.evaluate("a => a.play().catch(() => null)")
    op.fill("input[name='slot_residence']", "甘肃省兰州市城关区张掖路1号")
    shot(op, "first-day-06-case-corrected")
    phone_shot(day, "李娜", case_path, "first-day-06-case-390")
    op.click("button[name='action'][value='return_to_bot']")
    op.wait_for_url(re.compile(r".*/queue\?back=\d+"))
    expect(op.locator("#handed-back")).to_contain_text("已交回机器人")
    shot(op, "first-day-07-handed-back")

    # 7. the bot phones again, skips the address the operator gave, and completes
    admin.goto(camp_url)
    expect(admin.locator("#n-completed")).to_have_text("1", timeout=CALL_TIMEOUT)
    admin.reload()  # the buttons and latest calls as they are now
    expect(admin.locator("#camp-status")).to_have_text("已完成")
    assert admin.locator("#btn-pause").count() == 0
    assert admin.locator("#attempts tbody tr").count() == 2
    shot(admin, "first-day-08-completed")
    admin.goto(camp_url + "/results")
    expect(admin.locator("main")).to_contain_text("张掖路")
    shot(admin, "first-day-09-results")
    phone_shot(day, "王芳", "/dnc", "first-day-10-dnc-390")
    for p in (admin, op):
        p.close()

"""The console in Debian's chromium against `veribot serve` on loopback, as Chinese admins and
operators use it (the browser asks for zh-CN). Screenshots go to var/test-artifacts/console/.
Every URL the browser asks for and every line the server logs are checked at the end for
names and phone numbers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from storage.db import Database

from .live import CHROMIUM, Server, browser, shot, write_config
from .seed import PASSWORD, PEOPLE, add_users, seed_cases

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs chromium")]

EN_YAML = (Path(__file__).resolve().parents[2] / "dialogs" / "verification.en-US.yaml").read_text(encoding="utf-8")
VISITED: list[str] = []


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("console-browser")
    url = f"sqlite:///{tmp / 'console.db'}"
    db = Database(url)
    db.upgrade()
    add_users(db, ("admin1", "admin"), ("op1", "operator"), ("op2", "operator"))
    server = Server(write_config(tmp, url), tmp / "serve.log")
    try:
        with browser() as b:
            yield {"db": db, "server": server, "browser": b}
    finally:
        server.stop()
        db.dispose()


def new_page(env: dict[str, Any], width: int = 1280, height: int = 800, locale: str = "zh-CN") -> Any:
    page = env["browser"].new_page(viewport={"width": width, "height": height}, locale=locale)
    page.on("request", lambda req: VISITED.append(req.url))
    page.set_default_timeout(15000)
    return page


def log_in(env: dict[str, Any], page: Any, username: str) -> None:
    page.goto(env["server"].base + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_selector("header nav")


def test_operator_claims_reads_corrects_and_resolves(env: dict[str, Any]) -> None:
    ids = seed_cases(env["db"])
    first = ids["cases"][0]  # priority 1: top of the queue
    page = new_page(env)
    page.goto(env["server"].base + "/queue")
    assert page.url.endswith("/login")
    shot(page, "01-login")
    log_in(env, page, "op1")
    page.wait_for_url("**/queue")
    page.wait_for_selector("#live.on")  # the live stream is connected
    assert page.locator("#queue tbody tr").first.get_attribute("data-case") == str(first)
    shot(page, "02-queue")
    page.click(f"button.claim[data-case='{first}']")
    page.wait_for_url(f"**/cases/{first}")
    transcript = page.locator("#transcript").inner_text()
    assert "嗯 那个 不太清楚" in transcript and "置信度 0.41" in transcript and "识别为：是本人" in transcript
    assert page.locator("label.slot.unresolved[data-slot='health_code']").count() == 1
    assert "健康码" in page.locator("label.slot[data-slot='health_code']").inner_text()
    shot(page, "03-case-claimed")
    # a typo: everything typed stays, the field is named in Chinese
    page.select_option("select[name='slot_health_code']", "green")
    page.fill("input[name='slot_nat_count']", "两")
    page.fill("textarea[name='note']", "已回拨核实")
    page.click("button[name='action'][value='close']")
    expect(page.locator("p.error")).to_contain_text("近7天核酸次数")
    assert page.input_value("textarea[name='note']") == "已回拨核实"
    assert page.input_value("select[name='slot_health_code']") == "green"
    shot(page, "04-case-typo-kept")
    page.fill("input[name='slot_nat_count']", "2")
    page.select_option("select[name='slot_notice_ack']", "yes")
    page.click("button[name='action'][value='close']")
    page.wait_for_url(re.compile(r".*/queue(\?closed=\d+)?$"))  # the queue says which case was closed
    expect(page.locator(f"#queue tr[data-case='{first}']")).to_have_count(0)
    shot(page, "05-queue-after-resolve")
    page.goto(env["server"].base + f"/cases/{first}")
    assert "已办结" in page.locator("h1").inner_text()
    assert "绿码" in page.locator("dl.facts").last.inner_text()
    page.close()


def test_second_operator_cannot_claim_a_held_case(env: dict[str, Any]) -> None:
    ids = seed_cases(env["db"])
    case = ids["cases"][1]
    one, two = new_page(env), new_page(env)
    log_in(env, one, "op1")
    log_in(env, two, "op2")
    one.goto(env["server"].base + "/queue")
    two.goto(env["server"].base + "/queue")
    one.click(f"button.claim[data-case='{case}']")
    one.wait_for_url(f"**/cases/{case}")
    # the live queue shows who holds it and offers no Claim any more
    row = two.locator(f"#queue tr[data-case='{case}']")
    expect(row).to_contain_text("op1")
    expect(row).to_contain_text("其他坐席处理中")
    expect(row.locator("button.claim")).to_have_count(0)
    refused = two.evaluate(f"""async () => {{
        const csrf = document.querySelector('meta[name="csrf-token"]').content;
        const r = await fetch('/cases/{case}/claim', {{method: 'POST', headers: {{'X-CSRF-Token': csrf}}}});
        return [r.status, (await r.json()).message]; }}""")
    assert refused == [409, "另一位坐席正在处理这个工单"]
    shot(two, "06-second-operator-sees-holder")
    response = two.goto(env["server"].base + f"/cases/{case}")
    assert response.status == 403
    shot(two, "07-second-operator-403")
    one.close()
    two.close()


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_admin_edits_lints_simulates_and_publishes(env: dict[str, Any]) -> None:
    page = new_page(env)
    log_in(env, page, "admin1")
    page.goto(env["server"].base + "/dialogs")
    shot(page, "08-dialogs")
    page.click("a[href='/dialogs/verification.en-US']")
    page.wait_for_selector("#lint-status.ok")
    source = page.input_value("#source")
    line = _line(source, "    next: residence")
    # the admin selects the word `residence` on that line and types a step that does not exist
    start = len("\n".join(source.splitlines()[: line - 1])) + 1 + len("    next: ")
    page.focus("#source")
    page.evaluate(f"document.getElementById('source').setSelectionRange({start}, {start + len('residence')})")
    page.keyboard.type("residenze", delay=20)
    page.wait_for_selector(f"#lint-errors li[data-line='{line}']")
    assert "residenze" in page.locator(f"#lint-errors li[data-line='{line}']").inner_text()
    assert f"! {line}" in page.locator("#gutter").inner_text()
    assert page.locator("#publish").is_disabled()
    shot(page, "09-editor-lint-error")
    # fix it
    page.evaluate(f"document.getElementById('source').setSelectionRange({start}, {start + len('residenze')})")
    page.keyboard.type("residence", delay=20)
    page.wait_for_selector("#lint-status.ok")
    assert page.locator("#lint-errors li").count() == 0
    # change a prompt so the published version is new
    page.evaluate("""() => { const t = document.getElementById('source');
        t.value = t.value.replace('Am I speaking with {name}?', 'Hello, am I speaking with {name}?');
        t.dispatchEvent(new Event('input')); }""")
    page.wait_for_selector("#lint-status.ok")
    # simulate a whole conversation
    page.fill("#sim-person", "Sam Doe")
    page.click("#sim-start")
    page.wait_for_selector("#sim-log li.chat-bot")
    assert "Hello, am I speaking with Sam Doe?" in page.locator("#sim-log").inner_text()
    for answer in ["yes", "12 Garden Road, Chengguan District", "green", "no", "2", "negative", "yes"]:
        if not page.locator("#sim-result").is_hidden():
            break
        count = page.locator("#sim-log li").count()
        page.fill("#sim-answer", answer)
        page.press("#sim-answer", "Enter")
        expect(page.locator("#sim-log li").nth(count)).to_be_attached()
    page.wait_for_selector("#sim-result:not([hidden])")
    assert page.get_attribute("#sim-result", "data-outcome") == "completed"
    assert "已完成" in page.locator("#sim-result").inner_text() and "Health code" in page.locator("#sim-result").inner_text()  # the script titles its slots
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    shot(page, "10-editor-simulated")
    page.click("#publish")
    page.wait_for_url(re.compile(r".*/dialogs/verification\.en-US\?published=\w+"))
    version = page.url.rsplit("=", 1)[1]
    assert page.locator("#active-version").inner_text() == version
    assert "生效中" in page.locator("#versions tbody tr").first.inner_text()
    shot(page, "11-editor-published")
    page.close()


def test_admin_uploads_a_list_with_a_bad_row_and_sees_the_row_number(env: dict[str, Any], tmp_path: Path) -> None:
    bad = tmp_path / "people.csv"
    bad.write_text("姓名,手机号,现住址,人员类别\n赵六,13912340001,城关区1号,密接\n"
                   "钱七,13912340002,七里河区2号,次密接\n孙八,123,安宁区3号,密接\n", encoding="utf-8")
    page = new_page(env)
    log_in(env, page, "admin1")
    page.goto(env["server"].base + "/campaigns")
    page.fill("input[name='name']", "上传测试")
    page.click("form[action='/campaigns'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/campaigns/\d+$"))
    page.set_input_files("#people-file", str(bad))
    page.click("#upload")
    page.wait_for_selector("#upload-errors")
    assert page.locator("#upload-errors li[data-row='4']").count() == 1
    assert "第 4 行" in page.locator("#upload-errors").inner_text()
    assert page.locator("#upload-errors li").count() == 1
    assert page.locator("#people").inner_text() == "0"  # nothing imported
    shot(page, "12-upload-bad-row")
    fixed = tmp_path / "people-fixed.csv"
    fixed.write_text(bad.read_text(encoding="utf-8").replace(",123,", ",13912340003,"), encoding="utf-8")
    page.set_input_files("#people-file", str(fixed))
    page.click("#upload")
    page.wait_for_selector("p.notice")
    assert "已导入 3 人" in page.locator("p.notice").inner_text()
    expect(page.locator("#people")).to_have_text("3")
    page.click("#btn-start")
    expect(page.locator("#camp-status")).to_have_text("进行中")
    expect(page.locator("#why-text")).not_to_be_empty()  # says why it is (not) dialling
    shot(page, "13-upload-imported-started")
    page.close()


PAGES = ["/queue", "/cases/{case}", "/dialogs", "/dialogs/verification.zh-CN", "/campaigns",
         "/campaigns/{campaign}", "/campaigns/{campaign}/results", "/dashboard", "/audit", "/users"]


@pytest.mark.parametrize("width,height,locale", [(1280, 800, "zh-CN"), (390, 844, "zh-CN"), (1280, 800, "en-US")])
def test_every_page_works_on_desktop_and_phone(env: dict[str, Any], width: int, height: int, locale: str) -> None:
    ids = seed_cases(env["db"])
    page = new_page(env, width, height, locale)
    width_tag = width if locale == "zh-CN" else f"{width}-en"
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(env["server"].base + "/login")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    assert page.get_attribute("html", "lang") == locale
    shot(page, f"page-{width_tag}-login")
    log_in(env, page, "admin1")
    for template in PAGES:
        path = template.format(case=ids["cases"][2], campaign=ids["campaign"])
        response = page.goto(env["server"].base + path)
        assert response.status == 200, path
        page.wait_for_load_state("networkidle") if "queue" not in path else page.wait_for_timeout(300)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} is {overflow}px wider than a {width}px window"
        assert page.get_attribute("html", "lang") == locale, path
        shot(page, f"page-{width_tag}-{path.strip('/').replace('/', '_')}")
    assert errors == []
    page.close()


def test_an_english_browser_gets_english_and_can_switch_to_chinese(env: dict[str, Any]) -> None:
    page = new_page(env, locale="en-US")
    page.goto(env["server"].base + "/login")
    assert page.get_attribute("html", "lang") == "en-US"
    assert "Username" in page.locator("main").inner_text()
    shot(page, "14-login-english")
    page.click("a[hreflang='zh-CN']")
    page.wait_for_selector("html[lang='zh-CN']")
    assert "用户名" in page.locator("main").inner_text()
    page.close()


def test_no_personal_data_in_logs_or_urls(env: dict[str, Any]) -> None:
    assert VISITED, "the browser tests above ran first"
    log = env["server"].log()
    needles = [p["name"] for p in PEOPLE] + [p["phone"] for p in PEOPLE] + [p["phone"][3:] for p in PEOPLE]
    needles += [p["expected_address"] for p in PEOPLE] + ["Sam Doe", "Sam%20Doe"]
    needles += ["赵六", "钱七", "孙八", "13912340001", "13912340003"]  # the uploaded list
    for needle in needles:
        assert needle not in log, f"server log contains {needle!r}"
        assert not [u for u in VISITED if needle in u], f"a URL contains {needle!r}"
    assert "GET /queue" in log  # the log really was captured

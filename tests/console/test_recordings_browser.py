"""Recorded prompts in Debian's chromium, as a Chinese admin: the editor's coverage card,
a take uploaded from a file, a take recorded in the browser (MediaRecorder on chromium's
fake microphone, a beep), both then shown as recorded. Screenshots at 1280×800 and 390 px
go to var/test-artifacts/console/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from audio import wav
from storage.db import Database

from .live import CHROMIUM, CHROMIUM_ARGS, Server, shot, write_config
from .seed import PASSWORD, add_users

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs chromium")]
PAGE = "/dialogs/verification.zh-CN"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    tmp = tmp_path_factory.mktemp("recordings-browser")
    url = f"sqlite:///{tmp / 'console.db'}"
    db = Database(url)
    db.upgrade()
    add_users(db, ("admin1", "admin"))
    server = Server(write_config(tmp, url), tmp / "serve.log")
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                *CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"])
            try:
                yield {"db": db, "server": server, "browser": b, "tmp": tmp}
            finally:
                b.close()
    finally:
        server.stop()
        db.dispose()


def open_editor(env: dict[str, Any], width: int, height: int) -> Any:
    ctx = env["browser"].new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                     permissions=["microphone"])
    page = ctx.new_page()
    page.set_default_timeout(20000)
    page.goto(env["server"].base + "/login")
    page.fill("#username", "admin1")
    page.fill("#password", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_selector("header nav")
    page.goto(env["server"].base + PAGE)
    page.wait_for_selector("#recordings")
    return page


def piece(page: Any, text: str) -> Any:
    return page.locator(f".rec-piece[data-text='{text}']").first


def test_admin_uploads_and_records_prompts_and_sees_coverage(env: dict[str, Any]) -> None:
    page = open_editor(env, 1280, 800)
    assert "录音提示语" in page.locator("#recordings h2").inner_text()
    assert "语音合成" in page.locator("#rec-summary").inner_text()
    # upload a file for the repeat prompt (no variables: the whole prompt)
    t = np.arange(8000) / 8000
    take = env["tmp"] / "take.wav"
    take.write_bytes(wav.wav_bytes((6000 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()))
    repeat = "好的，我再说一遍。"
    piece(page, repeat).locator(".rec-file").set_input_files(str(take))
    page.wait_for_selector(f".rec-piece[data-text='{repeat}'] audio")
    assert "已录音" in piece(page, repeat).inner_text()
    # record the question's fixed part in the browser (chromium's fake microphone beeps)
    question = "请问您是"
    piece(page, question).locator(".rec-record").click()
    page.wait_for_selector(f".rec-piece[data-text='{question}'] .rec-record.on")
    page.wait_for_timeout(1500)
    piece(page, question).locator(".rec-record").click()
    page.wait_for_selector(f".rec-piece[data-text='{question}'] audio", timeout=30000)
    assert "已录音" in piece(page, question).inner_text()
    summary = page.locator("#rec-summary").inner_text()
    assert "已录音: 1" in summary and "部分录音: 0" not in summary
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    page.locator("#recordings").scroll_into_view_if_needed()
    shot(page, "20-editor-recorded-prompts")
    page.context.close()

    phone = open_editor(env, 390, 844)
    assert "已录音" in phone.locator("#recordings").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    shot(phone, "21-editor-recorded-prompts-phone")
    phone.context.close()

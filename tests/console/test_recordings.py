"""Recorded prompts in the dialog editor: upload a take per piece (WAV, MP3), bad files refused
cleanly, coverage shown (recorded / partly / TTS), takes carried to the next published version
where their text is unchanged."""

from __future__ import annotations

import asyncio
import re
import subprocess
from pathlib import Path

import numpy as np
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from audio import wav
from storage.db import Database

from .conftest import REPO, csrf_of, login
from .seed import add_users

ZH = (REPO / "dialogs" / "verification.zh-CN.yaml").read_text(encoding="utf-8")
PAGE = "/dialogs/verification.zh-CN"
QUESTION = "请问您是"  # the fixed piece of "请问您是{name}本人吗？"
REPEAT = "好的，我再说一遍。"  # a whole prompt without variables
ZH_H = {"Accept-Language": "zh-CN"}


def take(seconds: float = 1.0, rate: int = 16000) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return wav.wav_bytes((6000 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes(), rate)


async def upload(client: TestClient, token: str, text: str, data: bytes, filename: str = "take.wav",
                 version: str = "") -> tuple[int, dict]:
    form = FormData()
    form.add_field("version", version)
    form.add_field("text", text)
    form.add_field("file", data, filename=filename, content_type="application/octet-stream")
    resp = await client.post(f"{PAGE}/recordings", data=form, headers={"X-CSRF-Token": token, **ZH_H})
    return resp.status, await resp.json()


def counts(html: str) -> list[int]:
    summary = html[html.index('id="rec-summary"'):]
    return [int(n) for n in re.findall(r": (\d+)</span>", summary[: summary.index("</p>")])]


async def test_admin_records_prompts_and_sees_coverage(client: TestClient, database: Database, tmp_path: Path) -> None:
    add_users(database, ("admin1", "admin"))
    await login(client, "admin1")
    token = await csrf_of(client, "/dialogs")
    before = await (await client.get(PAGE, headers=ZH_H)).text()
    assert "录音提示语" in before  # the card, in Chinese
    recorded, partly, tts = counts(before)
    assert (recorded, partly) == (0, 0) and tts > 10

    assert (await upload(client, token, QUESTION, take()))[0] == 200
    mp3 = tmp_path / "t.mp3"
    await asyncio.to_thread(subprocess.run, ["sox", "-n", "-r", "16000", "-c", "1", str(mp3), "synth", "1.2",
                                             "sine", "500"], check=True)
    status, body = await upload(client, token, REPEAT, mp3.read_bytes(), "take.mp3")
    assert status == 200 and body["ok"] and 1.0 <= body["seconds"] <= 1.4

    for data, name, message in [(b"not audio at all", "x.wav", "不是 WAV 或 MP3"),
                                (take(61.0, 8000), "long.wav", "太长"),
                                (wav.wav_bytes(bytes(8000)), "silent.wav", "无声")]:
        status, body = await upload(client, token, QUESTION, data, name)
        assert status == 422 and message in body["message"], body
    status, body = await upload(client, token, "不在脚本里的话", take())
    assert status == 422 and not body["ok"]

    after = await (await client.get(PAGE, headers=ZH_H)).text()
    now = counts(after)  # the repeat is recorded whole; the question's piece is heard in several prompts
    assert now[0] == 1 and now[1] >= 1 and sum(now) == tts
    assert "「请问您是」" in after and "已录音" in after
    wav_url = re.search(r'src="(/dialogs/verification\.zh-CN/recordings/\d+\.wav)"', after).group(1)
    resp = await client.get(wav_url)
    info, _ = wav.parse_wav(await resp.read())
    assert resp.status == 200 and info.sample_rate == 8000

    # publish a version that changes the repeat prompt: the question's take goes with it, the repeat's does not
    changed = ZH.replace(REPEAT, "好的，我再重复一遍。")
    resp = await client.post("/dialogs/publish", data={"source": changed, "csrf": token}, allow_redirects=False)
    assert resp.status == 303
    published = await (await client.get(PAGE, headers=ZH_H)).text()
    assert counts(published) == [0, now[1], tts - now[1]]
    assert "「请问您是」" in published and "已录音" in published


async def test_admin_removes_a_take(client: TestClient, database: Database) -> None:
    add_users(database, ("admin1", "admin"))
    await login(client, "admin1")
    token = await csrf_of(client, "/dialogs")
    assert (await upload(client, token, REPEAT, take()))[0] == 200
    assert counts(await (await client.get(PAGE, headers=ZH_H)).text())[0] == 1
    resp = await client.post(f"{PAGE}/recordings/remove", data={"text": REPEAT, "version": "", "csrf": token},
                             allow_redirects=False)
    assert resp.status == 303
    assert counts(await (await client.get(PAGE, headers=ZH_H)).text())[0] == 0
    resp = await client.post(f"{PAGE}/recordings/remove", data={"text": REPEAT, "version": "0" * 12, "csrf": token},
                             allow_redirects=False)
    assert resp.status == 404  # a version that does not exist

"""Issue 22 item 7: what the console shows reads as Chinese — the audit trail (action names, 匿名,
密码错误, no `rows=0`), the do-not-call list (one 原因), the latest calls' outcomes — and a scan of
every page for English words left in the visible text."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from aiohttp.test_utils import TestClient

from storage.db import Database
from storage.models import Attempt, AttemptState, AuditEvent, DoNotCall, Person

from .conftest import csrf_of, login
from .seed import add_users, seed_cases, seed_survey_case
from .visible import visible_text

ZH = {"Accept-Language": "zh-CN"}
NOON = datetime(2026, 12, 4, 4, 0, tzinfo=UTC)


async def test_the_audit_trail_reads_as_chinese(client: TestClient, database: Database) -> None:
    add_users(database, ("admin1", "admin"))
    form = await (await client.get("/login")).text()
    token = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    await client.post("/login", data={"username": "admin1", "password": "wrong-password!", "csrf": token})
    database.run(lambda s: s.add(AuditEvent(actor="admin1", action="queue.view", target_type="queue",
                                            target_id="", detail="rows=0")))
    await login(client, "admin1")
    page = await (await client.get("/audit", headers=ZH)).text()
    text = visible_text(page)
    assert "匿名" in text and "密码错误" in text and "打开转人工队列" in text and "行数 0" in text
    for english in ("queue.view", "anonymous", "bad credentials", "rows=0", "login.failed"):
        assert english not in text, english


async def test_do_not_call_reasons_and_latest_calls_are_chinese(client: TestClient, database: Database) -> None:
    add_users(database, ("admin1", "admin"))
    seeded = seed_cases(database)

    def more(s):
        s.add(DoNotCall(phone="+8613700000001", kind="resident", reason="resident asked not to be called again",
                        added_by="bot"))
        person = s.get(Person, 1)
        s.add(Attempt(person_id=person.id, campaign_id=seeded["campaign"], phone=person.phone,
                      state=AttemptState.ENDED, network_outcome="answered", detail="local_hangup",
                      started_at=NOON, ended_at=NOON))

    database.run(more)
    await login(client, "admin1")
    page = await (await client.get("/dnc", headers=ZH)).text()
    head = page[page.index('<table id="dnc"'):page.index("</thead>", page.index('<table id="dnc"'))]
    assert head.count(">原因<") == 1
    assert "居民要求不再来电" in visible_text(page) and "resident asked" not in page
    page = await (await client.get(f"/campaigns/{seeded['campaign']}", headers=ZH)).text()
    calls = visible_text(page[page.index('<table id="attempts"'):])
    assert "本方挂断" in calls and "local_hangup" not in calls


# visible English that may stay: product and format names, units, field ids a user types in config
ALLOWED = {"SIP", "CSV", "Excel", "XLSX", "WAV", "MP3", "TTS", "Vosk", "Whisper", "base", "veribot", "config", "toml",
           "trunk", "telephony", "serve", "sip", "Asia", "Shanghai", "UTC", "ID", "KB", "URL", "HH", "MM", "yyyy",
           "mm", "dd", "PCM", "kHz", "DTMF", "YAML", "Chart", "js", "admin1", "op1", "Li", "Na", "Wang", "Fang",
           "zh", "CN", "en", "US", "English", "survey", "verification", "yaml", "dialogs", "lang", "test",
           "Tab", "Esc", "Enter", "AI", "OK", "sipp", "baresip", "softphone", "ko", "KR", "admin"}


def _english_words(html: str) -> set[str]:
    text = visible_text(html)
    words = re.findall(r"[A-Za-z][A-Za-z0-9]+", text)  # a version id such as abc123def456 is no word
    return {w for w in words if w not in ALLOWED and not any(ch.isdigit() for ch in w)}


async def test_no_page_shows_untranslated_english(client: TestClient, database: Database) -> None:
    add_users(database, ("admin1", "admin"))
    seeded = seed_cases(database)
    survey = seed_survey_case(database)
    await login(client, "admin1")
    token = await csrf_of(client, "/campaigns")
    await client.post("/campaigns", data={"csrf": token, "name": "流调三批", "dialog": "survey.zh-CN"})
    pages = ["/queue", f"/cases/{seeded['cases'][0]}", f"/cases/{survey['case']}", "/campaigns",
             f"/campaigns/{seeded['campaign']}", f"/campaigns/{seeded['campaign']}/results",
             f"/campaigns/{survey['campaign']}/results", "/dashboard", "/audit", "/users", "/dnc", "/dialogs", "/agency",
             "/dialogs/verification.zh-CN", "/dialogs/survey.zh-CN"]  # the editor: its syntax shown as code
    found = {}
    for path in pages:
        resp = await client.get(path, headers=ZH)
        assert resp.status == 200, path
        words = _english_words(await resp.text())
        if words:
            found[path] = sorted(words)
    assert found == {}, repr(found)[:3000]

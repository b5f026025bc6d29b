"""Issue 21 item 2 / issue 22 item 2: the slots a page shows come from the script. A tracing
(survey) case shows, corrects, exports and pushes its contacts and places; no verification
field appears on it, and the prevention-notice rule does not apply to a script without one."""

from __future__ import annotations

import csv
import io

from aiohttp.test_utils import TestClient
from sqlmodel import select

from bot.console.context import CONSOLE
from storage.db import Database
from storage.models import Result, WebhookDelivery

from .conftest import csrf_of, login
from .seed import SURVEY_CONTACTS, add_users, seed_survey_case


async def _claimed(client: TestClient, database: Database) -> tuple[dict, str]:
    add_users(database, ("op1", "operator"))
    seeded = seed_survey_case(database)
    await login(client, "op1")
    token = await csrf_of(client)
    await client.post(f"/cases/{seeded['case']}/claim", headers={"X-CSRF-Token": token})
    return seeded, token


async def test_the_survey_case_form_shows_and_corrects_contacts_and_places(
        client: TestClient, database: Database) -> None:
    client.server.app[CONSOLE].results_outbox = True  # results are pushed: the correction goes too
    seeded, token = await _claimed(client, database)
    page = await (await client.get(f"/cases/{seeded['case']}")).text()
    assert 'name="slot_contacts"' in page and 'name="slot_places"' in page
    assert "密接人员（姓名/关系/电话）" in page and "到访地点及时间" in page  # the script's titles
    assert "王芳 spouse +8613812345678" in page  # en-US reader: the relation in English
    assert "前天下午 西关十字的超市" in page
    assert 'name="slot_health_code"' not in page and 'name="slot_notice_ack"' not in page
    assert 'name="notice_reason"' not in page  # the survey reads no prevention notice
    resp = await client.post(f"/cases/{seeded['case']}/resolve", data={
        "csrf": token, "action": "close",
        "slot_contacts": "王芳 spouse +8613812345678\n李明 同事 13909312233\n张强 friend",
        "was_contacts": "王芳 spouse +8613812345678\n李明 colleague",
        "slot_places": "前天下午 西关十字的超市\n昨天上午 市第一人民医院",
        "was_places": "前天下午 西关十字的超市"}, allow_redirects=False)
    assert resp.status == 303, await resp.text()
    rows = database.run(lambda s: {r.slot: r for r in s.exec(select(Result).where(
        Result.attempt_id == seeded["attempt"])).all()}, write=False)
    assert rows["contacts"].source == "operator" and rows["contacts"].value == [
        {"name": "王芳", "relation": "spouse", "phone": "+8613812345678"},
        {"name": "李明", "relation": "colleague", "phone": "+8613909312233"},
        {"name": "张强", "relation": "friend", "phone": None}]
    assert rows["places"].value[1] == {"place": "市第一人民医院", "when": "昨天上午"}
    pushed = database.run(lambda s: s.exec(select(WebhookDelivery)).one(), write=False)
    assert pushed.payload["slots"]["contacts"] == rows["contacts"].value
    assert pushed.payload["slots"]["places"] == rows["places"].value


async def test_a_bad_contact_number_is_refused_and_named(client: TestClient, database: Database) -> None:
    seeded, token = await _claimed(client, database)
    resp = await client.post(f"/cases/{seeded['case']}/resolve", data={
        "csrf": token, "action": "close", "slot_contacts": "王芳 配偶 12345678901", "was_contacts": ""})
    assert resp.status == 400
    page = await resp.text()
    assert "密接人员（姓名/关系/电话）" in page and "phone number is not valid" in page
    assert "12345678901" in page  # what was typed is kept
    value = database.run(lambda s: s.exec(select(Result).where(Result.slot == "contacts")).one().value, write=False)
    assert value == SURVEY_CONTACTS


async def test_an_unchanged_form_corrects_nothing(client: TestClient, database: Database) -> None:
    seeded, token = await _claimed(client, database)
    page = await (await client.get(f"/cases/{seeded['case']}")).text()
    shown = "王芳 spouse +8613812345678\n李明 colleague"
    assert shown in page
    resp = await client.post(f"/cases/{seeded['case']}/resolve", data={
        "csrf": token, "action": "close", "slot_contacts": shown, "was_contacts": shown,
        "slot_places": "前天下午 西关十字的超市", "was_places": "前天下午 西关十字的超市"}, allow_redirects=False)
    assert resp.status == 303
    sources = database.run(lambda s: {r.slot: r.source for r in s.exec(select(Result)).all()}, write=False)
    assert "operator" not in sources.values()


async def test_survey_results_and_plain_export_carry_contacts_and_places(
        client: TestClient, database: Database) -> None:
    add_users(database, ("admin1", "admin"))
    seeded = seed_survey_case(database)
    await login(client, "admin1")
    base = f"/campaigns/{seeded['campaign']}"
    page = await (await client.get(f"{base}/results")).text()
    assert "密接人员（姓名/关系/电话）" in page and "王芳（spouse） +86138****5678" in page  # masked in the list
    assert "西关十字的超市" in page
    export = await client.get(f"{base}/export.csv?layout=plain")
    rows = list(csv.reader(io.StringIO((await export.read()).decode("utf-8-sig"))))
    head = rows[0]
    assert head.index("identity") < head.index("contacts") < head.index("places")  # the script's order
    assert "health_code" not in head  # not a question of this script
    assert "王芳" in rows[1][head.index("contacts")] and "西关十字的超市" in rows[1][head.index("places")]

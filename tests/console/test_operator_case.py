"""The operator's case: typed values survive a mistake, only changed fields are corrections,
the notice cannot be skipped silently, the queue says who holds what, one playback is one
audit row, and the dashboard counts people."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from sqlmodel import select

from storage.db import Database
from storage.models import Attempt, AttemptState, AuditEvent, Escalation, EscalationStatus, Result, Turn

from .conftest import claim_seeded_case, csrf_of, login
from .seed import add_users, seed_cases
from .test_audio import write_wav


async def test_a_bad_value_keeps_everything_the_operator_typed(client: TestClient, database: Database) -> None:
    case_id, token = await claim_seeded_case(client, database)
    resp = await client.post(f"/cases/{case_id}/resolve", data={
        "csrf": token, "action": "close", "slot_health_code": "red", "slot_nat_count": "two",
        "slot_residence": "城关区张掖路88号", "note": "回拨确认", "notice_reason": "电话告知"})
    assert resp.status == 400
    page = await resp.text()
    assert "近7天核酸次数" in page and "whole number" in page  # the field named by its script's title
    assert 'value="two"' in page and 'value="城关区张掖路88号"' in page and "回拨确认" in page
    assert '<option value="red" selected>' in page and 'value="电话告知"' in page
    esc = database.run(lambda s: s.get(Escalation, case_id), write=False)
    assert esc.status == EscalationStatus.CLAIMED  # nothing was saved


async def test_an_untouched_address_is_not_a_correction(client: TestClient, database: Database) -> None:
    ids = seed_cases(database)
    case_id = ids["cases"][0]

    def parsed_address(s):
        esc = s.get(Escalation, case_id)
        s.add(Result(attempt_id=esc.attempt_id, person_id=esc.person_id, campaign_id=esc.campaign_id,
                     slot="residence", value={"raw": "城关区张掖路1号", "province": "甘肃省", "district": "城关区"}))

    database.run(parsed_address)
    add_users(database, ("op1", "operator"))
    await login(client, "op1")
    token = await csrf_of(client)
    await client.post(f"/cases/{case_id}/claim", headers={"X-CSRF-Token": token})
    page = await (await client.get(f"/cases/{case_id}")).text()
    assert 'value="城关区张掖路1号"' in page  # the address as heard, ready to edit
    resp = await client.post(f"/cases/{case_id}/resolve", allow_redirects=False, data={
        "csrf": token, "action": "close", "slot_residence": "城关区张掖路1号", "slot_identity": "yes",
        "slot_health_code": "green", "slot_notice_ack": "yes"})
    assert resp.status == 303
    rows = database.run(lambda s: {r.slot: (r.value, r.source) for r in s.exec(select(Result)).all()
                                   if r.person_id == s.get(Escalation, case_id).person_id}, write=False)
    assert rows["residence"] == ({"raw": "城关区张掖路1号", "province": "甘肃省", "district": "城关区"}, "bot")
    assert rows["identity"] == ("yes", "bot")  # the same value again is no correction
    assert rows["health_code"] == ("green", "operator")


async def test_closing_without_the_notice_asks_for_the_reason(client: TestClient, database: Database) -> None:
    case_id, token = await claim_seeded_case(client, database)
    refused = await client.post(f"/cases/{case_id}/resolve", data={"csrf": token, "action": "close"})
    assert refused.status == 400 and "prevention notice was not acknowledged" in await refused.text()
    done = await client.post(f"/cases/{case_id}/resolve", allow_redirects=False, data={
        "csrf": token, "action": "close", "note": "回拨", "notice_reason": "坐席已电话告知"})
    assert done.status == 303
    esc = database.run(lambda s: s.get(Escalation, case_id), write=False)
    assert esc.status == EscalationStatus.RESOLVED and "坐席已电话告知" in esc.note and esc.note.startswith("回拨")
    # handing back to the bot needs no reason: the bot will give the notice
    case2 = seed_cases(database)["cases"][1]
    await client.post(f"/cases/{case2}/claim", headers={"X-CSRF-Token": token})
    back = await client.post(f"/cases/{case2}/resolve", allow_redirects=False,
                             data={"csrf": token, "action": "return_to_bot"})
    assert back.status == 303


async def test_the_queue_names_the_holder_and_offers_no_claim_on_a_held_case(client: TestClient,
                                                                             database: Database) -> None:
    add_users(database, ("op2", "operator"))
    case_id, token = await claim_seeded_case(client, database)
    await login(client, "op2")
    page = await (await client.get("/queue")).text()
    row = page.split(f'data-case="{case_id}"', 1)[1].split("</tr>", 1)[0]
    assert "op1" in row and "held by another operator" in row and "Claim" not in row
    assert "张伟" in row and "Answers not understood" in row


async def test_one_playback_is_one_audit_row(client: TestClient, database: Database, tmp_path) -> None:
    case_id, token = await claim_seeded_case(client, database)
    clip = tmp_path / "var" / "calls" / "turn.wav"  # under the console's var/
    write_wav(clip)

    def attach(s):
        esc = s.get(Escalation, case_id)
        turn = s.exec(select(Turn).where(Turn.attempt_id == esc.attempt_id, Turn.speaker == "caller")).first()
        turn.audio_path = str(clip)
        s.add(turn)
        return turn.id

    turn_id = database.run(attach)
    url = f"/cases/{case_id}/audio/{turn_id}"
    # what chromium does for one press of play: a probe from 0, then ranges further in
    for rng in ("bytes=0-", "bytes=0-", "bytes=44-", "bytes=1000-", None):
        resp = await client.get(url, headers={"Range": rng} if rng else {})
        assert resp.status in (200, 206)
    plays = database.run(lambda s: [a for a in s.exec(select(AuditEvent)).all()
                                    if a.action == "case.audio_playback"], write=False)
    assert len(plays) == 1


async def test_the_dashboard_counts_people_not_stored_results(client: TestClient, database: Database) -> None:
    add_users(database, ("viewer1", "viewer"))
    seeded = seed_cases(database)

    def call_again(s, person_id: int, value: str) -> None:
        attempt = Attempt(person_id=person_id, campaign_id=seeded["campaign"], phone="+8613000000000",
                          state=AttemptState.ENDED, outcome="completed")
        s.add(attempt)
        s.flush()
        s.add(Result(attempt_id=attempt.id, person_id=person_id, campaign_id=seeded["campaign"],
                     slot="health_code", value=value))

    def stored_twice(s):  # a resumed call stores its slots again; a later call changes one
        people = [r.person_id for r in s.exec(select(Result).where(Result.campaign_id == seeded["campaign"])).all()]
        for person_id in people:
            call_again(s, person_id, "green")
            call_again(s, person_id, "green")
        call_again(s, people[0], "yellow")

    database.run(stored_twice)
    await login(client, "viewer1")
    figures = await (await client.get(f"/dashboard.json?campaign={seeded['campaign']}")).json()
    assert figures["health_codes"] == {"green": 2, "yellow": 1}  # three people, the latest value each
    assert figures["people"] == 3 and figures["people_rates"]["escalation"] == 1.0
    assert figures["labels"]["green"] == "Green"
    zh = await (await client.get(f"/dashboard.json?campaign={seeded['campaign']}",
                                 headers={"Accept-Language": "zh-CN"})).json()
    assert zh["labels"]["green"] == "绿码" and zh["labels"]["unresolved"] == "回答未能识别"


async def test_handing_back_reopens_a_finished_campaign_and_says_when(client: TestClient,
                                                                       database: Database) -> None:
    from storage.models import Campaign, CampaignStatus

    case_id, token = await claim_seeded_case(client, database)

    def finish(s):
        camp = s.get(Campaign, s.get(Escalation, case_id).campaign_id)
        camp.status, camp.window_start, camp.window_end = CampaignStatus.DONE, "00:00", "00:00"  # all day
        s.add(camp)

    database.run(finish)
    resp = await client.post(f"/cases/{case_id}/resolve", data={"csrf": token, "action": "return_to_bot"},
                             headers={"Accept-Language": "zh-CN"})
    assert resp.status == 200 and str(resp.url).endswith(f"/queue?back={case_id}")
    page = await resp.text()
    assert f"工单 #{case_id} 已交回机器人：将于 " in page and "Asia/Shanghai" in page
    camp = database.run(lambda s: s.get(Campaign, s.get(Escalation, case_id).campaign_id), write=False)
    assert camp.status == CampaignStatus.RUNNING
    actions = database.run(lambda s: [a.action for a in s.exec(select(AuditEvent)).all()], write=False)
    assert "campaign.reopened" in actions


def test_a_long_wait_reads_in_hours() -> None:
    from bot.console.i18n import translations
    from bot.console.views_cases import _wait

    zh = translations("zh-CN").gettext
    assert _wait(zh, 42) == "42 分钟" and _wait(zh, 125) == "2 小时 5 分钟"
    assert _wait(translations("en-US").gettext, 125) == "2 h 5 min"

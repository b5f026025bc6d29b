"""The whole call on record in the console (issue 25 item 3): the campaign form turns the option
on and off (audited), and a case whose call was recorded has a stereo player served by the audited
case-audio view (ids only in the URL); without the file, no player and a 404."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient
from sqlmodel import select

from audio.call_recording import FILE_NAME, CallRecording
from storage.db import Database
from storage.models import Attempt, AuditEvent, Campaign, Escalation

from .conftest import csrf_of, login
from .seed import add_users, seed_cases

ZH = {"Accept-Language": "zh-CN"}


async def test_campaign_form_turns_whole_call_recording_on_and_off(client: TestClient, database: Database) -> None:
    add_users(database, ("admin1", "admin"))
    seed_cases(database)
    cid = database.run(lambda s: s.exec(select(Campaign.id)).first(), write=False)
    await login(client, "admin1")
    page = await (await client.get(f"/campaigns/{cid}", headers=ZH)).text()
    assert 'name="record_calls" value="1">' in page and "录制每通电话全程" in page  # off by default
    token = await csrf_of(client, f"/campaigns/{cid}")
    form = {"csrf": token, "window_start": "09:00", "window_end": "20:00", "timezone": "Asia/Shanghai",
            "concurrency": "4", "priority": "5"}
    assert (await client.post(f"/campaigns/{cid}/settings", data={**form, "record_calls": "1"},
                              allow_redirects=False)).status == 303
    assert database.run(lambda s: s.get(Campaign, cid).record_calls, write=False) is True
    page = await (await client.get(f"/campaigns/{cid}")).text()
    assert 'name="record_calls" value="1" checked>' in page
    assert (await client.post(f"/campaigns/{cid}/settings", data=form, allow_redirects=False)).status == 303
    assert database.run(lambda s: s.get(Campaign, cid).record_calls, write=False) is False
    changes = database.run(lambda s: [e.detail for e in s.exec(select(AuditEvent)).all()
                                      if e.action == "campaign.settings"], write=False)
    assert all("record_calls" in c for c in changes[-2:])


async def test_case_page_plays_the_whole_call(client: TestClient, database: Database, tmp_path: Path) -> None:
    add_users(database, ("op1", "operator"))
    case_id = seed_cases(database)["cases"][0]
    audio_dir = tmp_path / "calls" / "attempt-1"

    def attach(s):
        attempt = s.get(Attempt, s.get(Escalation, case_id).attempt_id)
        attempt.audio_dir = str(audio_dir)
        s.add(attempt)
        return attempt.id

    attempt_id = database.run(attach)
    await login(client, "op1")
    token = await csrf_of(client)
    await client.post(f"/cases/{case_id}/claim", headers={"X-CSRF-Token": token})
    page = await (await client.get(f"/cases/{case_id}", headers=ZH)).text()
    assert "/audio/call" not in page  # nothing recorded: no player
    assert (await client.get(f"/cases/{case_id}/audio/call")).status == 404

    rec = CallRecording.open(audio_dir)
    rec.heard(b"\x10\x00" * 8000)
    rec.sent(b"\x20\x00" * 4000)
    await rec.aclose()
    assert (audio_dir / FILE_NAME).is_file()
    page = await (await client.get(f"/cases/{case_id}", headers=ZH)).text()
    assert f'src="/cases/{case_id}/audio/call"' in page and "通话全程录音" in page and "左声道：机器人" in page
    for _ in range(2):  # one playback, fetched twice (the browser's range requests): audited once
        resp = await client.get(f"/cases/{case_id}/audio/call")
        assert resp.status == 200 and resp.headers["Content-Type"] == "audio/wav"
        assert (await resp.read())[:4] == b"RIFF"
    plays = database.run(lambda s: [a.target_id for a in s.exec(select(AuditEvent)).all()
                                    if a.action == "case.call_playback"], write=False)
    assert plays == [str(attempt_id)]

"""Caller audio on the case page: served only from the call's own audio directory, audited."""

from __future__ import annotations

import wave
from pathlib import Path

from aiohttp.test_utils import TestClient
from sqlmodel import select

from storage.db import Database
from storage.models import Attempt, AuditEvent, Escalation, Turn

from .conftest import csrf_of, login
from .seed import add_users, seed_cases


def write_wav(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 800)


async def test_caller_audio_plays_and_is_audited(client: TestClient, database: Database, tmp_path: Path) -> None:
    add_users(database, ("op1", "operator"))
    case_id = seed_cases(database)["cases"][0]
    audio_dir = tmp_path / "calls" / "attempt-1"
    clip = audio_dir / "turn-1.wav"
    write_wav(clip)
    outside = tmp_path / "elsewhere.wav"
    write_wav(outside)

    def attach(s):
        esc = s.get(Escalation, case_id)
        attempt = s.get(Attempt, esc.attempt_id)
        attempt.audio_dir = str(audio_dir)
        turns = s.exec(select(Turn).where(Turn.attempt_id == esc.attempt_id, Turn.speaker == "caller")).all()
        turns[0].audio_path = str(clip)
        turns[1].audio_path = str(outside)  # not under the call's directory: never served
        s.add_all([attempt, *turns])
        return [t.id for t in turns]

    good, bad = database.run(attach)
    await login(client, "op1")
    token = await csrf_of(client)
    await client.post(f"/cases/{case_id}/claim", headers={"X-CSRF-Token": token})
    page = await (await client.get(f"/cases/{case_id}")).text()
    assert f'src="/cases/{case_id}/audio/{good}"' in page
    resp = await client.get(f"/cases/{case_id}/audio/{good}")
    assert resp.status == 200 and resp.headers["Content-Type"] == "audio/wav"
    assert (await resp.read())[:4] == b"RIFF"
    assert (await client.get(f"/cases/{case_id}/audio/{bad}")).status == 404
    plays = database.run(lambda s: [a for a in s.exec(select(AuditEvent)).all()
                                    if a.action == "case.audio_playback"], write=False)
    assert [p.target_id for p in plays] == [str(good)]

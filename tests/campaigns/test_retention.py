"""Retention purge: records past their campaign's retention are gone from every table and file;
everything else is untouched; anonymised counts remain."""

from __future__ import annotations

from datetime import timedelta

from campaign_fakes import T0, Clock, ScriptedRunner, add_campaign, answered, settle
from sqlalchemy import func
from sqlmodel import SQLModel, select

from bot.calls import CallResult
from bot.campaigns.dialing.dialer import Dialer
from bot.campaigns.people.retention import purge
from storage.models import Person, Tally, WebhookDelivery


def snapshot(db):
    """Every row of every table, as text (tally and audit excluded: they grow by design)."""

    def read(s):
        out = {}
        for t in SQLModel.metadata.sorted_tables:
            if t.name in ("tally", "audit_event"):
                continue
            out[t.name] = {repr(tuple(r)) for r in s.execute(t.select()).all()}
        return out

    return db.run(read, write=False)


async def test_purge_removes_old_records_everywhere_and_keeps_the_rest(db, tmp_path):
    audio = tmp_path / "var" / "audio"
    clock = Clock()

    def with_audio(req):
        d = audio / str(req.attempt_id)
        d.mkdir(parents=True)
        (d / "caller-1.wav").write_bytes(b"RIFF")
        r = answered("completed", {"identity": "yes", "residence": {"raw": "兰州市城关区张掖路1号", "district": "城关区"},
                                   "health_code": "green"})
        return CallResult(r.network, record=r.record, sip_status=200, audio_dir=str(d))

    old = add_campaign(db, "old", people=[("+8613800000001", 1), ("+8613800000002", 1)], retention_days=7)
    dialer = Dialer(db, ScriptedRunner(with_audio), worker_id="w", clock=clock, outbox=True)
    await dialer.tick()
    await settle(dialer)
    clock.advance(3 * 86400)
    keep = add_campaign(db, "keep", people=[("+8613900000001", 1)], retention_days=7)
    await dialer.tick()
    await settle(dialer)
    assert db.run(lambda s: s.exec(select(func.count()).select_from(WebhookDelivery)).one()) == 3
    old_dirs = [audio / d for d in ("1", "2")]
    assert all(d.exists() for d in old_dirs)
    # the 'keep' person was touched 3 days after the others: at day 8 only the old ones are due
    before = snapshot(db)
    report = purge(db, T0 + timedelta(days=8), [tmp_path / "var"])
    assert (report.people, report.attempts, report.files) == (2, 2, 2)
    after = snapshot(db)
    assert not any(d.exists() for d in old_dirs) and (audio / "3").exists()
    for table, rows in after.items():
        assert rows <= before[table], table  # nothing new, nothing changed
    gone = sum(len(before[t] - after[t]) for t in before)
    assert gone == 2 + 2 + 2 * 3 + 2 * 2 + 2  # people, attempts, results, turns, webhook deliveries
    leftover = "\n".join(r for rows in after.values() for r in rows)
    assert "+8613800000001" not in leftover and "+8613800000002" not in leftover
    assert "+8613900000001" in leftover and "兰州市城关区张掖路1号" in leftover  # the kept person's result
    people = db.run(lambda s: s.exec(select(Person)).all())
    assert [(p.campaign_id, p.phone) for p in people] == [(keep, "+8613900000001")]
    tallies = {(t.campaign_id, t.metric, t.value): t.count for t in db.run(lambda s: s.exec(select(Tally)).all())}
    assert tallies[(old, "outcome", "completed")] == 2
    assert tallies[(old, "slot:residence", "城关区")] == 2
    assert not any("张掖路" in k[2] for k in tallies)


async def test_erasure_on_request_takes_one_person(db, tmp_path):
    clock = Clock()
    add_campaign(db, "c", people=[("+8613800000001", 1), ("+8613800000002", 1)])
    dialer = Dialer(db, ScriptedRunner(), worker_id="w", clock=clock)
    await dialer.tick()
    await settle(dialer)
    pid = db.run(lambda s: s.exec(select(Person.id).where(Person.phone == "+8613800000001")).one())
    purge(db, clock.now, [tmp_path], person_ids=[pid], why="request")
    assert [p.phone for p in db.run(lambda s: s.exec(select(Person)).all())] == ["+8613800000002"]
    assert "+8613800000001" not in "\n".join(r for rows in snapshot(db).values() for r in rows)

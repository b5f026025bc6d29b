"""The escalation queue: ordering, claims enforced in the database, resolution, hand-back."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlmodel import select

from bot.console import cases
from bot.console.slots import fields_of
from bot.dialog.script import load_script
from storage.db import Database
from storage.models import AuditEvent, Escalation, EscalationStatus, Person, PersonState, Result, utcnow

from .conftest import claim_seeded_case, csrf_of, login
from .seed import add_users, escalated_call, seed_cases


def test_queue_is_ordered_by_priority_then_age_and_names_people_without_phones(database: Database) -> None:
    ids = seed_cases(database)
    rows = database.run(cases.queue, write=False)
    assert [r["priority"] for r in rows] == [1, 2, 5]
    # same priority: the older case first
    def add_older(s):
        from storage.models import Campaign

        camp = s.get(Campaign, ids["campaign"])
        person = Person(campaign_id=camp.id, name="Old Timer", phone="+8613600000000", priority=2)
        s.add(person)
        s.flush()
        return escalated_call(s, camp, person, minutes_ago=600).id

    older = database.run(add_older)
    rows = database.run(cases.queue, write=False)
    assert [r["id"] for r in rows][1] == older
    assert rows[0]["name"] == "张伟"  # operators see whom they will call back
    text = repr(rows)
    for needle in ("+8613912345678", "8613600000000", "兰州市城关区张掖路1号"):
        assert needle not in text


def test_two_operators_racing_for_one_case_exactly_one_wins(database: Database) -> None:
    ids = add_users(database, *[(f"op{i}", "operator") for i in range(6)])
    case_id = seed_cases(database)["cases"][0]
    barrier = threading.Barrier(len(ids))
    wins: list[str] = []
    losses: list[str] = []

    def attempt(name: str, user_id: int) -> None:
        barrier.wait()
        try:
            database.run(lambda s: cases.claim(s, case_id, user_id, 15))
            wins.append(name)
        except cases.CaseError as exc:
            assert exc.code == "taken"
            losses.append(name)

    threads = [threading.Thread(target=attempt, args=item) for item in ids.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1 and len(losses) == len(ids) - 1
    esc = database.run(lambda s: s.get(Escalation, case_id), write=False)
    assert esc.claimed_by == ids[wins[0]]


def test_an_abandoned_claim_expires(database: Database) -> None:
    ids = add_users(database, ("op1", "operator"), ("op2", "operator"))
    case_id = seed_cases(database)["cases"][0]
    database.run(lambda s: cases.claim(s, case_id, ids["op1"], 15))
    with pytest.raises(cases.CaseError):
        database.run(lambda s: cases.claim(s, case_id, ids["op2"], 15))
    later = utcnow() + timedelta(minutes=16)
    assert database.run(lambda s: cases.holder(s, case_id, now=later), write=False) is None
    database.run(lambda s: cases.claim(s, case_id, ids["op2"], 15, now=later))
    assert database.run(lambda s: cases.holder(s, case_id, now=later), write=False) == ids["op2"]
    # the first operator can no longer resolve it
    with pytest.raises(cases.CaseError):
        database.run(lambda s: cases.resolve(s, case_id, ids["op1"], {}, "", cases.Resolution.CLOSE))


FIELDS = fields_of(load_script(Path(__file__).resolve().parents[2] / "dialogs" / "verification.zh-CN.yaml"))


def test_bad_slot_values_are_refused() -> None:
    with pytest.raises(cases.CaseError, match="health_code"):
        cases.parse_slots({"slot_health_code": "purple"}, FIELDS)
    with pytest.raises(cases.CaseError, match="nat_count"):
        cases.parse_slots({"slot_nat_count": "-1"}, FIELDS)
    slots = cases.parse_slots({"slot_nat_count": "3", "slot_residence": "城关区1号", "slot_identity": ""}, FIELDS)
    assert set(slots) == {"nat_count", "residence"} and slots["nat_count"] == 3
    # a typed address is parsed like a spoken one, the text kept as typed
    assert slots["residence"]["raw"] == "城关区1号" and slots["residence"]["district"] == "城关区"


async def test_operator_claims_corrects_and_closes(client: TestClient, database: Database) -> None:
    ids = add_users(database, ("op1", "operator"))
    case_id = seed_cases(database)["cases"][0]
    await login(client, "op1")
    token = await csrf_of(client)
    claim = await client.post(f"/cases/{case_id}/claim", headers={"X-CSRF-Token": token})
    assert (await claim.json())["url"] == f"/cases/{case_id}"
    page = await (await client.get(f"/cases/{case_id}")).text()
    assert "嗯 那个 不太清楚" in page and "confidence 0.41" in page
    assert 'class="slot unresolved" data-slot="health_code"' in page
    resp = await client.post(f"/cases/{case_id}/resolve", allow_redirects=False, data={
        "csrf": token, "action": "close", "slot_health_code": "green", "slot_nat_count": "2", "slot_notice_ack": "yes",
        "note": "called back"})
    assert resp.status == 303
    esc = database.run(lambda s: s.get(Escalation, case_id), write=False)
    assert esc.status == EscalationStatus.RESOLVED and esc.resolved_by == ids["op1"] and esc.resolved_at
    assert esc.resolution == {"health_code": "green", "nat_count": 2, "notice_ack": "yes"}
    assert esc.note == "called back"
    results = database.run(lambda s: {r.slot: (r.value, r.source) for r in s.exec(
        select(Result).where(Result.person_id == esc.person_id)).all()}, write=False)
    assert results["health_code"] == ("green", "operator") and results["identity"] == ("yes", "bot")
    person = database.run(lambda s: s.get(Person, esc.person_id), write=False)
    assert person.state == PersonState.COMPLETED
    actions = database.run(lambda s: [a.action for a in s.exec(select(AuditEvent)).all()], write=False)
    assert {"case.claim", "case.view", "case.close"} <= set(actions)
    details = database.run(lambda s: " ".join(a.detail for a in s.exec(select(AuditEvent)).all()), write=False)
    assert "green" not in details  # which slots changed, never their values


async def test_hand_back_to_the_bot_makes_the_person_due_again(client: TestClient, database: Database) -> None:
    case_id, token = await claim_seeded_case(client, database, 1)
    resp = await client.post(f"/cases/{case_id}/resolve", allow_redirects=False,
                             data={"csrf": token, "action": "return_to_bot", "slot_health_code": "yellow"})
    assert resp.status == 303
    esc = database.run(lambda s: s.get(Escalation, case_id), write=False)
    person = database.run(lambda s: s.get(Person, esc.person_id), write=False)
    assert esc.status == EscalationStatus.RETURNED_TO_BOT
    assert person.state == PersonState.PENDING and person.next_attempt_at is None
    # the case left the queue
    queue = await (await client.get("/queue.json")).json()
    assert case_id not in [c["id"] for c in queue["cases"]]


async def test_resolving_without_a_claim_is_refused(client: TestClient, database: Database) -> None:
    add_users(database, ("op1", "operator"))
    case_id = seed_cases(database)["cases"][0]
    await login(client, "op1")
    token = await csrf_of(client)
    resp = await client.post(f"/cases/{case_id}/resolve", data={"csrf": token, "action": "close"})
    assert resp.status == 400
    esc = database.run(lambda s: s.get(Escalation, case_id), write=False)
    assert esc.status == EscalationStatus.OPEN


async def test_queue_stream_sends_the_queue(client: TestClient, database: Database) -> None:
    add_users(database, ("op1", "operator"))
    seed_cases(database)
    await login(client, "op1")
    resp = await client.get("/queue/stream")
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    first = await resp.content.readuntil(b"\n\n")
    assert first.startswith(b"event: queue\ndata: ")
    assert len(__import__("json").loads(first.split(b"data: ", 1)[1])["cases"]) == 3
    resp.close()


def test_a_handed_back_person_is_redialled_with_the_operators_answers(database: Database) -> None:
    """The seam with the dialer: hand-back makes the person due, and the next call starts with
    the slots known so far (the operator's corrections included), so it skips those asks."""
    from bot.campaigns.dialing.claims import claim_due

    ids = add_users(database, ("op1", "operator"))
    seeded = seed_cases(database)
    case_id = seeded["cases"][0]
    database.run(lambda s: cases.claim(s, case_id, ids["op1"], 15))
    database.run(lambda s: cases.resolve(s, case_id, ids["op1"], {"health_code": "green"}, "",
                                         cases.Resolution.RETURN_TO_BOT))
    claims = database.run(lambda s: claim_due(s, seeded["campaign"], want=5, worker="test", clock=utcnow,
                                              ttl=timedelta(minutes=10)))
    esc = database.run(lambda s: s.get(Escalation, case_id), write=False)
    assert [c.person_id for c in claims] == [esc.person_id]
    assert claims[0].prefilled == {"identity": "yes", "health_code": "green"}


async def test_queue_stream_ends_when_the_session_ends(client: TestClient, database: Database) -> None:
    from bot.console import auth

    ids = add_users(database, ("op1", "operator"))
    seed_cases(database)
    await login(client, "op1")
    resp = await client.get("/queue/stream")
    assert (await resp.content.readuntil(b"\n\n")).startswith(b"event: queue")
    database.run(lambda s: auth.set_disabled(s, ids["op1"], True))
    rest = await resp.content.read()  # returns once the server closes the stream
    assert b"event: queue" not in rest
    resp.close()


async def test_only_changed_slots_are_recorded_as_the_operators(client: TestClient, database: Database) -> None:
    case_id, token = await claim_seeded_case(client, database, 0)
    page = await (await client.get(f"/cases/{case_id}")).text()
    # the known identity is offered as "keep", not re-submitted as a correction
    assert "— keep: Yes —" in page and 'value="yes" selected' not in page
    await client.post(f"/cases/{case_id}/resolve", data={"csrf": token, "action": "close", "slot_identity": "",
                                                        "slot_health_code": "red", "notice_reason": "told on the phone"})
    esc = database.run(lambda s: s.get(Escalation, case_id), write=False)
    sources = database.run(lambda s: {r.slot: r.source for r in s.exec(
        select(Result).where(Result.person_id == esc.person_id)).all()}, write=False)
    assert sources == {"identity": "bot", "health_code": "operator"}


@pytest.mark.parametrize("outbox", [False, True])
def test_a_closed_case_is_pushed_to_the_health_department_when_results_are(database: Database, outbox: bool) -> None:
    from storage.models import WebhookDelivery

    ids = add_users(database, ("op1", "operator"))
    case_id = seed_cases(database)["cases"][0]
    database.run(lambda s: cases.claim(s, case_id, ids["op1"], 15))
    database.run(lambda s: cases.resolve(s, case_id, ids["op1"], {"health_code": "green"}, "", cases.Resolution.CLOSE,
                                         outbox=outbox))
    rows = database.run(lambda s: s.exec(select(WebhookDelivery)).all(), write=False)
    if not outbox:
        assert rows == []
        return
    assert [r.idempotency_key for r in rows] == [f"resolution-{case_id}"]
    assert rows[0].payload["slots"]["health_code"] == "green"
    assert rows[0].payload["outcome"] == "resolved_by_operator"

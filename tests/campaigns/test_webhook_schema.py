"""The webhook payload against its versioned JSON Schema (schemas/result.v1.json), and
`veribot webhook resend` sending dead letters again to a real local endpoint."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest
from aiohttp import web
from campaign_fakes import Clock, add_campaign
from sqlmodel import select

from bot.attempt.attempt import Attempt as CallAttempt
from bot.calls import CallResult, NetworkOutcome
from bot.campaigns.dialing import claims as ops
from bot.campaigns.dialing.policy import RetryPolicy
from bot.campaigns.results.webhook import SCHEMA, enqueue, verify
from bot.config import load_config
from bot.dialog.script import load_script
from bot.simulate import run_text
from storage.db import Database
from storage.models import DeliveryStatus, Escalation, WebhookDelivery, utcnow

ROOT = Path(__file__).resolve().parents[2]
RESULT_V1 = json.loads((ROOT / "schemas" / "result.v1.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(RESULT_V1, format_checker=jsonschema.FormatChecker())
VARS = {"agency": "兰州市公安局", "callback_number": "96110", "caller_id": "96110"}
SECRET = "resend-secret"
COOPERATIVE = ["是 的", "我 住 在 城关区 白银 路", "绿 码", "没有", "两 次", "阴性", "好的"]


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(RESULT_V1)
    assert RESULT_V1["properties"]["schema"]["const"] == SCHEMA


async def _payload(db, dialog: str, answers: list[str], network=NetworkOutcome.ANSWERED) -> dict:
    clock = Clock()
    cid = add_campaign(db, people=[("+8613800000001", 1)])
    claim = db.run(lambda s: ops.claim_due(s, cid, 1, "w1", clock, timedelta(seconds=600)))[0]
    record = run_text(load_script(ROOT / "dialogs" / dialog), claim.person, answers, VARS).record
    result = CallResult(network, record=record if network is NetworkOutcome.ANSWERED else None, sip_status=200)
    await CallAttempt(db, claim, clock=clock, outbox=True).settle(result, RetryPolicy.from_json(
        {"powered_off": {"max_attempts": 1}}))
    return db.run(lambda s: s.exec(select(WebhookDelivery)).one().payload, write=False)


async def test_a_verification_result_is_valid(db):
    body = await _payload(db, "verification.zh-CN.yaml", COOPERATIVE)
    VALIDATOR.validate(body)
    assert body["schema"] == "veribot.result/v1" and body["slots"]["health_code"] == "green"


async def test_a_tracing_result_with_contacts_and_places_is_valid(db):
    body = await _payload(db, "survey.zh-CN.yaml", [
        "是", "同事 李 明 他 手机 是 一 三 九 零 九 三 一 二 二 三 三", "前天 下午 去 了 西关 十字 的 超市"])
    VALIDATOR.validate(body)
    assert body["slots"]["contacts"][0]["phone"] == "+8613909312233"


async def test_an_escalation_is_valid(db):
    VALIDATOR.validate(await _payload(db, "survey.zh-CN.yaml", ["是", "我 不 想 说", "不 告诉 你"]))


async def test_a_carrier_outcome_that_gives_up_is_valid(db):
    body = await _payload(db, "survey.zh-CN.yaml", [], network=NetworkOutcome.POWERED_OFF)
    VALIDATOR.validate(body)
    assert (body["outcome"], body["state"]) == ("powered_off", "failed")


async def test_an_operators_resolution_is_valid(db):
    from bot.attempt.attempt import Attempt
    from bot.console import auth

    clock = Clock()
    cid = add_campaign(db, people=[("+8613800000002", 1)])
    claim = db.run(lambda s: ops.claim_due(s, cid, 1, "w1", clock, timedelta(seconds=600)))[0]
    user = db.run(lambda s: auth.add_user(s, "op1", "operator", "correct horse battery staple"))

    def write(s):
        esc = Escalation(attempt_id=claim.attempt_id, person_id=claim.person_id, campaign_id=cid,
                         reason="unresolved", step="residence", status="claimed", claimed_by=user.id)
        s.add(esc)
        s.flush()
        Attempt.resolve(s, esc.id, user.id, {"health_code": "green"}, "", close=True, now=utcnow(), outbox=True)

    db.run(write)
    VALIDATOR.validate(db.run(lambda s: s.exec(select(WebhookDelivery)).one().payload, write=False))


@pytest.mark.parametrize("change", [
    lambda b: b["person"].pop("phone"),
    lambda b: b["person"].update(phone="13800000001"),  # not E.164
    lambda b: b["slots"].update(health_code="purple"),
    lambda b: b["slots"].update(contacts=[{"name": "李明", "relation": "colleague", "phone": "0931-1234"}]),
    lambda b: b.update(outcome="exploded"),
    lambda b: b.update(schema="veribot.result/v2"),
    lambda b: b.pop("at"),
])
async def test_the_schema_rejects_what_a_receiver_could_not_use(db, change):
    body = await _payload(db, "verification.zh-CN.yaml", COOPERATIVE)
    VALIDATOR.validate(body)
    change(body)
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate(body)


# ------------------------------------------------------------ veribot webhook resend
async def _resend(cfg: Path, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VERIBOT_WEBHOOK_SECRET": SECRET}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "webhook", "resend", *args,
                                                "--config", str(cfg), cwd=ROOT, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode, out.decode(), err.decode()


async def test_resend_sends_the_chosen_dead_letters_again(tmp_path):
    seen: list[tuple[str, dict, bool]] = []
    statuses = [200, 503]

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        ok = verify(SECRET, request.headers["X-Veribot-Timestamp"], body, request.headers["X-Veribot-Signature"])
        seen.append((request.headers["Idempotency-Key"], json.loads(body), ok))
        return web.Response(status=statuses.pop(0) if statuses else 200)

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[service]\nvar_dir = "{tmp_path / "var"}"\n[webhook]\nurl = "http://127.0.0.1:{port}/hook"\n',
                   encoding="utf-8")
    try:
        db = Database.from_config(load_config(cfg))
        db.upgrade()
        cid = add_campaign(db, people=[("+8613800000009", 1)])

        def dead(s):
            for i in range(3):
                enqueue(s, cid, None, {"attempt_id": i + 1, "outcome": "completed"}, utcnow(), key=f"k{i}")
            s.flush()
            for r in s.exec(select(WebhookDelivery)):
                r.status, r.tries, r.last_error = DeliveryStatus.DEAD, 8, "HTTP 503"
                s.add(r)

        db.run(dead)
        ids = db.run(lambda s: [r.id for r in s.exec(select(WebhookDelivery).order_by(WebhookDelivery.id))])
        db.dispose()

        code, _, err = await _resend(cfg, str(ids[0]), "9999")  # one is not a dead letter: nothing changes
        assert code == 2 and "9999" in err and seen == []

        code, out, err = await _resend(cfg, str(ids[0]))
        assert code == 0 and seen[0][0] == "k0" and seen[0][2] and seen[0][1]["schema"] == SCHEMA
        assert f"{ids[0]}\tdelivered" in out

        code, out, err = await _resend(cfg, "--all")  # the two left: one 503 again, one delivered
        assert code == 1 and "1 delivered, 1 still failing" in err
        assert sorted(k for k, _, _ in seen[1:]) == ["k1", "k2"]

        db = Database.from_config(load_config(cfg))
        rows = db.run(lambda s: {r.idempotency_key: (r.status, r.tries) for r in s.exec(select(WebhookDelivery))})
        db.dispose()
        assert sorted(rows.values()) == [("delivered", 1), ("delivered", 1), ("pending", 1)]  # the service retries
    finally:
        await runner.cleanup()

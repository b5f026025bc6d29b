"""Webhook push against a real local aiohttp server: signed body, idempotency key, retries with
backoff, at-least-once, dead letters."""

from __future__ import annotations

import json

import aiohttp
import pytest
from aiohttp import web
from campaign_fakes import Clock, ScriptedRunner, add_campaign, settle
from sqlmodel import select

from bot.campaigns.dialing.dialer import Dialer
from bot.campaigns.results.webhook import (
    Secret,
    WebhookPusher,
    WebhookSettings,
    dead_letters,
    requeue,
    verify,
)
from storage.models import WebhookDelivery

SECRET = "s3cret-for-tests"


class Receiver:
    """The health department's endpoint: answers from a script of statuses, then 200."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.seen: list[tuple[str, dict, bool]] = []  # (idempotency key, body, signature valid)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        ok = verify(SECRET, request.headers["X-Veribot-Timestamp"], body, request.headers["X-Veribot-Signature"])
        self.seen.append((request.headers["Idempotency-Key"], json.loads(body), ok))
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)


@pytest.fixture
async def server():
    receivers: list[Receiver] = []

    async def start(statuses):
        r = Receiver(statuses)
        app = web.Application()
        app.router.add_post("/hook", r.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        receivers.append(runner)
        return r, f"http://127.0.0.1:{port}/hook"

    yield start
    for runner in receivers:
        await runner.cleanup()


async def deliveries_after_calls(db, clock, n=2):
    add_campaign(db, people=[(f"+86138000000{i:02d}", 1) for i in range(n)])
    dialer = Dialer(db, ScriptedRunner(), worker_id="w", clock=clock, outbox=True)
    await dialer.tick()
    await settle(dialer)


async def test_signed_retried_with_backoff_then_delivered(db, server):
    clock = Clock()
    await deliveries_after_calls(db, clock)
    receiver, url = await server([503, 500])  # the first two posts fail
    pusher = WebhookPusher(db, WebhookSettings(url, Secret(SECRET), max_tries=5, backoff=60), clock=clock)
    async with aiohttp.ClientSession() as http:
        assert await pusher.push_due(http) == 0  # one 503, one 500
        assert await pusher.push_due(http) == 0  # not due yet: backoff
        clock.advance(59)
        assert await pusher.push_due(http) == 0
        clock.advance(1)
        assert await pusher.push_due(http) == 2
        clock.advance(3600)
        assert await pusher.push_due(http) == 0  # delivered rows are not sent again
    assert len(receiver.seen) == 4 and all(ok for _, _, ok in receiver.seen)
    keys = [k for k, _, _ in receiver.seen]
    assert sorted(set(keys)) == sorted(keys[2:]) and len(set(keys)) == 2  # retries carry the same key
    body = receiver.seen[-1][1]
    assert body["outcome"] == "completed" and body["slots"]["health_code"] == "green"
    assert body["person"]["phone"].startswith("+86138") and body["transcript"][0]["speaker"] == "bot"
    rows = db.run(lambda s: s.exec(select(WebhookDelivery)).all())
    assert {(r.status, r.tries) for r in rows} == {("delivered", 2)}


async def test_bad_signature_would_be_detected():
    assert not verify(SECRET, "1", b'{"a":1}', "sha256=" + "0" * 64)


async def test_permanent_errors_and_exhausted_tries_go_to_dead_letters(db, server):
    clock = Clock()
    await deliveries_after_calls(db, clock)
    receiver, url = await server([400] + [503] * 10)
    pusher = WebhookPusher(db, WebhookSettings(url, Secret(SECRET), max_tries=3, backoff=10), clock=clock)
    async with aiohttp.ClientSession() as http:
        for _ in range(5):
            await pusher.push_due(http)
            clock.advance(1000)
    dead = db.run(dead_letters)
    assert sorted((d["tries"], d["last_error"]) for d in dead) == [(1, "HTTP 400"), (3, "HTTP 503")]
    assert len(receiver.seen) == 4
    # an admin requeues them; the endpoint is healthy again -> delivered
    db.run(lambda s: requeue(s, [d["id"] for d in dead], clock.now))
    receiver.statuses = []
    async with aiohttp.ClientSession() as http:
        assert await pusher.push_due(http) == 2
    assert db.run(dead_letters) == []


async def test_unreachable_endpoint_is_retried(db):
    clock = Clock()
    await deliveries_after_calls(db, clock, n=1)
    pusher = WebhookPusher(db, WebhookSettings("http://127.0.0.1:9/hook", Secret(SECRET), max_tries=2,
                                               backoff=5, timeout=2), clock=clock)
    async with aiohttp.ClientSession() as http:
        assert await pusher.push_due(http) == 0
        row = db.run(lambda s: s.exec(select(WebhookDelivery)).one())
        assert (row.status, row.tries) == ("pending", 1) and row.last_error
        clock.advance(5)
        await pusher.push_due(http)
    assert db.run(lambda s: s.exec(select(WebhookDelivery)).one()).status == "dead"
    assert "s3cret" not in repr(pusher.settings)

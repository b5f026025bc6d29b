"""Fakes for the dialer tests: an injectable clock, scripted runners, a text-conversation runner;
the main loop of their worker scripts and the no-double-dialling check of their crash tests."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from bot.calls import CallRequest, CallResult, NetworkOutcome
from bot.dialog.events import CallRecord, Escalate, EscalationReason, Note, Outcome, Speaker, Turn
from bot.simulate import parse_answer
from storage.models import Attempt, Campaign, CampaignStatus, Person

# 10:00 in Shanghai: inside the default 09:00–20:00 window
T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
SLOTS = ["identity", "residence", "health_code", "isolation", "nat_count", "nat_result", "notice_ack"]


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def tell(request: CallRequest, note: Note) -> None:
    """Hand a note to the request's observers, as a call's dialog session does."""
    for observe in request.observers:
        observe(note)
    if request.on_turn is not None and isinstance(note, Turn):
        request.on_turn(note)


def answered(outcome: str = "completed", slots: dict | None = None) -> CallResult:
    slots = {"identity": "yes", "health_code": "green"} if slots is None else slots
    rec = CallRecord("verification", "v1", "zh-CN", outcome=Outcome(outcome), slots=dict(slots),
                     transcript=[Turn(Speaker.BOT, "您好"), Turn(Speaker.CALLER, "是")])
    if outcome == "escalated":
        rec.escalation = Escalate(EscalationReason.REQUESTED_HUMAN, "identity")
    return CallResult(NetworkOutcome.ANSWERED, record=rec, sip_status=200)


class ScriptedRunner:
    """Answers each call with `decide(request)` (a CallResult); remembers every request."""

    def __init__(self, decide: Callable[[CallRequest], CallResult] | None = None) -> None:
        self.decide = decide or (lambda r: answered())
        self.requests: list[CallRequest] = []
        self.gate: asyncio.Event | None = None  # set -> calls wait for it

    async def run(self, request: CallRequest) -> CallResult:
        self.requests.append(request)
        result = self.decide(request)
        if result.record is not None:
            for t in result.record.transcript:
                tell(request, t)
        if self.gate is not None:
            await self.gate.wait()
        return result


class RandomRunner:
    """Fake calls of random duration and outcome (crash test, benchmarks with max_delay=0)."""

    def __init__(self, seed: int | None = None, max_delay: float = 0.05, always_answered: bool = False) -> None:
        self.rng = random.Random(seed)
        self.max_delay = max_delay
        self.always_answered = always_answered

    async def run(self, request: CallRequest) -> CallResult:
        roll = 0.5 if self.always_answered else self.rng.random()
        if self.max_delay:
            await asyncio.sleep(self.rng.random() * self.max_delay)
        if roll < 0.15:
            return CallResult(NetworkOutcome.NO_ANSWER, sip_status=480)
        if roll < 0.25:
            return CallResult(NetworkOutcome.BUSY, sip_status=486)
        result = answered("escalated" if roll < 0.35 else "completed",
                          {s: "yes" for s in SLOTS} | {"health_code": "green", "nat_count": 2})
        for t in result.record.transcript:
            tell(request, t)
            if self.max_delay:
                await asyncio.sleep(self.rng.random() * self.max_delay / 4)
        return result


# A cooperative resident of dialogs/verification.zh-CN.yaml: the answer to each question asked
ANSWER_TO = {"identity": "是 的", "residence": "城关区 白银 路", "health_code": "绿 码", "isolation": "没有",
             "nat_count": "两 次", "nat_result": "阴性", "notice": "好的"}


class TalkingRunner:
    """Answered calls through the real dialog session (real zh answer understanding): each question
    asked gets its cooperative answer after a random pause (the caller thinking, the bot speaking),
    so a worker killed at a random moment dies mid-conversation (crash test)."""

    def __init__(self, seed: int | None = None, max_delay: float = 0.05,
                 on_answer: Callable[[], None] | None = None) -> None:
        self.rng = random.Random(seed)
        self.max_delay = max_delay
        self.on_answer = on_answer  # after each answer the session heard

    async def run(self, request: CallRequest) -> CallResult:
        session = request.session()
        session.start()
        while not session.finished:
            await asyncio.sleep(self.rng.random() * self.max_delay)
            listen = session.current_listen
            for event in parse_answer(ANSWER_TO.get(listen.step, "<silence>") if listen else "<hangup>"):
                session.feed(event)
            if self.on_answer is not None:
                self.on_answer()
        return CallResult(NetworkOutcome.ANSWERED, record=session.close(), sip_status=200)


class TextRunner:
    """Plays a text conversation (answers per phone) through the real dialog engine."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.requests: list[CallRequest] = []

    async def run(self, request: CallRequest) -> CallResult:
        self.requests.append(request)
        session = request.session()
        session.start()
        for line in self.answers.get(request.phone, []):
            for event in parse_answer(line):
                session.feed(event)
        return CallResult(NetworkOutcome.ANSWERED, record=session.close(), sip_status=200)


def add_campaign(db, name: str = "c1", *, status: str = CampaignStatus.RUNNING, concurrency: int = 4,
                 people: list[tuple[str, int]] = (), **kw) -> int:
    """A campaign with people given as (phone, priority); returns its id."""

    def write(s):
        c = Campaign(name=name, status=status, concurrency=concurrency, **kw)
        s.add(c)
        s.flush()
        for i, (phone, prio) in enumerate(people):
            s.add(Person(campaign_id=c.id, name=f"测试{i}", phone=phone, priority=prio))
        return c.id

    return db.run(write)


async def settle(dialer) -> None:
    """Let the calls started so far finish."""
    while dialer.live:
        await asyncio.gather(*list(dialer.live.values()), return_exceptions=True)


class KeyingCall:
    """Just enough of a SipCall for the callback verifier (bot.campaigns.inbound.callbacks): keys
    `keys` after the first prompt."""

    def __init__(self, keys: str) -> None:
        self.keys, self.ended, self.media, self.on_dtmf = keys, asyncio.Event(), self, None

    def play(self, pcm: bytes) -> None:
        keys, self.keys = self.keys, ""
        asyncio.get_running_loop().call_later(0.05, lambda: [self.on_dtmf(k) for k in keys])

    async def drained(self) -> None:
        await asyncio.sleep(0)


async def dial_until_done(db, dialer, poll: float) -> None:
    """A worker script's main loop: print READY, run `dialer` until no campaign is running and no
    call of this worker is live."""
    from sqlmodel import select

    stop = asyncio.Event()

    async def watch() -> None:
        print("READY", flush=True)
        while True:
            await asyncio.sleep(poll)
            running = await db.arun(lambda s: s.exec(select(Campaign.id).where(
                Campaign.status == CampaignStatus.RUNNING)).first(), write=False)
            if running is None and not dialer.live:
                stop.set()
                return

    await asyncio.gather(dialer.run(stop), watch())


def assert_never_two_attempts_at_once(attempts: Iterable[Attempt]) -> None:
    """Every attempt ended, and no number was in two attempts at once: their lifetimes (claimed to
    ended) never overlap (no double dialling after crashes and recoveries)."""
    spans = defaultdict(list)
    for a in attempts:
        assert a.ended_at is not None, f"attempt {a.id} left active ({a.state})"
        spans[a.phone].append((a.claimed_at, a.ended_at))
    for phone, ss in spans.items():
        ss.sort()
        for (_, end), (start, _) in zip(ss, ss[1:], strict=False):
            assert end <= start, phone

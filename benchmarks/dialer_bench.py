"""Dialer + storage throughput with instant fake calls (each answered, 2 turns, 7 slot results).

    .venv/bin/python benchmarks/dialer_bench.py [--people 3000] [--concurrency 100] [--pg-url URL]

Runs on a fresh SQLite file (WAL, synchronous=FULL: every commit durable) and, when a PostgreSQL URL
is given (or VERIBOT_TEST_PG_URL is set), on a fresh schema there. Prints the machine it ran on.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from machine_info import describe
from sqlalchemy import create_engine, text
from sqlmodel import select

from bot.calls import CallRequest, CallResult, NetworkOutcome
from bot.campaigns.dialing.dialer import Dialer
from bot.dialog.events import CallRecord, Outcome, Speaker, Turn
from storage.db import Database
from storage.models import Campaign, Person

SLOTS = {"identity": "yes", "residence": {"raw": "城关区张掖路1号", "district": "城关区"}, "health_code": "green",
         "isolation": "no", "nat_count": 3, "nat_result": "negative", "notice_ack": "yes"}



class InstantRunner:
    async def run(self, request: CallRequest) -> CallResult:
        rec = CallRecord("verification", "bench", "zh-CN", outcome=Outcome.COMPLETED, slots=dict(SLOTS),
                         transcript=[Turn(Speaker.BOT, "请问您是本人吗？"), Turn(Speaker.CALLER, "是")])
        for t in rec.transcript:
            for observe in request.observers:
                observe(t)
        return CallResult(NetworkOutcome.ANSWERED, record=rec, sip_status=200)


async def bench(db: Database, people: int, concurrency: int) -> tuple[int, float]:
    def setup(s):
        c = Campaign(name="bench", status="running", concurrency=concurrency, window_start="00:00",
                     window_end="00:00")
        s.add(c)
        s.flush()
        for i in range(people):
            s.add(Person(campaign_id=c.id, name=f"p{i}", phone=f"+86138{i:08d}"))
        return c.id

    cid = db.run(setup)
    dialer = Dialer(db, InstantRunner(), worker_id="bench", max_calls=concurrency, poll_seconds=0.01)
    stop = asyncio.Event()

    async def until_done():
        while True:
            if db.run(lambda s: s.get(Campaign, cid).status, write=False) != "running":
                stop.set()
                return
            await asyncio.sleep(0.05)

    t = time.perf_counter()
    await asyncio.gather(dialer.run(stop), until_done())
    elapsed = time.perf_counter() - t
    done = db.run(lambda s: len(s.exec(select(Person.id).where(Person.state == "completed")).all()), write=False)
    return done, elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--people", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=100)
    ap.add_argument("--pg-url", default=os.environ.get("VERIBOT_TEST_PG_URL"))
    args = ap.parse_args()
    print(describe())
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        db.upgrade()
        n, secs = asyncio.run(bench(db, args.people, args.concurrency))
        db.dispose()
        print(f"sqlite (WAL, synchronous=FULL): {n} attempts in {secs:.2f} s = {n / secs:.0f} attempts/s")
    if args.pg_url:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.pg_url)
        with admin.begin() as c:
            c.execute(text(f"CREATE SCHEMA {schema}"))
        try:
            db = Database(args.pg_url, schema=schema)
            db.upgrade()
            n, secs = asyncio.run(bench(db, args.people, args.concurrency))
            db.dispose()
            print(f"postgresql: {n} attempts in {secs:.2f} s = {n / secs:.0f} attempts/s")
        finally:
            with admin.begin() as c:
                c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

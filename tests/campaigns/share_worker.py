"""A dialer worker for the sharing test: `python share_worker.py DB_URL WORKER_ID MAX_CALLS POLL_SECONDS`.

Runs the real `Dialer.run` loop (default claim share) with fake answered calls of 0.4–0.6 s (several claim polls of 0.2 s per call), prints
`READY` once started, `ACK <attempt id> <phone>` after each call's final record is committed and, at
the end, `PEAK <most calls this worker had at once>`. Exits once a running campaign has been seen and
no campaign is running any more."""

from __future__ import annotations

import asyncio
import random
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).parent)]

from campaign_fakes import SLOTS, answered  # noqa: E402
from sqlmodel import select  # noqa: E402

from bot.calls import CallRequest, CallResult  # noqa: E402
from bot.campaigns.dialing.dialer import Dialer  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Campaign, CampaignStatus  # noqa: E402


class TimedRunner:
    def __init__(self) -> None:
        self.live = self.peak = 0

    async def run(self, request: CallRequest) -> CallResult:
        self.live += 1
        self.peak = max(self.peak, self.live)
        try:
            await asyncio.sleep(random.uniform(0.4, 0.6))
            return answered("completed", {s: "yes" for s in SLOTS} | {"health_code": "green", "nat_count": 2})
        finally:
            self.live -= 1


async def main(url: str, worker: str, max_calls: int, poll: float) -> None:
    db = Database(url)
    runner = TimedRunner()

    def ack(claim, outcome):
        sys.stdout.write(f"ACK {claim.attempt_id} {claim.phone}\n")
        sys.stdout.flush()

    dialer = Dialer(db, runner, worker_id=worker, on_final=ack, max_calls=max_calls, poll_seconds=poll,
                    claim_ttl=3600)
    stop = asyncio.Event()

    async def watch():
        print("READY", flush=True)
        seen = False
        while True:
            await asyncio.sleep(0.1)
            running = await db.arun(lambda s: s.exec(select(Campaign.id).where(
                Campaign.status == CampaignStatus.RUNNING)).first(), write=False)
            seen = seen or running is not None
            if seen and running is None and not dialer.live:
                stop.set()
                return

    await asyncio.gather(dialer.run(stop), watch())
    print(f"PEAK {runner.peak}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))

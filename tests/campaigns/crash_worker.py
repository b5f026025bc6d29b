"""A dialer worker for the crash and race tests: `python crash_worker.py DB_URL WORKER_ID SEED [answered|talk]`.

Runs every running campaign with fake calls of random duration (`talk`: conversations through the
real dialog session, answer by answer; see campaign_fakes.TalkingRunner) and prints `READY` once started and
`ACK <attempt id> <person id> <outcome>` after each attempt's final record is committed. Exits when
no campaign is running any more."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).parent)]

from campaign_fakes import RandomRunner, TalkingRunner, dial_until_done  # noqa: E402

from bot.campaigns.dialing.dialer import Dialer  # noqa: E402
from storage.db import Database  # noqa: E402


async def main(url: str, worker: str, seed: int, mode: str) -> None:
    db = Database(url)
    if mode == "talk":
        from bot.nlu.address import warm_up

        warm_up()  # before READY: a kill should land in a conversation, not in loading tables
        talking = []

        def first_answer():  # tells the test that conversations are under way (a kill now is mid-call)
            if not talking:
                talking.append(True)
                print("TALKING", flush=True)

        runner = TalkingRunner(seed, max_delay=0.05, on_answer=first_answer)
    else:
        runner = RandomRunner(seed, max_delay=0.2, always_answered=mode == "answered")

    def ack(claim, outcome):
        sys.stdout.write(f"ACK {claim.attempt_id} {claim.person_id} {outcome} {claim.phone}\n")
        sys.stdout.flush()

    dialer = Dialer(db, runner, worker_id=worker, on_final=ack, poll_seconds=0.02, claim_ttl=3600)
    await dial_until_done(db, dialer, poll=0.1)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else ""))

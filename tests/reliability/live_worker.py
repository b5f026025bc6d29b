"""A dialer worker over real SIP for the live crash test:
`python live_worker.py DB_URL SIP_PORT RESIDENTS_PORT RTP_LO-RTP_HI`.

`veribot serve`'s dialer part: a SipEndpoint on 127.0.0.1:SIP_PORT (the same on every restart,
as `[telephony] listen`), the SIP runner with the
keypad conversation, the campaign dialer (default worker id host:pid, so a restarted worker
recovers a dead one's attempts and ends its SIP dialogs). Prints `READY`, `ANSWERED` when a call
is answered, `HEARD` when an answer is accepted, and `ACK <attempt> <person> <outcome>` per final record; exits when no campaign runs."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[2])]


from bot.calls import Answered  # noqa: E402
from bot.campaigns.dialing.dialer import Dialer  # noqa: E402
from bot.dialog.events import SlotFilled  # noqa: E402
from bot.telephony.calls.sip_runner import SipCallRunner  # noqa: E402
from bot.telephony.settings import TelephonySettings  # noqa: E402
from bot.telephony.sip.endpoint import SipEndpoint  # noqa: E402
from storage.db import Database  # noqa: E402
from tests.campaigns.campaign_fakes import dial_until_done  # noqa: E402


class Runner(SipCallRunner):
    async def run(self, request):
        def answered(note):
            if isinstance(note, Answered):
                print("ANSWERED", flush=True)
            elif isinstance(note, SlotFilled) and not note.prefilled:
                print("HEARD", flush=True)

        import dataclasses

        return await super().run(dataclasses.replace(request, observers=(*request.observers, answered)))


async def main(url: str, port: int, residents: int, rtp: str) -> None:
    db = Database(url)
    lo, _, hi = rtp.partition("-")
    settings = TelephonySettings(listen=("127.0.0.1", port), rtp_ports=(int(lo), int(hi)),
                                 trunk=f"sip:127.0.0.1:{residents}", caller_id="96110", capacity=50,
                                 ring_timeout=10, trusted_sources=("127.0.0.0/8",))
    endpoint = SipEndpoint(settings)
    await endpoint.start()

    def ack(claim, outcome):
        sys.stdout.write(f"ACK {claim.attempt_id} {claim.person_id} {outcome}\n")
        sys.stdout.flush()

    dialer = Dialer(db, Runner(endpoint), on_final=ack, poll_seconds=0.1, claim_ttl=3600)
    try:
        await dial_until_done(db, dialer, poll=0.2)
    finally:
        await endpoint.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]))

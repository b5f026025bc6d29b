"""`veribot serve` in small for the login-flood crash test: the web console on 127.0.0.1:WEB_PORT
and a dialer over real SIP, sharing one database, in one process:

    python flood_worker.py DB_URL SIP_PORT RESIDENTS_PORT RTP_LO-RTP_HI WEB_PORT

Prints `READY` once both listen, and `HEARD <attempt id> <slot>` the moment the dialog accepts an
answer (the recorder hands it to the database at that same moment)."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[2])]

from aiohttp import web  # noqa: E402

from bot.campaigns.dialing.dialer import Dialer  # noqa: E402
from bot.console.app import build_app  # noqa: E402
from bot.console.security import ConsoleSettings  # noqa: E402
from bot.dialog.events import SlotFilled  # noqa: E402
from bot.telephony.calls.sip_runner import SipCallRunner  # noqa: E402
from bot.telephony.settings import TelephonySettings  # noqa: E402
from bot.telephony.sip.endpoint import SipEndpoint  # noqa: E402
from storage.db import Database  # noqa: E402


class Runner(SipCallRunner):
    async def run(self, request):
        def heard(note):
            if isinstance(note, SlotFilled) and not note.prefilled:
                print(f"HEARD {request.attempt_id} {note.slot}", flush=True)

        return await super().run(dataclasses.replace(request, observers=(*request.observers, heard)))


async def main(url: str, port: int, residents: int, rtp: str, web_port: int) -> None:
    db = Database(url)
    lo, _, hi = rtp.partition("-")
    settings = TelephonySettings(listen=("127.0.0.1", port), rtp_ports=(int(lo), int(hi)),
                                 trunk=f"sip:127.0.0.1:{residents}", caller_id="96110", capacity=50,
                                 ring_timeout=10, trusted_sources=("127.0.0.0/8",))
    endpoint = SipEndpoint(settings)
    await endpoint.start()
    app = build_app(db, ConsoleSettings(secure_cookies=False), var_dir=Path(tempfile.mkdtemp()))
    site_runner = web.AppRunner(app, access_log=None)
    await site_runner.setup()
    await web.TCPSite(site_runner, "127.0.0.1", web_port).start()
    dialer = Dialer(db, Runner(endpoint), poll_seconds=0.1, claim_ttl=3600)
    print("READY", flush=True)
    await dialer.run(asyncio.Event())  # until killed


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])))

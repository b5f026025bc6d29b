"""One veribot worker as its own process, for the Kamailio tests: `python lb_worker.py CONFIG NAME [DB-URL SCHEMA]`.

Starts `bot.telephony.calls.worker_endpoint.start_endpoint` with the config's `[telephony]` section and a
raw inbound handler that plays a little audio until the caller hangs up. Prints `ready PORT`
once it listens and `call NAME CALL-ID` for every call it takes (the test reads stdout). With a
database its calls' dialogs are held in `inbound_leg` (worker id host:pid, as `veribot serve`'s), so a
sibling ends them with a BYE if this process dies. With `DIAL=1` in its environment it also runs
the campaign dialer over the config's trunk (keypad conversation), printing `answered NAME` when a
dialled call is answered."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sys

from bot.config import load_config
from bot.telephony.calls.worker_endpoint import start_endpoint
from bot.telephony.sip.call import SipCall


async def main(config_path: str, name: str, db_url: str = "", schema: str = "") -> None:
    async def inbound(call: SipCall) -> None:
        print(f"call {name} {call.call_id}", flush=True)
        call.media.play(b"\x00\x10" * 4000)
        await call.ended.wait()

    legs = None
    if db_url:
        from bot.campaigns.dialing.dialer import default_worker_id
        from bot.campaigns.inbound.legs import InboundLegs
        from storage.db import Database

        legs = InboundLegs(Database(db_url, schema=schema or None), default_worker_id())
    endpoint = await start_endpoint(load_config(config_path), on_inbound=inbound, legs=legs,
                                    sweep_seconds=float(os.environ.get("SWEEP_SECONDS", "5")))
    print(f"ready {endpoint.local_addr[1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if legs is not None and os.environ.get("DIAL") == "1":
        await dial(legs.db, endpoint, name, stop)
    await stop.wait()
    await endpoint.stop()


async def dial(db, endpoint, name: str, stop: asyncio.Event) -> None:
    from bot.calls import Answered
    from bot.campaigns.dialing.dialer import Dialer
    from bot.telephony.calls.sip_runner import SipCallRunner

    class Runner(SipCallRunner):
        async def run(self, request):
            def answered(note):
                if isinstance(note, Answered):
                    print(f"answered {name}", flush=True)

            return await super().run(dataclasses.replace(request, observers=(*request.observers, answered)))

    await Dialer(db, Runner(endpoint), poll_seconds=0.2).run(stop)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))

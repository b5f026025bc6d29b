"""Scripted residents for the live crash test: `python residents.py PORT RTP_LO-RTP_HI`.

A SIP endpoint on 127.0.0.1:PORT answering every call as a resident who presses 1 after each
prompt (bot.telephony.calls.softphone.Resident). Prints `READY`, then one JSON line per call when it
ends: {"call_id", "start", "end", "end_reason"} with wall-clock times, so the test can tell how
long a leg outlived the worker that held it (its media timeout is 30 s, as `veribot softphone`'s)."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[2])]

from bot.telephony.calls.softphone import Answer, Resident  # noqa: E402
from bot.telephony.settings import TelephonySettings  # noqa: E402
from bot.telephony.sip.call import SipCall  # noqa: E402
from bot.telephony.sip.endpoint import SipEndpoint  # noqa: E402


async def main(port: int, rtp: str) -> None:
    lo, _, hi = rtp.partition("-")
    settings = TelephonySettings(listen=("127.0.0.1", port), rtp_ports=(int(lo), int(hi)), capacity=100,
                                 media_inactivity=30, trusted_sources=("127.0.0.0/8",),
                                 inbound_sources=("127.0.0.0/8",), inbound_share=1.0)  # callees only
    resident = Resident([Answer("dtmf", "1")] * 40, "en-US", prompt_gap=0.4)

    async def answer(call: SipCall) -> None:
        start = time.time()
        heard = await resident.run(call)
        print(json.dumps({"call_id": call.call_id, "start": start, "end": time.time(),
                          "end_reason": heard.end_reason}), flush=True)

    endpoint = SipEndpoint(settings, on_inbound=answer)
    await endpoint.start()
    print("READY", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))

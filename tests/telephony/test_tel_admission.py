"""Admission control at the SIP edge: while the worker's headroom holds new calls, an INVITE gets
503 with Retry-After (real SIP endpoints on loopback) and the log says why; once the headroom is
back the same caller is answered, and a burst of INVITEs is spaced out (the start ramp). Calls in
progress are not touched."""

from __future__ import annotations

import logging

from bot.campaigns.outage.storage_alarm import StorageHealth
from bot.pipeline.headroom import Admission, Headroom
from bot.settings import WorkerSettings
from bot.telephony.settings import TelephonySettings
from bot.telephony.sip.endpoint import SipEndpoint


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


async def test_inbound_invite_gets_503_with_retry_after_while_the_worker_holds_and_is_taken_after(caplog):
    async def inbound(call):
        await call.ended.wait()

    def endpoint(ports, **kw):
        return SipEndpoint(TelephonySettings(listen=("127.0.0.1", 0), rtp_ports=ports,
                                             inbound_sources=("127.0.0.0/8",), retry_after=7, **kw),
                           on_inbound=inbound)

    bot, phone = endpoint((38800, 38898)), endpoint((38900, 38998))
    clock, alarm = FakeClock(), StorageHealth()
    headroom = Headroom(WorkerSettings(lag_stop_ms=60, lag_resume_ms=25, resume_after_seconds=5), clock=clock)
    admission = Admission(headroom, lambda: alarm.ok)
    bot.accepting, bot.held_because = admission.accepting, admission.why  # as `veribot serve` wires them
    await bot.start()
    await phone.start()
    try:
        target = f"sip:bot@127.0.0.1:{bot.local_addr[1]}"
        first = await phone.dial(target)  # a call in progress before the hold
        assert first.call is not None

        headroom.note_lag(150)  # the event loop runs late: hold
        assert headroom.check() is not None
        with caplog.at_level(logging.WARNING):
            refused = await phone.dial(target)
        assert (refused.call, refused.status, refused.retry_after) == (None, 503, 7)
        assert any("takes no new calls (event-loop lag p99 150 ms >= 60 ms)" in r.getMessage() for r in caplog.records)
        assert not first.call.ended.is_set() and len(bot.calls) == 1  # the call in progress goes on

        alarm.failed(OSError("database or disk is full"))  # both reasons at once: the log names both
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            assert (await phone.dial(target)).status == 503
        assert any("storage alarm" in r.getMessage() and "event-loop lag" in r.getMessage() for r in caplog.records)
        alarm.recovered()

        clock.t += 3  # the lag sample leaves the window, calm begins
        headroom.check()
        clock.t += 5  # calm for resume_after_seconds: calls are taken again
        assert headroom.check() is None
        taken = await phone.dial(target)
        assert taken.call is not None and taken.status == 200
        # a burst of INVITEs is ramped: the next one within 1/starts_per_second is told to come back
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            ramped = await phone.dial(target)
        assert (ramped.call, ramped.status) == (None, 503)
        assert any("call starts ramped" in r.getMessage() for r in caplog.records)
        clock.t += 1 / headroom.settings.starts_per_second
        spaced = await phone.dial(target)
        assert spaced.call is not None and spaced.status == 200
        spaced.call.hangup()
        taken.call.hangup()
        first.call.hangup()
    finally:
        alarm.recovered()
        await phone.stop()
        await bot.stop()

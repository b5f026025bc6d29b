"""Proving who a caller is before a callback is matched to a person (issue 12 item 1).

Caller ID is a claim. `keypad_verifier` asks every caller — listed or not, so the question
itself tells a stranger nothing — to key in a short secret, and compares it with the one
`secret_for(number)` returns (e.g. the last 4 digits of the person's ID number, or the code
the bot said on its outbound call). Three wrong answers for a number lock that number out of
verification for an hour, so 4 digits cannot be guessed call by call.

    verify = keypad_verifier(lambda number: secrets.get(number), locale="zh-CN")
    endpoint = await start_endpoint(config, lookup=callbacks.lookup, verify=verify, ...)
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import logging
import time
from collections.abc import Callable
from typing import Any

from bot.privacy import mask_phone
from bot.telephony.sip_call import SipCall

log = logging.getLogger(__name__)

PROMPT = {
    "zh": "为核实身份，请输入{digits}位核验码，以井号键结束。",
    "en": "To confirm who you are, please key in your {digits}-digit code, then the hash key.",
    "ko": "본인 확인을 위해 {digits}자리 확인 번호를 누르고 우물 정자를 눌러 주세요.",
}


class Lockout:
    """Failed verifications per number; `max_failures` within `window` seconds lock it."""

    def __init__(self, max_failures: int = 3, window: float = 3600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures, self.window, self.clock = max_failures, window, clock
        self._failures: dict[str, list[float]] = {}

    def locked(self, number: str) -> bool:
        now = self.clock()
        recent = [t for t in self._failures.get(number, []) if now - t < self.window]
        if recent:
            self._failures[number] = recent
        else:
            self._failures.pop(number, None)
        return len(recent) >= self.max_failures

    def failed(self, number: str) -> None:
        self._failures.setdefault(number, []).append(self.clock())


async def read_digits(call: SipCall, count: int, seconds: float) -> str:
    """Up to `count` DTMF digits (ended early by '#'), or what came before the timeout."""
    got: list[str] = []
    done = asyncio.Event()
    previous = call.media.on_dtmf

    def on_dtmf(digit: str) -> None:
        if digit == "#":
            done.set()
        elif len(got) < count:
            got.append(digit)
            if len(got) == count:
                done.set()

    call.media.on_dtmf = on_dtmf
    try:
        ended = asyncio.ensure_future(call.ended.wait())
        waiting = asyncio.ensure_future(done.wait())
        await asyncio.wait({ended, waiting}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        ended.cancel()
        waiting.cancel()
    finally:
        call.media.on_dtmf = previous
    return "".join(got)


def keypad_verifier(secret_for: Callable[[str], Any], *, locale: str = "zh-CN", digits: int = 4,
                    timeout: float = 15.0, lockout: Lockout | None = None,
                    speak: Callable[[str, str], Any] | None = None) -> Callable[[SipCall, str], Any]:
    lock = lockout or Lockout()

    async def verify(call: SipCall, number: str) -> bool:
        if speak is None:
            from bot.telephony.speech import synthesize as say
        else:
            say = speak
        text = PROMPT.get(locale.split("-")[0], PROMPT["en"]).format(digits=digits)
        call.media.play(await say(text, locale))
        await call.media.drained()
        keyed = await read_digits(call, digits, timeout)
        secret = secret_for(number)
        secret = await secret if inspect.isawaitable(secret) else secret
        if lock.locked(number):
            log.warning("caller %s: verification locked after repeated failures", mask_phone(number))
            return False
        ok = bool(secret) and len(keyed) == digits and hmac.compare_digest(keyed.encode(), str(secret).encode())
        if not ok:
            lock.failed(number)
        log.info("caller %s: verification %s", mask_phone(number), "passed" if ok else "failed")
        return ok

    return verify

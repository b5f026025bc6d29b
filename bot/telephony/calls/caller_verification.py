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
import contextlib
import hmac
import inspect
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.dialog.catalogue import Catalogue, catalogue_for
from bot.nlu.spoken_code import code_phrases, read_code
from bot.privacy import mask_phone
from bot.telephony.calls.spoken_answer import keys_until, read_answer, spoken_code_ear
from bot.telephony.sip.call import SipCall

__all__ = ["Lockout", "Verdict", "code_verifier", "keypad_verifier", "read_answer", "read_digits", "spoken_code_ear"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    """What `code_verifier` found: `proved` the caller's number (truthy then); `told`: the caller
    heard a reply that ends this exchange (genuine from another phone, wrong code, locked), so
    the endpoint says nothing more (not the unknown-caller greeting on top of it)."""

    proved: bool
    told: bool = False

    def __bool__(self) -> bool:
        return self.proved


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

    def acquire(self, number: str) -> Any:
        """Count a guess before it is checked (a burst cannot all pass `locked`); None: locked."""
        if self.locked(number):
            return None
        stamp = self.clock()
        self._failures.setdefault(number, []).append(stamp)
        return (number, stamp)

    def release(self, ticket: Any) -> None:
        """The guess was not wrong: uncount it."""
        number, stamp = ticket
        with contextlib.suppress(KeyError, ValueError):
            self._failures[number].remove(stamp)


async def _maybe(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def read_digits(call: SipCall, count: int, seconds: float,
                      keys: tuple[list[str], asyncio.Event] | None = None) -> str:
    """Up to `count` DTMF digits (ended early by '#'), or what came before the timeout. `keys`:
    (digits, done) of a `keys_until` handler already installed (keys pressed during a prompt)."""
    if keys is None:
        done = asyncio.Event()
        got, on_dtmf = keys_until(count, done)
    else:
        (got, done), on_dtmf = keys, call.media.on_dtmf
    previous = call.media.on_dtmf
    call.media.on_dtmf = on_dtmf
    try:
        if done.is_set():
            return "".join(got)
        ended = asyncio.ensure_future(call.ended.wait())
        waiting = asyncio.ensure_future(done.wait())
        await asyncio.wait({ended, waiting}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        ended.cancel()
        waiting.cancel()
    finally:
        call.media.on_dtmf = previous
    return "".join(got)


def code_verifier(check: Callable[..., Any], *, locale: str = "zh-CN", digits: int = 6,
                  timeout: float = 15.0, lockout: Lockout | None = None,
                  speak: Callable[[str, str], Any] | None = None,
                  on_locked: Callable[[str], Any] | None = None,
                  variables: dict[str, str] | None = None,
                  catalogue: Catalogue | None = None,
                  hear: Callable[[bytes], str] | None = None) -> Callable[[SipCall, str], Any]:
    """Asks every caller for the code of a call they had from us (`on_locked(number)`, may be
    async, is told of a caller refused because their number is locked). `check(number, code,
    final=True) -> (proved, reply, wrong)` (may be async) says whether the code proves the caller's
    number, what to tell them (the call was genuine and by whom / the code is wrong), and whether it
    was a wrong code; `final=False` is a said code that will be asked again when wrong (nothing to
    tell yet). The lockout (`acquire(number)` -> ticket or None, `release(ticket)`, either may be
    async; bot.campaigns.inbound.call_codes.CodeGuard keeps it in the database) counts the guess
    before it is checked and uncounts it unless it was wrong. A locked number is told so and not
    checked. Returns a `Verdict`.

    `hear(pcm) -> text` (blocking, run in a thread: the locale's recognizer with the code's digits
    as its expected set, `spoken_code_ear`): the caller may also SAY the code (verify.code_say); a
    said code that is unclear (not `digits` digits) or wrong is asked once more (verify.code_again),
    then keyed (verify.code_keys). A said code counts against the lockout exactly as a keyed one; an
    unclear one is no guess. Without `hear` the code is keyed (verify.code)."""
    lock = lockout or Lockout()
    cat = catalogue or catalogue_for(locale)
    spoken = hear is not None and bool(code_phrases(locale))
    steps = ("verify.code_say", "verify.code_again", "verify.code_keys") if spoken else ("verify.code",)

    async def verify(call: SipCall, number: str) -> Verdict:
        say = speak
        if say is None:
            from audio.synthesis import speak as say

        async def tell(text: str) -> None:
            if text and not call.ended.is_set():
                call.media.play(await say(text, locale))
                await call.media.drained()

        original = call.media.on_dtmf
        try:
            return await ask(call, number, tell, original)
        finally:
            call.media.on_dtmf = original

    async def ask(call: SipCall, number: str, tell: Callable[[str], Any], original: Any) -> Verdict:
        for step, key in enumerate(steps):
            last = step == len(steps) - 1
            typed: list[str] = []
            call.media.on_dtmf = typed.append  # keys pressed during the question are kept
            await tell(cat.say(key, variables or {}, digits=digits))
            keyed, speech = await read_answer(call, digits, timeout, listen=spoken and not last, typed=typed)
            call.media.on_dtmf = original
            code = keyed
            if not keyed and speech and hear is not None:
                code = read_code(await asyncio.to_thread(hear, speech), locale, digits) or ""
                log.info("caller %s: a said code %s", mask_phone(number), "heard" if code else "not heard")
            final = last or bool(keyed) or call.ended.is_set()
            if not final and not code:
                continue  # unclear or nothing said: asked again, no guess counted
            ticket = await _maybe(lock.acquire(number))
            if ticket is None:
                log.warning("caller %s: verification locked after repeated failures", mask_phone(number))
                if on_locked is not None:
                    await _maybe(on_locked(number))
                await tell(cat.say("verify.locked", variables or {}))
                return Verdict(False, told=True)
            wrong = True  # a check that fails midway leaves the guess counted
            try:
                proved, reply, wrong = await _maybe(check(number, code) if final else check(number, code, final=False))
            finally:
                if not wrong:
                    await _maybe(lock.release(ticket))
            if wrong and not final:
                continue  # a wrong said code: counted, asked again
            await tell(reply)
            log.info("caller %s: call code %s", mask_phone(number), "proved the number" if proved else "did not prove it")
            return Verdict(bool(proved), told=bool(reply) and not proved)
        return Verdict(False)

    return verify


def keypad_verifier(secret_for: Callable[[str], Any], *, locale: str = "zh-CN", digits: int = 4,
                    timeout: float = 15.0, lockout: Lockout | None = None,
                    speak: Callable[[str, str], Any] | None = None,
                    catalogue: Catalogue | None = None) -> Callable[[SipCall, str], Any]:
    lock = lockout or Lockout()
    cat = catalogue or catalogue_for(locale)

    async def verify(call: SipCall, number: str) -> bool:
        if speak is None:
            from audio.synthesis import speak as say
        else:
            say = speak
        text = cat.say("verify.keypad", {}, digits=digits)
        done = asyncio.Event()
        got, on_dtmf = keys_until(digits, done)
        original = call.media.on_dtmf
        call.media.on_dtmf = on_dtmf  # keys pressed during the question (or a late loop) are kept
        try:
            call.media.play(await say(text, locale))
            await call.media.drained()
            keyed = await read_digits(call, digits, timeout, keys=(got, done))
        finally:
            call.media.on_dtmf = original
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

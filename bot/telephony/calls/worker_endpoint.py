"""The worker's SIP endpoint as `veribot serve` starts it.

    endpoint = await start_endpoint(config, lookup=people_by_phone, on_result=store)
    ...
    await endpoint.stop()

`start_endpoint(config, on_inbound=None, lookup=None, converse=None, on_result=None, verify=None)`:
  * `config` — `bot.config.Config`; reads `[telephony]` and `[agency]`.
  * `lookup(number) -> InboundMatch | dict | None` (may be async) — who is calling back.
    A dict is taken as the person. Unknown callers hear `unknown_caller_message` or the
    catalogue's service.unknown_caller (agency name and official number) and the call ends;
    a caller the verifier already answered (`Verdict.told`) hears nothing more.
  * `verify(call, number) -> bool` (may be async) — caller ID is a claim, not identity
    (anyone can send any From, and carriers pass it on): `lookup` is consulted, and the
    person's dialog run and stored, only after `verify` says the caller proved who they are.
    Without `verify` every caller is an unknown caller: nothing is looked up, claimed or
    stored against a person. See "Callers who claim to be a listed person" in README.
  * `converse(call, request) -> CallRecord` — how a conversation runs; default:
    `bot.telephony.calls.conversation.speech_conversation(resources)` is for the serve command to
    pass; without it calls run keypad-only (`keypad_conversation`).
  * `on_result(request, CallResult)` (may be async) — store an inbound call's result.
  * `legs` — where each answered inbound call's SIP dialog is kept until it ends
    (`bot.campaigns.inbound.legs.InboundLegs`); at start the endpoint ends (BYE) the calls
    a dead predecessor left there and on their attempts, so no caller's leg outlives its
    worker by more than the restart. A matched call's dialog also goes on its attempt.
    While it runs, every `sweep_seconds` (5 s) it also ends the calls of a dead sibling: a
    worker of this host whose process is gone (SIGKILL, OOM) — its inbound legs and its dialled
    attempts' dialogs — so their residents get a BYE within seconds, not at a restart.
  * `on_inbound(call)` — replaces all of the above (but `legs`: its calls' dialogs are held
    too) with a raw handler of `SipCall`s.
Returns a `SipEndpoint` (`.stop()`, `.busy`, `.calls`, `.dial()`); for outbound calls
wrap it in `bot.telephony.calls.sip_runner.SipCallRunner(endpoint, converse)`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from audio.synthesis import speak
from bot.calls import Answered, CallRequest, CallResult, NetworkOutcome, StorageGuard
from bot.config import Config
from bot.dialog.model import render
from bot.privacy import mask_phone
from bot.settings import localised
from bot.telephony.calls.caller_verification import Verdict
from bot.telephony.calls.conversation import Converse
from bot.telephony.calls.keypad_conversation import keypad_conversation
from bot.telephony.calls.sip_runner import SipCallRunner, converse_and_escalate, tell
from bot.telephony.settings import TelephonySettings
from bot.telephony.sip.call import SipCall
from bot.telephony.sip.endpoint import InboundHandler, SipEndpoint

log = logging.getLogger(__name__)

SWEEP_SECONDS = 5.0  # how often a worker looks for the calls of a dead sibling (one small query)
Verifier = Callable[[SipCall, str], Any]  # (call, claimed number) -> bool, may be async


class LegStore(Protocol):
    """Inbound calls' SIP dialogs in storage (bot.campaigns.inbound.legs.InboundLegs)."""

    async def hold(self, dialog: dict[str, Any]) -> Any: ...  # -> a key for `release`
    def release(self, leg: Any) -> None: ...
    async def orphans(self, stale_after: float, own: bool = True) -> list[dict[str, Any]]: ...  # dead workers'


@dataclass(frozen=True)
class InboundMatch:
    person: dict[str, Any]
    prefilled_slots: dict[str, Any] = field(default_factory=dict)
    attempt_id: int | str = "inbound"
    on_turn: Callable[[Any], None] | None = None  # each turn as it happens
    observers: tuple[Callable[[Any], None], ...] = ()  # every turn, accepted answer, escalation as it happens
    parser: Callable[[str, str, str], Any] | None = None  # answer understanding (bot.nlu.make_parser)
    variables: dict[str, str] = field(default_factory=dict)  # this call's own, e.g. {call_code}
    guard: StorageGuard | None = None  # the attempt storing the call (bot.attempt.Attempt)


async def _maybe(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def inbound_handler(
    settings: TelephonySettings,
    variables: Mapping[str, str],
    lookup: Callable[[str], Any] | None = None,
    converse: Converse | None = None,
    on_result: Callable[[CallRequest, CallResult], Any] | None = None,
    verify: Verifier | None = None,
    legs: LegStore | None = None,
) -> InboundHandler:
    from bot.dialog.script import load_script

    script = load_script(settings.inbound_dialog)  # fails at start-up, not mid-call
    run = converse or keypad_conversation
    desk = variables  # read at each call: the number/badge an admin sets while serving (record22)
    system = script.system  # the sentences below: dialogs/system.<locale>.yaml (bot.dialog.catalogue)

    async def say(call: SipCall, text: str) -> None:
        call.media.play(await speak(text, script.locale))
        await call.media.drained()

    async def answer(call: SipCall) -> None:
        dialog = call.sip_dialog
        variables = localised(dict(desk), script.locale)
        verdict = await _maybe(verify(call, call.remote_number)) if verify and lookup else False
        proved = bool(verdict)
        if not proved and isinstance(verdict, Verdict) and verdict.told:  # its reply was the last word
            log.info("callback from %s: answered by the verification", mask_phone(call.remote_number))
            call.unknown_caller = True  # not verified: nothing looked up or stored
            return
        found = await _maybe(lookup(call.remote_number)) if lookup and proved else None
        if isinstance(found, dict):
            found = InboundMatch(found)
        if found is None and proved:
            log.info("callback from %s: verified, nothing to ask now", mask_phone(call.remote_number))
            call.verified = True
            if not call.ended.is_set():
                await say(call, system.say("service.nothing_more", variables))
            return
        if found is None:
            why = "unknown number" if lookup is None else "caller ID not verified"
            log.info("callback from %s (%s): self-identification", mask_phone(call.remote_number), why)
            own = settings.unknown_caller_message  # config's own wording, else the catalogue's
            text = render(own, system.spoken(variables)) if own else system.say("service.unknown_caller", variables)
            call.unknown_caller = True
            if not call.ended.is_set():
                await say(call, text)
            return
        call.verified = True
        request = CallRequest(found.attempt_id, call.remote_number, found.person, script,
                              prefilled_slots=found.prefilled_slots, variables={**variables, **found.variables},
                              on_turn=found.on_turn,
                              observers=found.observers, parser=found.parser, guard=found.guard)
        if dialog:
            tell(request, Answered(dialog))  # on the attempt too, as a dialled call's
        result = CallResult(NetworkOutcome.FAILED, detail="inbound call failed")
        try:
            record = await converse_and_escalate(run, call, request, settings.operator_uri)
            result = CallResult(NetworkOutcome.ANSWERED, record=record, sip_status=200, detail=call.end_reason)
        finally:  # the attempt is settled however the call ended
            if on_result is not None:
                await _maybe(on_result(request, result))

    return holding_legs(answer, legs)


def holding_legs(handler: InboundHandler, legs: LegStore | None) -> InboundHandler:
    """`handler` with each answered call's dialog in `legs` while it lasts (a BYE after a crash)."""
    if legs is None:
        return handler

    async def handle(call: SipCall) -> None:
        dialog = call.sip_dialog
        leg = await legs.hold(dialog) if dialog else None
        try:
            await handler(call)
        finally:  # however the call ended here: nothing for a restarted worker to end
            legs.release(leg)

    return handle


class WorkerEndpoint(SipEndpoint):
    """A `SipEndpoint` that, given `legs`, ends its dead predecessors' calls at start and its dead
    siblings' calls every `sweep_seconds` while it runs (`stop()` ends the sweep)."""

    def __init__(self, settings: TelephonySettings, on_inbound: InboundHandler, legs: LegStore | None,
                 sweep_seconds: float) -> None:
        super().__init__(settings, on_inbound=on_inbound)
        self.legs, self.sweep_seconds = legs, sweep_seconds
        self._sweep: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await super().start()
        if self.legs is not None:
            await end_predecessors_calls(self, self.legs)
            if self.sweep_seconds > 0:
                self._sweep = asyncio.ensure_future(self._sweep_dead_siblings(self.legs))

    async def _sweep_dead_siblings(self, legs: LegStore) -> None:
        while True:
            await asyncio.sleep(self.sweep_seconds)
            await end_predecessors_calls(self, legs, own=False)

    async def stop(self) -> None:
        if self._sweep is not None:
            self._sweep.cancel()
            await asyncio.gather(self._sweep, return_exceptions=True)
        await super().stop()


async def start_endpoint(
    config: Config,
    on_inbound: InboundHandler | None = None,
    lookup: Callable[[str], Any] | None = None,
    converse: Converse | None = None,
    on_result: Callable[[CallRequest, CallResult], Any] | None = None,
    verify: Verifier | None = None,
    legs: LegStore | None = None,
    variables: Mapping[str, str] | None = None,
    sweep_seconds: float = SWEEP_SECONDS,
) -> SipEndpoint:
    """`variables`: the desk's, read at each call (default config.variables; `veribot serve` adds
    the number and badge an admin set in the console). `sweep_seconds` <= 0: no sweep."""
    settings = TelephonySettings.from_config(config)
    desk = config.variables if variables is None else variables
    if on_inbound is not None:
        handler = holding_legs(on_inbound, legs)
    else:
        handler = inbound_handler(settings, desk, lookup, converse, on_result, verify, legs)
    endpoint = WorkerEndpoint(settings, handler, legs, sweep_seconds)
    await endpoint.start()
    return endpoint


async def end_predecessors_calls(endpoint: SipEndpoint, legs: LegStore, own: bool = True) -> None:
    """BYE every call a dead worker left up (see `legs` above): with `own`, this worker id's
    earlier run's too (at start only: later they are this run's live calls). Through the dialled
    calls' path (`SipCallRunner.end_orphans`). Legs older than the longest call are ended too,
    whoever held them. Storage failing here is logged: the worker goes on."""
    try:
        dialogs = await legs.orphans(stale_after=endpoint.settings.max_call_seconds + 60, own=own)
    except Exception:
        log.exception("calls left by a dead worker not looked up: their callers wait for their media timeout")
        return
    await SipCallRunner(endpoint).end_orphans(dialogs)


def media_stream_on_call(
    run: Callable[[Any, CallRequest], Any],
    script: Any,
    variables: dict[str, str],
    lookup: Callable[[dict[str, str]], Any],
    on_result: Callable[[CallRequest, CallResult], Any] | None = None,
) -> Callable[[Any, Any], Any]:
    """`on_call` for `bot.telephony.twilio.media_streams.add_media_stream_route`. The TwiML <Stream>'s
    <Parameter>s (e.g. attempt, phone) go to `lookup(params) -> InboundMatch | dict | None`;
    `run(transport, request) -> CallRecord` runs the call, e.g.
    `lambda t, r: run_call(t, r, resources)`. An unknown stream is closed at once."""

    async def on_call(transport: Any, start: Any) -> None:
        found = await _maybe(lookup(dict(start.custom)))
        if isinstance(found, dict):
            found = InboundMatch(found)
        if found is None:
            log.warning("media stream %s: no person for its parameters; closed", start.stream_sid[:8])
            return
        request = CallRequest(found.attempt_id, str(start.custom.get("phone", "")), found.person, script,
                              prefilled_slots=found.prefilled_slots,
                              variables={**localised(variables, script.locale), **found.variables},
                              on_turn=found.on_turn,
                              observers=found.observers, parser=found.parser, guard=found.guard)
        record = await run(transport, request)
        if on_result is not None:
            await _maybe(on_result(request, CallResult(NetworkOutcome.ANSWERED, record=record, detail="media stream")))

    return on_call

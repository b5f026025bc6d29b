"""The SIP endpoint of one worker: aiosipua UAS+UAC (agents.py) on one UDP socket behind
the edge guard, calls in and out with their RTP streams, capacity, timers, the edge policy
(who may call in, where RTP may go, calls per source) and the two aiosipua fixes from
TELEPHONY.md (Record-Route in UAS responses; ACK for non-2xx finals)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pkgutil
from collections.abc import Awaitable, Callable

import aiosipua
from aiosipua import DialogState, IncomingCall, Registration, SipDigestAuth, SipResponse
from aiosipua.headers import parse_address, parse_uri

from bot.privacy import PhoneMaskFilter, mask_phone
from bot.telephony.detection.carrier_announcements import Transcribe
from bot.telephony.media.rtp_stream import MediaStream, PortPool
from bot.telephony.settings import TelephonySettings
from bot.telephony.sip import sdp
from bot.telephony.sip.agents import EdgeUAC, EdgeUAS
from bot.telephony.sip.call import DialOutcome, SipCall, answered_dialog_state, dialog_state
from bot.telephony.sip.early_media import EarlyMedia
from bot.telephony.sip.edge_policy import EdgePolicy, SourceCalls, mask_ip
from bot.telephony.sip.guard import GuardedUdpTransport, RateLimit
from bot.telephony.sip.in_dialog import InDialogRequests, TransferHandler
from bot.telephony.sip.messages import FinalResponses, keep_record_route, retry_after_seconds, uri_target

log = logging.getLogger(__name__)
for _mod in ["aiosipua", *(f"aiosipua.{m.name}" for m in pkgutil.iter_modules(aiosipua.__path__))]:
    logging.getLogger(_mod).addFilter(PhoneMaskFilter())  # aiosipua logs whole URIs: mask numbers

InboundHandler = Callable[[SipCall], Awaitable[object]]
# seconds the call handler gets to finish its record after the far end hangs up: a handler ends at
# once unless something it awaits cannot be interrupted (a prompt's synthesis in a thread); on a
# loaded worker that takes many seconds, and cancelling it then lost the call's whole record
HANGUP_GRACE = 30.0
# after the bot hung up itself the handler is already ending: the pipeline has said its last words,
# and an echo pipeline that never ends after its own EndFrame (tests/telephony/test_tel_transport.py)
# held its line the whole HANGUP_GRACE; such a handler is cancelled sooner, as before
LOCAL_HANGUP_GRACE = 5.0


class SipEndpoint(InDialogRequests):
    def __init__(self, settings: TelephonySettings, on_inbound: InboundHandler | None = None) -> None:
        self.settings = settings
        self.on_inbound = on_inbound
        self.ports = PortPool(*settings.rtp_ports)
        self.calls: dict[str, SipCall] = {}
        self.setting_up = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.finals = FinalResponses()
        self.policy = EdgePolicy.from_settings(settings)
        self.sources = SourceCalls()
        self.transport = GuardedUdpTransport()
        s = settings
        self.transport.configure(s.max_message_bytes, RateLimit(
            s.rate_limit_per_second, s.rate_limit_burst, s.rate_limit_ban_seconds, self.policy.is_trusted))
        self.transport.local_addr = s.listen
        self.transport.on_send = self.finals.sent  # the INVITEs are noted for ACKing their finals
        self.uac = EdgeUAC(self.transport)
        self.uac.on_response = self._on_response
        self.uac.accepts = self._accepts_response  # type: ignore[method-assign]
        self.uas = EdgeUAS(self.transport, uac=self.uac, user_agent="veribot")
        self.uas.admit = self._admit  # type: ignore[method-assign]
        self.uas.options_refusal = self._options_refusal  # type: ignore[method-assign]
        self.uas.on_invite = self._on_invite
        self.uas.on_bye = self._on_bye
        self.uas.on_reinvite = self._on_reinvite
        self.uas.on_transfer_progress = self._on_transfer_progress
        self.uas.on_refer = self._on_refer
        self.on_refer: TransferHandler | None = None  # we are the transferee (softphone)
        self.registration: Registration | None = None
        self.accepting: Callable[[], bool] = lambda: True  # False: new inbound calls get 503 (storage alarm, headroom)
        self.held_because: Callable[[], str] = lambda: "storage alarm"  # why not accepting, for the log
        self._early: dict[str, EarlyMedia] = {}  # ringing outbound INVITEs by Call-ID (their 18x SDP)

    @property
    def busy(self) -> int:
        """Concurrency slots in use: live calls plus calls being set up."""
        return len(self.calls) + self.setting_up

    @property
    def local_addr(self) -> tuple[str, int]:
        return self.transport.local_addr

    async def start(self) -> None:
        await self.uas.start()
        assert self.transport._udp_transport is not None
        host, port = self.transport._udp_transport.get_extra_info("sockname")[:2]
        self.transport.local_addr = (self.settings.public_address or host, port)
        s = self.settings
        if s.register and s.trunk:
            aor = f"sip:{s.auth_user or s.caller_id}@{uri_target(s.trunk)[0]}"
            self.registration = Registration(self.uac, aor, uri_target(s.trunk), auth=self._auth())
            self.registration.register()
        if s.trunk and not self.policy.may_call(uri_target(s.trunk)[0]):
            log.warning("[telephony] trunk is a host name: list its addresses in trusted_sources or its calls get 403")
        log.info("SIP endpoint on %s:%d", *self.local_addr)

    async def stop(self) -> None:
        for call in list(self.calls.values()):
            call.hangup()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=HANGUP_GRACE + 1)
        for call in list(self.calls.values()):
            await self._release(call)
        if self.registration is not None:
            with contextlib.suppress(Exception):
                self.registration.unregister()
        await self.uas.stop()

    def _auth(self) -> SipDigestAuth | None:
        s = self.settings
        return SipDigestAuth(s.auth_user, s.auth_password.reveal()) if s.auth_user else None

    def _media(self) -> MediaStream:
        """RTP binds where SIP listens; SDP and Contact advertise `local_addr` (public_address)."""
        return MediaStream(self.settings.listen[0], self.ports, inactivity=self.settings.media_inactivity)

    # ------------------------------------------------------------------ outbound
    async def dial(self, uri: str, *, caller_id: str | None = None, headers: dict[str, str] | None = None,
                   transcribe: Transcribe | None = None, locale: str = "zh-CN") -> DialOutcome:
        """Place a call. Answered: DialOutcome.call is live (run it with `supervise`). A carrier announcement
        in early media CANCELs the INVITE: DialOutcome.carrier (bot.telephony.sip.early_media)."""
        s = self.settings
        if self.busy >= s.capacity:
            return DialOutcome(None, 503, "worker at capacity", float(s.retry_after), local=True)
        if not uri.startswith("sip") and not s.trunk:
            return DialOutcome(None, None, "a bare number needs [telephony] trunk")
        self.setting_up += 1
        media = self._media()
        try:
            await media.open()  # bind RTP before the INVITE leaves (pitfall 4)
            to_uri = uri if uri.startswith("sip") else f"sip:{uri}@{uri_target(s.trunk)[0]}"
            remote = uri_target(s.trunk) if s.trunk else uri_target(to_uri)
            from_uri = f"sip:{caller_id or s.caller_id}@{self.local_addr[0]}"
            out = self.uac.send_invite(
                from_uri, to_uri, remote, sdp.offer(self.local_addr[0], media.port, s.codecs),
                extra_headers=headers, user_agent="veribot", auth=self._auth(),
            )
            heard, early = None, EarlyMedia(
                media, s.codecs, lambda host: self.policy.media_allowed(host, remote[0]), transcribe, locale)
            if s.early_media:  # off: no 18x reaches the listener, so it only waits for the answer
                self._early[out.call_id] = early
            try:
                heard = await early.ring(out, s.ring_timeout, lambda: out.cancel(self.uac))
            except TimeoutError:
                out.cancel(self.uac)
                with contextlib.suppress(TimeoutError, RuntimeError):
                    await out.wait_answered(timeout=2.0)  # the 487 (or a last-moment 200)
                if out.dialog.state.value != "confirmed":
                    await media.close()
                    return DialOutcome(None, 408, "ring timeout")
            except RuntimeError:
                await media.close()
                final = self.finals.take(out.call_id)
                return DialOutcome(None, out._reject_code, out._reject_reason, retry_after_seconds(final))
            finally:
                early.stop()
                self._early.pop(out.call_id, None)
            if heard is not None:  # no dialog: the INVITE is CANCELled (unless a final error ended it)
                out.cancel(self.uac)
                await media.close()
                return DialOutcome(None, out._reject_code or 487, "carrier announcement in early media", carrier=heard)
            try:
                choice = sdp.choose(out.sdp_answer, s.codecs)
            except ValueError as exc:
                out.hangup(self.uac)
                await media.close()
                return DialOutcome(None, 488, str(exc))
            if not self.media_allowed(choice.peer[0], out.remote_addr[0], out.call_id):
                out.hangup(self.uac)
                await media.close()
                return DialOutcome(None, 488, "media address outside policy")
            media.connect(choice.peer, choice.payload_type, choice.dtmf_payload_type)
            call = SipCall(out.call_id, "outbound", parse_uri(to_uri).user or "", media,
                           sip_dialog=dialog_state(out.dialog, out.remote_addr),  # for a BYE after a crash
                           send_bye=lambda: out.hangup(self.uac),
                           send_refer=lambda target: self.uac.send_refer(out.dialog, target, out.remote_addr))
            self._adopt(call)
            return DialOutcome(call, 200, "OK")
        except BaseException:
            if media.port and not media.closed:
                await media.close()
            raise
        finally:
            self.setting_up -= 1

    def _on_response(self, resp: SipResponse) -> None:
        if (early := self._early.get(resp.call_id or "")) is not None:
            early.provisional(resp)  # a 180/183 with SDP: its early media is heard
        ack = self.finals.received(resp)
        if ack is not None:
            self.transport.send(*ack)  # RFC 3261 17.1.1.3 (pitfall 2)

    # ------------------------------------------------------------------ inbound
    def _on_invite(self, inc: IncomingCall) -> None:
        keep_record_route(inc)
        s = self.settings
        source = inc.source_addr[0]
        if self.busy >= s.capacity or len(self.sources) >= s.inbound_lines:  # the rest is the campaign's
            self._refuse(inc, 503, "Service Unavailable", {"Retry-After": str(s.retry_after)})
            log.warning("inbound call refused: at capacity (%d, inbound %d)", s.capacity, s.inbound_lines)
            return
        if not self.accepting():
            self._refuse(inc, 503, "Service Unavailable", {"Retry-After": str(s.retry_after)})
            log.warning("inbound call refused: this worker takes no new calls (%s)", self.held_because())
            return
        if not self.policy.is_trusted(source) and self.sources.count(source) >= s.per_source_limit:
            self._refuse(inc, 503, "Service Unavailable", {"Retry-After": str(s.retry_after)})
            log.warning("inbound call from %s refused: the source holds %d calls", mask_ip(source), s.per_source_limit)
            return
        if self.on_inbound is None:
            self._refuse(inc, 480, "Temporarily Unavailable")
            return
        self.sources.add(inc.call_id, source)
        self.setting_up += 1
        self._spawn(self._answer(inc))

    def _refuse(self, inc: IncomingCall, code: int, reason: str, headers: dict[str, str] | None = None) -> None:
        inc._send_response(code, reason, extra_headers=headers)
        inc.dialog.terminate()
        self.uas.forget(inc.call_id)

    async def _answer(self, inc: IncomingCall) -> None:
        media = self._media()
        try:
            try:
                choice = sdp.choose(inc.sdp_offer, self.settings.codecs)
            except ValueError:
                self._refuse(inc, 488, "Not Acceptable Here")
                return
            if not self.media_allowed(choice.peer[0], inc.source_addr[0], inc.call_id):
                self._refuse(inc, 488, "Not Acceptable Here")
                return
            await media.open()  # bound before the 200 OK goes out (pitfall 4)
            if inc.dialog.state is DialogState.TERMINATED:  # CANCELled meanwhile: 487 was sent, no 200 after it
                await media.close()
                return
            inc.accept(sdp.answer(self.local_addr[0], media.port, choice))
            media.connect(choice.peer, choice.payload_type, choice.dtmf_payload_type)
            caller = parse_address(inc.caller).uri.user or "" if inc.caller else ""
            call = SipCall(inc.call_id, "inbound", caller, media, headers=dict(inc.x_headers),
                           sip_dialog=answered_dialog_state(inc),  # stored: a BYE if this worker dies
                           send_bye=inc.hangup,
                           send_refer=lambda target: self.uac.send_refer(inc.dialog, target, inc.source_addr))
            self._adopt(call)
        except BaseException:
            if media.port and not media.closed:
                await media.close()
            raise
        finally:
            self.setting_up -= 1
            if inc.call_id not in self.calls:
                self.sources.discard(inc.call_id)
        log.info("inbound call %s from %s", call.call_id[:8], mask_phone(caller))
        assert self.on_inbound is not None
        await self.supervise(call, self.on_inbound(call))

    def _adopt(self, call: SipCall) -> None:
        self.calls[call.call_id] = call
        call.media.on_inactive = lambda: self._end(call, "media_timeout")

    def _end(self, call: SipCall, reason: str) -> None:
        if not call.ended.is_set():
            call.hangup()
            call.end_reason = reason

    # ------------------------------------------------------------------ life of a call
    async def supervise(self, call: SipCall, handler: Awaitable[object]) -> None:
        """Run the call's handler under the maximum call length; whatever happens, hang up
        and free port, tasks and slot (a far-end hang-up leaves the handler HANGUP_GRACE s)."""
        task = asyncio.ensure_future(handler)
        ended = asyncio.ensure_future(call.ended.wait())
        try:
            done, _ = await asyncio.wait({task, ended}, timeout=self.settings.max_call_seconds,
                                         return_when=asyncio.FIRST_COMPLETED)
            if not done:
                self._end(call, "max_length")
            if not task.done():
                grace = LOCAL_HANGUP_GRACE if call.end_reason == "local_hangup" else HANGUP_GRACE
                await asyncio.wait({task}, timeout=grace)
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            elif task.exception() is not None:
                log.error("call handler failed: %r", task.exception())
        finally:
            ended.cancel()
            call.hangup()
            await self._release(call)

    async def _release(self, call: SipCall) -> None:
        self.calls.pop(call.call_id, None)
        self.sources.discard(call.call_id)
        self.uas.forget(call.call_id)
        await call.media.close()

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Future[None]) -> None:
        self._tasks.discard(task)  # type: ignore[arg-type]
        if not task.cancelled() and task.exception() is not None:
            log.error("call task failed: %r", task.exception())

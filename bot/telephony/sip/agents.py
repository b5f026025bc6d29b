"""aiosipua 0.7.1's user agents with what veribot changes, as subclasses overriding the
library's own methods (no attribute of a live object is replaced). Each override is pinned
by tests/telephony/test_tel_aiosipua.py, which fails loudly if an upgrade renames or
reshapes an overridden method or fixes a bug worked around here.

  EdgeUAS._handle_request  RFC 3261 8.2 refusals (uasrules) and the endpoint's admission
                           (trusted sources, tags without a dialog) before aiosipua dispatches
  EdgeUAS._handle_options  503 + Retry-After while the worker is full (Kamailio's health check)
  EdgeUAS.forget           drop a call aiosipua keeps after our own hang-up or refusal
  EdgeUAC.handle_response  a response not from the dialog's peer (or, of no dialog, from no peer
                           we know) is dropped (`accepts`, in_dialog.py); every other response is shown to
                           `on_response` first (ACK of non-2xx finals); a 2xx to an INVITE of no
                           call of ours is ACKed and BYEd (call.end_stray_answer)
"""

from __future__ import annotations

from collections.abc import Callable

from aiosipua import SipRequest, SipResponse, SipUAC, SipUAS

from bot.telephony.sip.call import end_stray_answer
from bot.telephony.sip.uas_rules import Refusal, refusal

Admission = Callable[[SipRequest, tuple[str, int]], Refusal | None]


def _admit_all(_request: SipRequest, _addr: tuple[str, int]) -> Refusal | None:
    return None


def _not_busy() -> Refusal | None:
    return None


class EdgeUAS(SipUAS):
    admit: Admission = staticmethod(_admit_all)  # type: ignore[assignment]
    options_refusal: Callable[[], Refusal | None] = staticmethod(_not_busy)

    def _handle_request(self, request: SipRequest, addr: tuple[str, int]) -> None:
        refused = refusal(request, self._handlers) or self.admit(request, addr)
        if refused is None:
            super()._handle_request(request, addr)
        else:
            self.refuse(request, refused)

    def _handle_options(self, request: SipRequest, addr: tuple[str, int]) -> None:
        refused = self.options_refusal()
        if refused is None:
            super()._handle_options(request, addr)
        else:
            self.refuse(request, refused)

    def refuse(self, request: SipRequest, refused: Refusal) -> None:
        if refused.code == 0:
            return  # dropped (a retransmission)
        self._send_error(request, refused.code, refused.reason, extra_headers=refused.headers or None)

    def forget(self, call_id: str) -> None:
        self._calls.pop(call_id, None)


def _accept_all(_response: SipResponse, _addr: tuple[str, int]) -> bool:
    return True


class EdgeUAC(SipUAC):
    on_response: Callable[[SipResponse], None] | None = None
    accepts: Callable[[SipResponse, tuple[str, int]], bool] = staticmethod(_accept_all)  # type: ignore[assignment]

    def handle_response(self, response: SipResponse, addr: tuple[str, int]) -> None:
        if not self.accepts(response, addr):
            return
        if self.on_response is not None:
            self.on_response(response)
        if end_stray_answer(self, response, addr):  # a dead predecessor's call: ACK + BYE
            return
        super().handle_response(response, addr)

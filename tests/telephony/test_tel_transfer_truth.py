"""After a failed transfer the resident is told the truth: the script's `human_callback` words
(staff will call back within …), not silence after "transferring you"."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.calls import CallRequest
from bot.dialog.events import Escalate, EscalationReason
from bot.dialog.script import load_script
from bot.telephony.calls import sip_runner as runner

ZH = Path(__file__).resolve().parents[2] / "dialogs" / "verification.zh-CN.yaml"


class _Media:
    def __init__(self) -> None:
        self.played: list[bytes] = []

    def play(self, pcm: bytes) -> None:
        self.played.append(pcm)

    async def drained(self) -> None:
        return None


class _Call:
    def __init__(self, transfer_ok: bool) -> None:
        self.ended = asyncio.Event()
        self.media = _Media()
        self.transferred = False
        self.ok = transfer_ok

    async def transfer(self, uri: str) -> bool:
        self.transferred = self.ok  # as SipCall.transfer: True once the operator answered
        return self.ok


async def _run(monkeypatch, transfer_ok: bool, operator_uri: str = "sip:op@127.0.0.1") -> tuple[_Call, list[str]]:
    said: list[str] = []

    async def speak(text: str, locale: str) -> bytes:
        said.append(text)
        return b"\x01\x00" * 800

    monkeypatch.setattr("audio.synthesis.speak", speak)
    request = CallRequest("t", "+8613800000000", {"name": "张伟"}, load_script(ZH),
                          variables={"agency": "兰州市公安局", "callback_within": "2小时"})

    async def converse(call, req):
        for observer in req.observers:
            observer(Escalate(EscalationReason.REQUESTED_HUMAN, "identity", "asked for a person"))
        return None

    call = _Call(transfer_ok)
    await runner.converse_and_escalate(converse, call, request, operator_uri)
    return call, said


async def test_a_failed_transfer_tells_the_resident_who_will_call_back(monkeypatch) -> None:
    call, said = await _run(monkeypatch, transfer_ok=False)
    assert len(said) == 1 and "2小时内给您回电" in said[0] and call.media.played


async def test_a_transfer_that_works_says_nothing_more(monkeypatch) -> None:
    call, said = await _run(monkeypatch, transfer_ok=True)
    assert said == [] and call.transferred is True


async def test_without_an_operator_line_the_dialog_itself_already_said_it(monkeypatch) -> None:
    _call, said = await _run(monkeypatch, transfer_ok=False, operator_uri="")
    assert said == []

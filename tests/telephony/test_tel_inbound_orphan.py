"""Issue 12: no caller's SIP leg outlives the worker that answered it. A real `veribot serve`
is SIGKILLed while two people are on the line — a resident who keyed their call code (baresip,
calling the worker directly; matched, the dialog on their attempt) and an unknown caller still
asked for a code (SIPp through Kamailio, which record-routes; the dialog only in `inbound_leg`) —
and restarted: both callers get a BYE within 10 s of the restart (SIPp logs it, checked against
the 200 OK of the call; Kamailio relays an in-dialog request only along its Record-Route), and no
stored dialog is left."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sip_peers import REPO, Baresip, Kamailio, free_tcp_port, free_udp_port, scenario, silent_wav, start_sipp
from sqlmodel import select

from audio.synthesis import speak
from bot.dialog.catalogue import catalogue_for
from storage.models import (
    Attempt,
    AttemptState,
    Campaign,
    CampaignStatus,
    InboundLeg,
    Person,
    PersonState,
    utcnow,
)

pytestmark = [pytest.mark.sip, pytest.mark.slow]
RESIDENT, STRANGER, CODE = "13800000001", "13900000009", "428617"
BYE_WITHIN = 10.0  # seconds after the restart (the acceptance: no leg outlives its worker by more)


def _worker_url(db) -> str:
    if not db.schema:
        return db.url
    return f"{db.url}{'&' if '?' in db.url else '?'}options=-csearch_path%3D{db.schema}"


def _config(tmp: Path, db_url: str, sip: int) -> Path:
    rtp = 42000 + (os.getpid() % 50) * 100
    path = tmp / "config.toml"
    path.write_text(f"""
[agency]
name = "City Police"
badge = "6201-0427"
caller_id = "96110"
callback_number = "96110"
[service]
host = "127.0.0.1"
port = {free_tcp_port()}
var_dir = "{tmp / 'var'}"
[database]
url = "{db_url}"
[console]
secure_cookies = false
[serve]
sip = true
dialer = false
locales = ["en-US"]
[speech]
models_dir = "{tmp / 'no-models'}"
[telephony]
listen = "127.0.0.1:{sip}"
rtp_ports = "{rtp}-{rtp + 98}"
trusted_sources = ["127.0.0.1"]
media_inactivity = 120
inbound_dialog = "{REPO / 'dialogs' / 'verification.en-US.yaml'}"
""", encoding="utf-8")
    return path


class Serve:
    """`veribot serve` as a child process, its log in a file."""

    def __init__(self, config: Path, log: Path) -> None:
        self.log = log
        self.out = log.open("wb")
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--config", str(config)], cwd=REPO,
                                     stdout=self.out, stderr=subprocess.STDOUT, env=env)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    async def started(self, limit: float = 60.0) -> None:
        deadline = time.monotonic() + limit
        while "SIP endpoint started" not in self.text():
            assert self.proc.poll() is None and time.monotonic() < deadline, self.text()[-3000:]
            await asyncio.sleep(0.1)

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        return self.proc.returncode


def _seed(s) -> None:
    """A resident called yesterday by the campaign (paused: nobody dials) and given CODE."""
    camp = Campaign(name="callbacks", status=CampaignStatus.PAUSED, concurrency=2)
    s.add(camp)
    s.flush()
    person = Person(campaign_id=camp.id, name="Li Lei", phone=f"+86{RESIDENT}", attempt_count=1)
    s.add(person)
    s.flush()
    called = utcnow() - timedelta(days=1)
    s.add(Attempt(person_id=person.id, campaign_id=camp.id, phone=person.phone, state=AttemptState.ENDED,
                  claimed_at=called, started_at=called, ended_at=called, outcome="hung_up", call_code=CODE))


def _sipp_log(cwd: Path) -> dict[str, str]:
    (path,) = cwd.glob("uac_await_bye_*_logs.log")
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def _tag(header: str) -> str:
    found = re.search(r";\s*tag=([^;>\s]+)", header)
    assert found, header
    return found.group(1)


async def _until(what, limit: float, why: str, serve: Serve) -> None:
    deadline = time.monotonic() + limit
    while not what():
        assert time.monotonic() < deadline, f"{why}: {serve.text()[-3000:]}"
        await asyncio.sleep(0.1)


async def test_kill_9_mid_inbound_calls_then_restart_sends_each_caller_a_bye(db, tmp_path: Path) -> None:
    db.run(_seed)
    sip, sipp_port = free_udp_port(), free_udp_port()
    config = _config(tmp_path, _worker_url(db), sip)
    resident = Baresip("caller", tmp_path, silent_wav(tmp_path / "mic.wav", 120))
    (resident.dir / "accounts").write_text(f"<sip:{RESIDENT}@127.0.0.1>;regint=0;audio_codecs=PCMU,PCMA\n")
    prompt = await speak(catalogue_for("en-US").say("verify.code", {}, digits=len(CODE)), "en-US")
    first = Serve(config, tmp_path / "serve-1.log")
    second = sipp = None
    proxy = Kamailio(tmp_path, [sip])
    await resident.start(seconds=180)
    try:
        await first.started()
        proxy.start()
        await resident.command("dial", f"sip:96110@127.0.0.1:{sip}")
        await resident.wait_event("CALL_ESTABLISHED")
        # keys count once the code prompt has played (synthesised after the answer): 15 s to key it
        await asyncio.sleep(len(prompt) / 16000 + 3.0)
        for digit in CODE:
            await resident.command("sndcode", digit)
            await asyncio.sleep(0.25)

        def matched() -> bool:
            att = db.run(lambda s: s.exec(select(Attempt).where(Attempt.detail == "inbound callback")).first(),
                         write=False)
            return att is not None and att.sip_dialog is not None

        await _until(matched, 30, "the resident was not matched", first)
        # the stranger calls now, so is still being asked for a code at the kill
        stranger = scenario("uac_await_bye.xml", tmp_path, CALLER=STRANGER, WAIT_MS="120000")
        sipp = await start_sipp([f"127.0.0.1:{proxy.port}", "-sf", str(stranger), "-s", "96110", "-i", "127.0.0.1",
                                 "-p", str(sipp_port), "-mi", "127.0.0.1", "-mp", str(free_udp_port()),
                                 "-m", "1", "-trace_logs"], tmp_path)
        await _until(lambda: len(db.run(lambda s: s.exec(select(InboundLeg)).all(), write=False)) == 2, 15,
                     "both calls' legs stored", first)
        assert sipp.returncode is None, "the unknown caller's call ended before the kill"
        os.kill(first.proc.pid, signal.SIGKILL)
        killed = time.monotonic()
        first.proc.wait(10)
        await asyncio.sleep(1.0)  # the callers' legs stay up: nobody is left to end them
        assert sipp.returncode is None and not any(e.get("type") == "CALL_CLOSED" for e in resident.events)

        restarted = time.monotonic()
        second = Serve(config, tmp_path / "serve-2.log")
        closed = asyncio.ensure_future(resident.wait_event("CALL_CLOSED", limit_s=BYE_WITHIN + 5))
        assert await asyncio.wait_for(sipp.wait(), BYE_WITHIN + 5) == 0, (tmp_path, second.text()[-3000:])
        stranger_bye = time.monotonic() - restarted
        await closed
        resident_bye = time.monotonic() - restarted
    finally:
        await resident.stop()
        if sipp is not None and sipp.returncode is None:
            sipp.kill()
            await sipp.wait()
        if proxy.proc is not None:
            proxy.stop()
        first.stop()
        code = second.stop() if second is not None else None
    print(f"BYE after the restart (the kill): unknown caller {stranger_bye:.1f}s, resident {resident_bye:.1f}s "
          f"({restarted - killed + max(stranger_bye, resident_bye):.1f}s)")
    assert stranger_bye <= BYE_WITHIN and resident_bye <= BYE_WITHIN, second.text()[-3000:]
    assert code == 0, second.text()[-3000:]
    assert "call(s) left by a worker that is gone" in second.text()

    # the BYE of the unknown caller's leg, built from the stored dialog, as SIPp saw it
    seen = _sipp_log(tmp_path)
    assert seen["bye_line"] == f"BYE sip:{STRANGER}@127.0.0.1:{sipp_port};transport=udp"  # their Contact
    assert seen["bye_call_id"] == seen["ok_call_id"]
    assert _tag(seen["bye_from"]) == _tag(seen["ok_to"])  # From: our To, with our tag
    assert _tag(seen["bye_to"]) == _tag(seen["our_from"])  # To: their From, with their tag
    assert seen["bye_cseq"].split()[1] == "BYE"
    assert f"127.0.0.1:{proxy.port}" in seen["bye_via"]  # it came along the route set, through Kamailio

    # nothing stored is left to end; the resident's callback is recorded as interrupted
    assert db.run(lambda s: s.exec(select(InboundLeg)).all(), write=False) == []
    callback = db.run(lambda s: s.exec(select(Attempt).order_by(Attempt.id.desc())).first(), write=False)
    assert (callback.state, callback.sip_dialog) == (AttemptState.INTERRUPTED, None)
    person = db.run(lambda s: s.exec(select(Person)).one(), write=False)
    assert person.state != PersonState.IN_PROGRESS

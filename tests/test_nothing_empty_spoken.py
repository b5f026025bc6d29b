"""No placeholder or empty value is ever spoken (issue 22 item 5): lint --config and serve refuse
a config that would leave {badge} empty or say a Chinese agency name in an English script,
naming the key; simulate and the console's simulator say a sample call code, never "{call_code}"."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.config import from_dict
from bot.dialog.script import load_script
from bot.dialog.speakable import SAMPLE_CALL_CODE, unspeakable

REPO = Path(__file__).resolve().parents[1]
ZH, EN = REPO / "dialogs" / "verification.zh-CN.yaml", REPO / "dialogs" / "verification.en-US.yaml"


def veribot(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=REPO, capture_output=True, text=True, timeout=120)


def test_an_empty_badge_and_a_chinese_name_in_english_are_named():
    config = from_dict({"agency": {"badge": ""}})
    assert unspeakable(load_script(ZH), config.variables) == [
        f"{ZH}: handlers.who.0 says {{badge}}, but [agency] badge is empty: set it in config.toml"]
    problems = unspeakable(load_script(EN), config.variables)
    assert any("[agency] names" in p and "兰州市公安局" in p for p in problems)
    named = from_dict({"agency": {"badge": "6201-0427", "names": {"en": "Lanzhou Public Security Bureau"}}})
    assert unspeakable(load_script(ZH), named.variables) == unspeakable(load_script(EN), named.variables) == []


def test_lint_with_the_config_refuses_naming_the_key(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[agency]\nname = "兰州市公安局"\n', encoding="utf-8")
    out = veribot("dialogs", "lint", str(ZH), "--config", str(config))
    assert out.returncode == 1 and "[agency] badge is empty" in out.stdout and "handlers.who.0" in out.stdout
    config.write_text('[agency]\nbadge = "6201-0427"\n', encoding="utf-8")
    assert veribot("dialogs", "lint", str(ZH), "--config", str(config)).returncode == 0
    # a catalogue is linted too, and a script whose locale has none is told so
    assert veribot("dialogs", "lint", str(REPO / "dialogs" / "system.zh-CN.yaml")).returncode == 0
    (tmp_path / "s.yaml").write_text(EN.read_text(encoding="utf-8").replace("locale: en-US", "locale: en-AU"),
                                     encoding="utf-8")
    out = veribot("dialogs", "lint", str(tmp_path / "s.yaml"))  # valid, but told what is missing
    assert out.returncode == 0 and "warning: no system catalogue for en-AU" in out.stderr and "en-US's" in out.stderr


def test_serve_holds_calls_with_an_empty_badge_naming_the_key_and_keeps_the_console(tmp_path):
    """An empty badge: no call is placed or taken (a resident would hear "工号，"), the key is named
    in one line, and the console still starts, since an admin sets the badge there."""
    import os
    import signal
    import socket
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = tmp_path / "config.toml"
    config.write_text(f'[service]\nvar_dir = "{tmp_path / "var"}"\n[serve]\nsip = true\ndialer = true\n'
                      f'dialogs_dir = "{REPO / "dialogs"}"\n[telephony]\nlisten = "127.0.0.1:0"\n', encoding="utf-8")
    err = tmp_path / "serve.err"
    with err.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--config", str(config), "--port", str(port),
                                 "-v"], cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONPATH": str(REPO)})
        try:
            deadline, up = time.monotonic() + 90, False
            while not up and time.monotonic() < deadline and proc.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                        up = True
                except OSError:
                    time.sleep(0.3)
            text = err.read_text(encoding="utf-8", errors="replace")
            assert up, text[-2000:]
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    text = err.read_text(encoding="utf-8", errors="replace")
    held = [line for line in text.splitlines() if line.startswith("veribot serve: calls held")]
    assert held and "[agency] badge is empty" in held[0] and "handlers.who.0" in held[0], text[-2000:]
    assert "Traceback" not in text and "SIP endpoint started" not in text and "campaign dialer started" not in text


def test_the_shipped_config_names_the_desk_in_english_and_korean():
    from bot.config import load_config

    config = load_config(str(REPO / "config.toml"))
    for path in (EN, REPO / "dialogs" / "verification.ko-KR.yaml"):
        assert not any("[agency] names" in p for p in unspeakable(load_script(path), config.variables)), path


def test_simulate_says_a_sample_code_never_the_placeholder(tmp_path):
    answers = tmp_path / "a.txt"
    answers.write_text("你们是谁\n", encoding="utf-8")
    out = veribot("simulate", "--dialog", str(ZH), "--person", '{"name": "张伟"}', "--answers", str(answers))
    assert out.returncode == 0, out.stderr
    assert "{call_code}" not in out.stdout and "核验码是，" not in out.stdout
    assert f"核验码是{SAMPLE_CALL_CODE}" in out.stdout
    assert "warning" in out.stderr and "[agency] badge is empty" in out.stderr  # said, not only under -v


def test_the_console_simulator_says_a_sample_code():
    from bot.console.simulator import Simulator

    sim = Simulator()
    _, state = sim.start(1, load_script(ZH), {"name": "张伟"}, {"agency": "兰州市公安局", "callback_number": "96110"})
    text = str(state)
    assert "{call_code}" not in text and SAMPLE_CALL_CODE in text


async def test_a_test_call_says_its_own_real_code(sqlite_db):
    """The console's test call: its greeting says the attempt's code (a resident calling back
    with it hears the call was genuine), never "核验码是，" with nothing after it."""
    from bot.calls import CallResult, NetworkOutcome
    from bot.campaigns.dialing import trial_call
    from storage.models import Attempt, Campaign, CampaignStatus

    def setup(s):
        camp = Campaign(name="t", status=CampaignStatus.RUNNING, dialog_name="verification", dialog_path=str(ZH))
        s.add(camp)
        s.flush()
        return trial_call.prepare(s, camp.id, "+8613800000001", "admin", "127.0.0.1")

    trial = sqlite_db.run(setup)
    seen = []

    class Runner:
        async def run(self, request):
            seen.append(request)
            return CallResult(NetworkOutcome.NO_ANSWER)

    await trial_call.run(sqlite_db, Runner(), trial, {"agency": "兰州市公安局", "callback_number": "96110"})
    code = sqlite_db.run(lambda s: s.get(Attempt, trial.claim.attempt_id).call_code, write=False)
    assert code and len(code) == 6 and seen[0].variables["call_code"] == " ".join(code)

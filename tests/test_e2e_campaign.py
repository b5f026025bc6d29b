"""The whole product once, as an admin would run it: import a list, start the campaign, run
`veribot serve`; the dialer calls a resident (`veribot softphone`, real SIP/RTP on loopback) who
answers by keypad and cannot give an address, so the call escalates; the status, the stored
transcript and the operator's queue show it, and no personal data reached the service log."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage.db import Database

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.sip


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def veribot(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, capture_output=True, text=True,
                          check=check, timeout=60)


def test_import_start_serve_call_escalate(tmp_path: Path) -> None:
    sip, phone_sip, web = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM), free_port()
    db_url = f"sqlite:///{tmp_path / 'e2e.db'}"
    config = tmp_path / "config.toml"
    config.write_text(f"""
[agency]
name = "兰州市公安局"
caller_id = "96110"
callback_number = "96110"
badge = "6201-0427"
[service]
host = "127.0.0.1"
port = {web}
var_dir = "{tmp_path / 'var'}"
[database]
url = "{db_url}"
[console]
secure_cookies = false
[serve]
sip = true
dialer = true
[speech]
models_dir = "{tmp_path / 'no-models'}"
[telephony]
listen = "127.0.0.1:{sip}"
trunk = "sip:127.0.0.1:{phone_sip}"
rtp_ports = "33000-33100"
[dialer]
poll_seconds = 0.2
drain_seconds = 5
[campaigns]
window_start = "00:00"
window_end = "00:00"
""", encoding="utf-8")
    people = tmp_path / "people.csv"
    people.write_text("姓名,手机号,住址,类别\n张伟,138 0000 0001,兰州市城关区张掖路1号,密接\n", encoding="utf-8")
    veribot("people", "import", str(people), "--campaign", "e2e", "--config", str(config))
    veribot("campaigns", "start", "e2e", "--config", str(config))

    answers = tmp_path / "answers.txt"  # identity by key 1; an address cannot be keyed in
    answers.write_text("dtmf:1\ndtmf:1\ndtmf:1\ndtmf:1\n", encoding="utf-8")
    resident = subprocess.Popen(
        [sys.executable, "-m", "bot", "softphone", "--listen", f"127.0.0.1:{phone_sip}", "--answers", str(answers),
         "--dialog", "dialogs/verification.zh-CN.yaml", "--calls", "1", "--rtp-ports", "34000-34100"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--config", str(config)], cwd=ROOT,
                                  stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            status = {}
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                out = veribot("campaigns", "status", "e2e", "--json", "--config", str(config), check=False)
                if out.returncode == 0:
                    status = json.loads(out.stdout)
                    if status.get("escalated") == 1:
                        break
                assert server.poll() is None, log_path.read_text(errors="replace")
                time.sleep(1)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            finally:
                resident.kill()
                resident.wait()
    served = log_path.read_text(encoding="utf-8", errors="replace")
    assert status.get("escalated") == 1 and status["people"] == 1 and status["pending"] == 0, (status, served[-3000:])
    assert server.returncode == 0, served[-3000:]

    db = Database(db_url)
    try:
        turns = db.run(lambda s: s.connection().exec_driver_sql(
            "SELECT speaker, text FROM turn ORDER BY attempt_id, seq").all(), write=False)
        case = db.run(lambda s: s.connection().exec_driver_sql(
            "SELECT reason, step, status FROM escalation").all(), write=False)
        identity = db.run(lambda s: s.connection().exec_driver_sql(
            "SELECT value FROM result WHERE slot = 'identity'").scalar(), write=False)
    finally:
        db.dispose()
    texts = [t for _, t in turns]
    assert texts[0].startswith("您好！这里是兰州市公安局") and "请问您是张伟本人吗？" in texts
    assert ("caller", "dtmf:1") in [tuple(t) for t in turns]
    assert [tuple(c) for c in case] == [("unresolved", "residence", "open")]
    assert identity in ("yes", '"yes"')  # a JSON column read as raw SQL
    for secret in ("13800000001", "138 0000 0001", "张伟", "张掖路"):
        assert secret not in served, f"personal data {secret!r} in the service log"

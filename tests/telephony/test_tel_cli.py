"""`veribot dial` and `veribot softphone` as commands: JSON out, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sip_peers import REPO, free_udp_port, scenario

SCRIPT = REPO / "tests" / "telephony" / "fixtures" / "short.en-US.yaml"


def veribot(*args: str, limit_s: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, timeout=limit_s, cwd=REPO)


@pytest.mark.sip
def test_dial_a_busy_line_prints_the_sip_outcome(tmp_path: Path) -> None:
    from sip_peers import need

    port = free_udp_port()
    sf = scenario("uas_busy.xml", tmp_path)
    sipp = subprocess.Popen([need("sipp"), "-sf", str(sf), "-i", "127.0.0.1", "-p", str(port), "-m", "1", "-nostdin"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    try:
        out = veribot("dial", f"sip:resident@127.0.0.1:{port}", "--dialog", str(SCRIPT), "--person",
                      '{"name": "Li Lei"}', "--json", "--keypad")
        assert sipp.wait(10) == 0
    finally:
        if sipp.poll() is None:
            sipp.kill()
    assert out.returncode == 1, out.stderr[-2000:]
    result = json.loads(out.stdout)
    assert result["outcome"] is None and result["transcript"] == []
    assert result["sip"] == {"status": 486, "outcome": "busy", "detail": "Busy Here", "retry_after": None}


def test_dial_bad_person_is_a_clear_error() -> None:
    out = veribot("dial", "sip:x@127.0.0.1:9", "--dialog", str(SCRIPT), "--person", "{not json", "--json")
    assert out.returncode == 2 and "--person is not valid JSON" in out.stderr and out.stdout == ""


def test_dial_bad_dialog_lists_its_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nlocale: en-US\nstart: nowhere\nsteps: {}\n")
    out = veribot("dial", "sip:x@127.0.0.1:9", "--dialog", str(bad), "--person", "{}", "--json")
    assert out.returncode == 2 and "line" in out.stderr and out.stdout == ""


def test_softphone_bad_answers_are_a_clear_error(tmp_path: Path) -> None:
    answers = tmp_path / "answers.txt"
    answers.write_text("dtmf:1x\n")
    out = veribot("softphone", "--listen", "127.0.0.1:0", "--answers", str(answers), "--locale", "en-US")
    assert out.returncode == 2 and "line 1: bad DTMF keys '1x'" in out.stderr
    out = veribot("softphone", "--listen", "127.0.0.1:0", "--answers", str(tmp_path / "missing.txt"))
    assert out.returncode == 2 and "missing.txt" in out.stderr

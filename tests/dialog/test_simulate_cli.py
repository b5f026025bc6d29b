"""`veribot simulate`: answers-file parsing, bad input, and the interactive terminal mode."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.dialog.events import Dtmf, HangUp, NoInput, Utterance
from bot.simulate import AnswerError, load_person, parse_answer

ROOT = Path(__file__).resolve().parents[2]
ZH = str(ROOT / "dialogs" / "verification.zh-CN.yaml")


def veribot(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True, cwd=ROOT)


def test_answer_lines():
    assert parse_answer("绿 码 @0.42") == [Utterance("绿 码", 0.42)]
    assert parse_answer("绿 码") == [Utterance("绿 码", 1.0)]
    assert parse_answer("dtmf:12") == [Dtmf("1"), Dtmf("2")]
    assert parse_answer("<silence>") == [NoInput()] and parse_answer("") == [NoInput()]
    assert parse_answer("<hangup>") == [HangUp()]
    assert parse_answer("email me @ home") == [Utterance("email me @ home", 1.0)]
    with pytest.raises(AnswerError, match="line 3"):
        parse_answer("dtmf:x", 3)


def test_person_inline_or_file(tmp_path: Path):
    f = tmp_path / "p.json"
    f.write_text('{"name": "张伟"}', encoding="utf-8")
    assert load_person(str(f)) == load_person('{"name": "张伟"}') == {"name": "张伟"}
    with pytest.raises(ValueError, match="not valid JSON"):
        load_person("{name: x}")


def test_bad_inputs_give_clear_errors(tmp_path: Path):
    answers = tmp_path / "a.txt"
    answers.write_text("是 的\ndtmf:Z\n", encoding="utf-8")
    out = veribot("simulate", "--dialog", ZH, "--person", '{"name":"x"}', "--answers", str(answers), "--json")
    assert out.returncode == 2 and "line 2" in out.stderr and out.stdout == ""
    out = veribot("simulate", "--dialog", ZH, "--person", "[1]", "--answers", str(answers))
    assert out.returncode == 2 and "must be a JSON object" in out.stderr
    out = veribot("simulate", "--dialog", str(tmp_path / "missing.yaml"), "--person", "{}", "--answers", str(answers))
    assert out.returncode == 2 and "cannot read" in out.stderr


def test_interactive_terminal_conversation():
    typed = "/dtmf 1\n城关区 白银 路\n/silence\n绿 码\n/hangup\n"
    out = veribot("simulate", "--dialog", ZH, "--person", '{"name":"张伟"}', "--json", stdin=typed)
    assert out.returncode == 0, out.stderr
    assert "bot> 请问您是张伟本人吗？" in out.stdout
    assert "\ncall ended: hung_up; " in out.stdout  # the one-line summary
    record = json.loads(out.stdout[out.stdout.index("\n{") :])
    assert record["outcome"] == "hung_up" and record["slots"]["identity"] == "yes"
    assert record["slots"]["health_code"] == "green"


def test_nlu_batch_keeps_order_and_flags_bad_lines():
    lines = [
        {"locale": "zh-CN", "expect": "health_code", "text": "现在 是 黄 码"},
        "not json",
        {"locale": "zh-CN", "expect": "colour", "text": "x"},
        {"locale": "en-US", "expect": "yes_no", "text": "yes"},
    ]
    stdin = "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n"
    out = veribot("nlu", "--batch", "-", stdin=stdin)
    rows = [json.loads(x) for x in out.stdout.splitlines()]
    assert len(rows) == 4 and out.returncode == 1
    assert rows[0] == {"value": "yellow", "intent": None}
    assert rows[1]["value"] is None and "error" in rows[1] and "unknown expect" in rows[2]["error"]
    assert rows[3] == {"value": "yes", "intent": None}

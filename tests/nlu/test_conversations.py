"""Whole conversations written by the NLU red team (tests/nlu/conversations/*.yaml), each run
through the `veribot simulate ... --json` contract the way outside checks run them, with the
shipped dialogs and the real answer understanding. Same story format as tests/dialog/stories."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
STORIES = sorted((Path(__file__).parent / "conversations").glob("*.yaml"))


def simulate(story: dict, tmp_path: Path) -> dict:
    answers = tmp_path / "answers.txt"
    answers.write_text("\n".join(story["answers"]) + "\n", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "bot", "simulate", "--dialog", str(ROOT / "dialogs" / story["dialog"]),
         "--person", json.dumps(story["person"], ensure_ascii=False), "--answers", str(answers), "--json"],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)


def problems(record: dict, expect: dict) -> list[str]:
    found = []
    if record["outcome"] != expect["outcome"]:
        found.append(f"outcome {record['outcome']!r}, want {expect['outcome']!r}")
    if "escalation" in expect:
        got = record["escalation"] and record["escalation"]["reason"]
        if got != expect["escalation"]:
            found.append(f"escalation {got!r}, want {expect['escalation']!r}")
    for slot, value in expect.get("slots", {}).items():
        if record["slots"].get(slot) != value:
            found.append(f"slot {slot} = {record['slots'].get(slot)!r}, want {value!r}")
    if "residence_district" in expect:
        got = (record["slots"]["residence"] or {}).get("district")
        if got != expect["residence_district"]:
            found.append(f"district {got!r}, want {expect['residence_district']!r}")
    said = " ".join(t["text"] for t in record["transcript"] if t["speaker"] == "bot")
    found += [f"bot never said {f!r}" for f in expect.get("bot_says", []) if f not in said]
    return found


def test_there_are_enough_conversations():
    assert len(STORIES) >= 20
    dialogs = {yaml.safe_load(p.read_text(encoding="utf-8"))["dialog"] for p in STORIES}
    assert dialogs == {"verification.zh-CN.yaml", "verification.en-US.yaml"}


@pytest.mark.parametrize("path", STORIES, ids=[p.stem for p in STORIES])
def test_conversation_ends_right(path: Path, tmp_path: Path):
    story = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert all(isinstance(a, str) for a in story["answers"]), "quote yes/no answers: YAML reads them as booleans"
    record = simulate(story, tmp_path)
    assert set(record) >= {"outcome", "escalation", "slots", "transcript"}
    callers = [t["text"] for t in record["transcript"] if t["speaker"] == "caller"]
    assert not problems(record, story["expect"]), (problems(record, story["expect"]), callers)


def test_a_wrong_expectation_is_caught(tmp_path: Path):
    story = yaml.safe_load(STORIES[0].read_text(encoding="utf-8"))
    record = simulate(story, tmp_path)
    assert problems(record, {**story["expect"], "outcome": "escalated"})
    assert problems(record, {"outcome": record["outcome"], "slots": {"health_code": "red"}})

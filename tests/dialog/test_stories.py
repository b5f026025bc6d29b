"""Whole conversations kept as data (tests/dialog/stories/*.yaml), run through the real
answer understanding and the state machine, and a few through `veribot simulate` itself."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.dialog.script import load_script
from bot.simulate import run_text

ROOT = Path(__file__).resolve().parents[2]
STORIES = sorted((Path(__file__).parent / "stories").glob("*.yaml"))
VARS = {"agency": "兰州市公安局", "callback_number": "96110", "caller_id": "96110"}


def check(record: dict, expect: dict, name: str) -> None:
    assert record["outcome"] == expect["outcome"], f"{name}: {json.dumps(record, ensure_ascii=False)}"
    if "escalation" in expect:
        got = record["escalation"] and record["escalation"]["reason"]
        assert got == expect["escalation"], f"{name}: escalation {record['escalation']}"
    for slot, value in expect.get("slots", {}).items():
        assert record["slots"][slot] == value, f"{name}: slot {slot} = {record['slots'][slot]!r}, want {value!r}"
    if "residence_district" in expect:
        assert (record["slots"]["residence"] or {}).get("district") == expect["residence_district"], name
    said = " ".join(t["text"] for t in record["transcript"] if t["speaker"] == "bot")
    for fragment in expect.get("bot_says", []):
        assert fragment in said, f"{name}: bot never said {fragment!r}"


def test_there_are_enough_stories():
    assert len(STORIES) >= 25


@pytest.mark.parametrize("path", STORIES, ids=[p.stem for p in STORIES])
def test_story(path: Path):
    story = yaml.safe_load(path.read_text(encoding="utf-8"))
    script = load_script(ROOT / "dialogs" / story["dialog"])
    conv = run_text(script, story["person"], story["answers"], VARS)
    check(conv.record.to_json(), story["expect"], path.stem)


@pytest.mark.parametrize("stem", ["01-cooperative", "09-two-refusals", "22-english-cooperative"])
def test_story_through_the_cli(stem: str, tmp_path: Path):
    story = yaml.safe_load((Path(__file__).parent / "stories" / f"{stem}.yaml").read_text(encoding="utf-8"))
    answers = tmp_path / "answers.txt"
    answers.write_text("\n".join(story["answers"]) + "\n", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "bot", "simulate", "--dialog", str(ROOT / "dialogs" / story["dialog"]),
         "--person", json.dumps(story["person"], ensure_ascii=False), "--answers", str(answers), "--json"],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    record = json.loads(out.stdout)
    assert set(record) >= {"outcome", "escalation", "slots", "transcript"}
    assert all(set(t) >= {"speaker", "text"} for t in record["transcript"])
    check(record, story["expect"], stem)

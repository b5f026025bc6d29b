"""Whole conversations kept as data (tests/dialog/stories/*.yaml), run through the real
answer understanding and the state machine, and a few through `veribot simulate` itself."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.dialog.events import SlotFilled
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
    for fragment in expect.get("escalation_detail_has", []):  # what the case notes for the operator
        assert fragment in ((record["escalation"] or {}).get("detail") or ""), f"{name}: escalation {record['escalation']}"
    for slot, value in expect.get("slots", {}).items():
        assert record["slots"][slot] == value, f"{name}: slot {slot} = {record['slots'][slot]!r}, want {value!r}"
    if "residence_district" in expect:
        assert (record["slots"]["residence"] or {}).get("district") == expect["residence_district"], name
    raw = str((record["slots"].get("residence") or {}).get("raw") or "")
    assert all(w in raw for w in expect.get("residence_raw_has", [])), f"{name}: residence {raw!r}"
    assert not any(w in raw for w in expect.get("residence_raw_lacks", [])), f"{name}: residence {raw!r}"
    said = " ".join(t["text"] for t in record["transcript"] if t["speaker"] == "bot")
    for fragment in expect.get("bot_says", []):
        assert fragment in said, f"{name}: bot never said {fragment!r}"
    for fragment in expect.get("bot_never_says", []):
        assert fragment not in said, f"{name}: bot said {fragment!r}"
    for text, slots in expect.get("filled_by", {}).items():  # which turn filled which slot
        turn = next((t for t in record["transcript"] if t["speaker"] == "caller" and t["text"] == text), None)
        assert turn is not None, f"{name}: no caller turn {text!r}"
        assert sorted(turn.get("filled") or {}) == sorted(slots), f"{name}: {text!r} filled {turn.get('filled')}"


def test_there_are_enough_stories():
    assert len(STORIES) >= 25


@pytest.mark.parametrize("path", STORIES, ids=[p.stem for p in STORIES])
def test_story(path: Path):
    story = yaml.safe_load(path.read_text(encoding="utf-8"))
    script = load_script(ROOT / "dialogs" / story["dialog"])
    held: dict[str, object] = {}  # slot values as the observers were told them, before each prompt
    held_when_asked: list[str] = []

    def note(n) -> None:
        if isinstance(n, SlotFilled):
            held[n.slot] = n.value

    def asked(say) -> None:  # the bot never asks a question whose answer it already holds
        step = script.steps.get(say.key.split(".")[0])
        if step is not None and step.is_ask and ".confirm" not in say.key and held.get(step.slot) is not None:
            held_when_asked.append(say.key)

    conv = run_text(script, story["person"], story["answers"], VARS, on_say=asked, observers=[note],
                    prefilled_slots=story.get("prefilled"))  # a resumed call: what earlier calls stored
    check(conv.record.to_json(), story["expect"], path.stem)
    assert not held_when_asked, f"{path.stem}: asked again though held: {held_when_asked}"


@pytest.mark.parametrize("stem", ["01-cooperative", "09-two-refusals", "22-english-cooperative", "28-one-breath-at-identity",
                                  "35-correction-after-moving-on", "37-continuation-after-a-pause"])
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


def test_the_tracing_scripts_speak_nothing_unfilled():
    """{contact} (ask_phone) is the dialog's own, like {value}: lint --config and serve accept the survey."""
    from bot.dialog.speakable import unspeakable

    for name in ("survey.zh-CN.yaml", "survey.en-US.yaml"):
        script = load_script(ROOT / "dialogs" / name)
        assert not [p for p in unspeakable(script, {**VARS, "badge": "1234", "callback_minutes": 120})
                    if "contact" in p], name

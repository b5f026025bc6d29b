"""Mixed initiative, corrections and end of turn by meaning at the level of the session and the
wording rules (the stories in tests/dialog/stories run whole conversations)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import nlu
from bot.dialog.events import Listen, SlotFilled, Utterance
from bot.dialog.script import load_script
from bot.dialog.session import CallSession
from bot.nlu import early

ROOT = Path(__file__).resolve().parents[2]
VARS = {"agency": "兰州市公安局", "callback_number": "96110"}


def session(notes: list) -> CallSession:
    s = CallSession(load_script(ROOT / "dialogs" / "verification.zh-CN.yaml"), {"name": "王芳"}, VARS,
                    observers=[notes.append])
    s.start()
    return s


def test_a_correction_after_moving_on_is_a_new_slot_filled_for_the_earlier_step():
    notes: list = []
    s = session(notes)
    for answer in ["是 的", "城关区 白银 路", "绿 码", "没有", "三 次", "刚才 说错 了 是 两 次"]:
        s.feed(Utterance(answer))
    counts = [(n.value, n.step) for n in notes if isinstance(n, SlotFilled) and n.slot == "nat_count"]
    assert counts == [(3, "nat_count"), (2, "nat_count")]
    assert s.current_listen.step == "nat_result" and s._conv.failures == {"no_input": 0, "no_match": 0}


def test_early_values_are_told_to_observers_with_their_own_step():
    notes: list = []
    s = session(notes)
    s.feed(Utterance("对 是 我 我 在 七里河 住 码 是 绿 的"))
    filled = {n.slot: n.step for n in notes if isinstance(n, SlotFilled)}
    assert filled == {"identity": "identity", "residence": "residence", "health_code": "health_code"}
    assert s.current_listen.step == "isolation"


def test_listen_says_whether_words_so_far_answer_the_question():
    s = session([])
    identity = s.current_listen
    assert isinstance(identity, Listen) and identity.end_silence_complete == 0.15
    assert identity.complete("是 的") and not identity.complete("嗯 那个") and not identity.complete("")
    s.feed(Utterance("是 的"))
    residence = s.current_listen
    assert residence.end_silence == 1.2 and residence.end_silence_complete == 0.15
    assert not residence.complete("我 住 在") and not residence.complete("城关区")
    assert residence.complete("城关区 白银 路")
    s.feed(Utterance("我 住 在"))  # a lead-in: held, and what follows is read with it
    assert s.current_listen.complete("城关区 白银 路 三 号")
    assert s.current_listen == residence  # the same question, listened to again (no prompt)


@pytest.mark.parametrize("expect,text,words", [
    ("yes_no", "是", ("隔离",)),            # a bare yes is no answer about isolation
    ("address", "两 次", ("住",)),          # a number is not an address
    ("address", "我 在 城关区 做 的 核酸", ("住", "家在")),  # where the test was done is not where one lives
    ("count", "第 二 天", ()),
    ("health_code", "不 是 红 码", ()),     # a negated colour states none
])
def test_no_false_fills(expect: str, text: str, words: tuple[str, ...]):
    values = [nlu.parse("zh-CN", expect, p).value for p in early.snippets("zh-CN", expect, text, words)]
    assert not [v for v in values if v is not None and not (isinstance(v, dict) and not v.get("district"))]


def test_corrections_and_lead_ins_by_wording():
    assert early.corrects("zh-CN", "刚才 说错 了 是 两 次") and early.corrects("en-US", "sorry, I meant twice")
    assert not early.corrects("zh-CN", "两 次")
    assert early.dangling("zh-CN", "我 住 在") and early.dangling("en-US", "I live in")
    assert not early.dangling("zh-CN", "嗯 那个") and not early.dangling("zh-CN", "城关区")


@pytest.mark.parametrize("locale,expect,text,words", [
    ("zh-CN", "yes_no", "是 我 需要 隔离 吗", ("隔离",)),  # the yes answers identity, not isolation
    ("zh-CN", "count", "我 一 回 家 就 洗手", ()),         # 一回家 is not "once"
    ("en-US", "test_result", "I'm positive it's me", ()),
])
def test_no_false_fills_from_the_answer_to_the_question_asked(locale: str, expect: str, text: str, words):
    assert all(nlu.parse(locale, expect, p).value is None for p in early.snippets(locale, expect, text, words))


def _said(s: CallSession) -> list[str]:
    return [t.text for t in s.record.transcript if t.speaker.value == "bot"]


def test_an_answer_going_on_after_the_bot_took_the_pause_for_its_end_is_not_the_next_answer():
    """"是的，……是的" with a pause the bot took for the end: the rest (marked `continues` by the listener)
    repeats the identity answer, so the residence question the caller talked over is asked again."""
    s = session([])
    s.feed(Utterance("是 的"))
    assert s.current_listen.step == "residence"
    asked = len(_said(s))
    s.feed(Utterance("是 的", continues=True))
    assert s.current_listen.step == "residence" and s.record.slots["identity"] == "yes"
    assert _said(s)[asked:] and s._conv.failures == {"no_input": 0, "no_match": 0}
    s.feed(Utterance("城关区 白银 路"))
    assert s.current_listen.step == "health_code"


def test_an_answer_going_on_with_a_different_value_replaces_the_one_taken():
    notes: list = []
    s = session(notes)
    for answer in ["是 的", "城关区 白银 路", "绿 码", "没有", "三 次"]:
        s.feed(Utterance(answer))
    s.feed(Utterance("不 对 两 次", continues=True))
    counts = [n.value for n in notes if isinstance(n, SlotFilled) and n.slot == "nat_count"]
    assert counts == [3, 2] and s.current_listen.step == "nat_result"


def test_words_after_a_pause_that_do_not_go_on_with_the_last_answer_answer_the_current_question():
    s = session([])
    s.feed(Utterance("是 的"))
    s.feed(Utterance("城关区 白银 路", continues=True))
    assert s.record.slots["residence"]["district"] == "城关区" and s.current_listen.step == "health_code"

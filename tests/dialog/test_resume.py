"""A call resumed after an earlier one stored answers: nothing answered is asked again, the
identity question included (the resume line is said instead), and whoever answers saying they
are not the person takes the wrong-person way with nothing stored against the person."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.dialog.events import Listen, Say, SlotFilled, Turn, Utterance
from bot.dialog.script import ScriptError, load_script, load_script_text
from bot.dialog.session import CallSession
from bot.nlu.identity import not_the_person
from bot.pipeline.prompt_texts import opening_texts, prompt_texts
from bot.simulate import run_text

ROOT = Path(__file__).resolve().parents[2]
PERSON = {"name": "张伟", "phone": "+8613800000000"}
VARS = {"agency": "兰州市公安局", "callback_number": "96110", "caller_id": "96110", "call_code": "4711"}
STORED = {"identity": "yes", "residence": {"raw": "x"}, "health_code": "red"}


def start(script, prefilled, notes=None):
    conv = CallSession(script, PERSON, VARS, prefilled_slots=prefilled, observers=[notes.append] if notes is not None else [])
    return conv, conv.start()


def asked_steps(record) -> set[str]:
    return {t.step for t in record.transcript if t.speaker == "bot" and t.step and t.step != "greeting"}


def test_confirmed_identity_is_not_asked_again_the_resume_line_names_the_person(xx_script):
    notes: list = []
    conv, actions = start(xx_script, STORED, notes)
    says = [a for a in actions if isinstance(a, Say)]
    assert [s.key for s in says] == ["greeting.say", "resume", "isolation.prompt"]
    assert says[0].text.startswith("您好！这里是兰州市公安局")  # who is calling, as on every call
    assert says[1].text == "张伟您好，刚才的通话中断了，我们接着刚才的问题继续。"
    assert isinstance(actions[-1], Listen) and actions[-1].step == "isolation"
    resume_turn = conv.record.transcript[1]
    assert resume_turn.text == says[1].text and resume_turn.step is None  # said at no question
    assert {n.slot for n in notes if isinstance(n, SlotFilled)} == set(STORED)
    assert all(n.prefilled for n in notes if isinstance(n, SlotFilled))
    rec = run_text(xx_script, PERSON, ["no", "two", "negative", "yes"], VARS, prefilled_slots=STORED).record
    assert rec.outcome == "completed" and rec.slots["identity"] == "yes" and rec.slots["health_code"] == "red"
    assert "identity" not in asked_steps(rec) and "residence" not in asked_steps(rec)
    assert sum("中断" in t.text for t in rec.transcript) == 1


def test_identity_stored_as_no_or_not_stored_is_asked(xx_script):
    for prefilled in ({"identity": "no", "residence": {"raw": "x"}}, {"residence": {"raw": "x"}}, {"identity": "maybe"}):
        conv, actions = start(xx_script, prefilled)
        assert actions[-1].step == "identity", prefilled
        assert not any(isinstance(a, Say) and a.key == "resume" for a in actions)
        actions = conv.feed(Utterance("yes"))
        assert actions[-1].step == ("health_code" if "residence" in prefilled else "residence")
        assert conv.record.slots["identity"] == "yes"


def test_wrong_number_on_a_resumed_call_stores_nothing_more(xx_script):
    notes: list = []
    conv, _ = start(xx_script, STORED, notes)
    conv.feed(Utterance("wrong"))  # at the isolation question, a yes/no
    rec = conv.record
    assert rec.outcome == "wrong_number" and conv.finished
    assert rec.slots["identity"] == "no" and rec.slots["isolation"] is None
    told = {n.slot: n.value for n in notes if isinstance(n, SlotFilled) and not n.prefilled}
    assert told == {"identity": "no"}
    caller = [t for t in rec.transcript if isinstance(t, Turn) and t.speaker == "caller"][-1]
    assert caller.filled == {"identity": "no"}


def test_wrong_number_said_at_a_later_question_keeps_no_answer_for_it(xx_script):
    rec = run_text(xx_script, PERSON, ["yes", "城关区", "green", "wrong"], VARS).record
    assert rec.outcome == "wrong_number"
    assert rec.slots["isolation"] is None and rec.slots["identity"] == "no"


def zh(dialog="verification.zh-CN.yaml"):
    return load_script(ROOT / "dialogs" / dialog)


@pytest.mark.parametrize("answer", ["我 是 他 老婆", "我 不是 张伟", "不是 我", "这 不是 张伟 的 电话"])
def test_someone_else_answering_a_resumed_call_takes_the_wrong_person_way(answer):
    script = zh()
    for prefilled in (STORED, {**STORED, "isolation": "no", "nat_count": 2}):  # at a yes/no, at a test result
        rec = run_text(script, PERSON, [answer, "绿码"], VARS, prefilled_slots=prefilled).record
        assert rec.outcome == "wrong_number", (answer, prefilled)
        assert rec.last_step == "not_the_person"  # the identity question's own "no" way
        assert rec.slots["identity"] == "no"
        assert rec.slots["isolation"] == prefilled.get("isolation") and rec.slots["nat_result"] is None
        assert rec.transcript[-1].text == "不好意思，打扰您了。再见。"


def test_the_same_words_at_a_call_that_asked_identity_are_answers_as_before():
    rec = run_text(zh(), PERSON, ["是 的", "城关区 白银 路", "绿 码", "不是 我"], VARS).record
    assert rec.slots["isolation"] == "no" and rec.slots["identity"] == "yes" and rec.outcome == "hung_up"


def test_a_contact_named_as_a_relative_is_a_contact_not_someone_else():
    script = zh("survey.zh-CN.yaml")
    contacts = script.steps[next(s for s in script.steps if script.steps[s].expect == "contacts")].slot
    rec = run_text(script, PERSON, ["王芳 她 是 我 的 同事 电话 13800138000"], VARS,
                   prefilled_slots={"identity": "yes"}).record
    assert rec.outcome != "wrong_number" and rec.slots["identity"] == "yes"
    assert rec.slots[contacts]


def test_resume_text_is_a_prompt_of_the_script_rendered_like_the_others():
    script = zh()
    texts = dict(prompt_texts(script, {**PERSON, **VARS}))
    assert texts["resume"] == "张伟您好，刚才的通话中断了，我们接着刚才的问题继续。"
    plain = [k for k, _ in opening_texts(script, {**PERSON, **VARS})]
    assert plain == ["greeting.say", "identity.prompt"]
    resumed = [k for k, _ in opening_texts(script, {**PERSON, **VARS}, prefilled=STORED)]
    assert resumed == ["greeting.say", "isolation.prompt", "resume"]
    refused = [k for k, _ in opening_texts(script, {**PERSON, **VARS}, prefilled={"identity": "no"})]
    assert refused == ["greeting.say", "identity.prompt"]
    for name in ("verification.en-US.yaml", "verification.ko-KR.yaml", "survey.en-US.yaml", "survey.zh-CN.yaml"):
        s = zh(name)
        assert s.identity is not None and s.resume and "{name}" in s.resume, name
        assert dict(prompt_texts(s, {**PERSON, **VARS}))["resume"], name


BASE = """\
    name: t
    locale: en-US
    variables: [name]
    start: ask1
    steps:
      ask1:
        ask: yes_no
        slot: identity
        prompt: "are you {name}?"
        reprompts: {no_input: ["hello?"], no_match: ["pardon?"]}
        branches: {"no": wrong}
        next: bye
      wrong:
        say: "sorry"
        end: wrong_number
      bye:
        say: "bye"
        end: completed
"""


def test_built_in_resume_text_per_language_when_the_script_sets_none():
    script = load_script_text(textwrap.dedent(BASE))
    assert script.identity.id == "ask1" and script.resume is None
    assert script.resume_text == "Hello {name}, our call was cut off; let's continue where we stopped."
    assert "{name}" not in load_script_text(textwrap.dedent(BASE).replace("variables: [name]", "variables: []")
                                            .replace("{name}", "you")).resume_text
    ko = load_script_text(textwrap.dedent(BASE).replace("en-US", "ko-KR"))
    assert ko.resume_text.startswith("{name} 님")


def test_lint_checks_the_resume_text():
    text = textwrap.dedent(BASE)
    assert load_script_text(text.replace("start:", 'resume: "Hi {name}, again."\nstart:')).resume == "Hi {name}, again."
    with pytest.raises(ScriptError) as info:
        load_script_text(text.replace("start:", 'resume: "Hi {nmae}"\nstart:'))
    assert [p.line for p in info.value.errors if "undefined variable {nmae}" in p.message] == [4]
    no_identity = text.replace('branches: {"no": wrong}\n    ', "").replace("start:", 'resume: "Hi"\nstart:')
    no_identity = no_identity.replace("      wrong:\n        say: \"sorry\"\n        end: wrong_number\n", "")
    with pytest.raises(ScriptError) as info:
        load_script_text(no_identity)
    assert any("no identity question" in p.message or "has none" in p.message for p in info.value.errors)
    with pytest.raises(ScriptError):
        load_script_text(text.replace("start:", "resume: ''\nstart:"))


@pytest.mark.parametrize("locale,text,name,want", [
    ("zh-CN", "我 不是 张伟", "张伟", True), ("zh-CN", "我 是 他 老婆", "张伟", True), ("zh-CN", "不是 我", None, True),
    ("zh-CN", "不是", "张伟", False), ("zh-CN", "我 不是 在 隔离", "张伟", False), ("zh-CN", "没有 隔离", "张伟", False),
    ("en-US", "I'm not John", "John Smith", True), ("en-US", "this is his wife", None, True), ("en-US", "not me", None, True),
    ("en-US", "not in quarantine", "John Smith", False), ("en-US", "I am not positive", "John Smith", False),
    ("ko-KR", "저 아닌데요", "김민수", True), ("ko-KR", "아니요", "김민수", False), ("ko-KR", "격리 아닙니다", "김민수", False),
    ("xx-XX", "wrong", "x", False),
])  # fmt: skip
def test_not_the_person_statements(locale, text, name, want):
    assert not_the_person(locale, text, name) is want

"""The state machine, driven as text through a fake locale (see conftest)."""

from __future__ import annotations

import pytest

from bot.dialog.engine import ConversationError
from bot.dialog.events import Dtmf, End, Escalate, HangUp, Listen, NoInput, Say, SlotFilled, Turn, Utterance
from bot.dialog.session import CallSession
from bot.nlu import Parse
from bot.simulate import run_text

PERSON = {"name": "张伟", "phone": "+8613800000000"}
VARS = {"agency": "兰州市公安局", "callback_number": "96110", "caller_id": "96110"}
COOPERATIVE = ["yes", "城关区 白银路", "green", "no", "two", "negative", "yes"]


def run(script, answers, **kw):
    return run_text(script, PERSON, answers, VARS, **kw).record


def test_cooperative_call_fills_every_slot(xx_script):
    rec = run(xx_script, COOPERATIVE)
    assert rec.outcome == "completed" and rec.escalation is None
    assert rec.slots == {
        "identity": "yes", "residence": {"raw": "城关区 白银路", "district": "城关区"}, "health_code": "green",
        "isolation": "no", "nat_count": 2, "nat_result": "negative", "notice_ack": "yes",
    }  # fmt: skip
    assert rec.transcript[0].text.startswith("您好！这里是兰州市公安局")
    assert "张伟" in rec.transcript[1].text
    assert rec.transcript[-1].speaker == "bot" and "再见" in rec.transcript[-1].text


def test_start_returns_say_then_listen(xx_script):
    conv = CallSession(xx_script, PERSON, VARS)
    actions = conv.start()
    assert [type(a) for a in actions] == [Say, Say, Listen]
    listen = actions[-1]
    assert listen.step == "identity" and listen.expect == "yes_no" and "1" in listen.dtmf_keys
    assert conv.current_listen == listen


def test_no_input_then_dtmf(xx_script):
    rec = run(xx_script, ["<silence>", "dtmf:1", "addr", "dtmf:3", "dtmf:2", "dtmf:4", "dtmf:1", "dtmf:1"])
    assert rec.outcome == "completed"
    assert rec.slots["identity"] == "yes" and rec.slots["health_code"] == "red"
    assert rec.slots["nat_count"] == 4 and rec.slots["nat_result"] == "negative"
    reprompt = rec.transcript[3]
    assert reprompt.speaker == "bot" and "能听到吗" in reprompt.text


def test_three_failures_escalate_unresolved(xx_script):
    rec = run(xx_script, ["yes", "mumble", "<silence>", "mumble"])
    assert rec.outcome == "escalated"
    assert rec.escalation.reason == "unresolved" and rec.escalation.step == "residence"
    assert rec.slots["identity"] == "yes"


def test_no_input_and_no_match_reprompts_counted_separately(xx_script):
    conv = CallSession(xx_script, PERSON, VARS)
    conv.start()
    first = conv.feed(NoInput())
    second = conv.feed(Utterance("blah"))
    assert "能听到吗" in first[0].text  # first no-input reprompt
    assert "没有听清" in second[0].text  # first no-match reprompt, not the second of anything
    third = conv.feed(NoInput())
    assert isinstance(third[-1], End) and isinstance(third[-2], Escalate)


def test_low_confidence_is_confirmed(xx_script):
    conv = CallSession(xx_script, PERSON, VARS)
    conv.start()
    conv.feed(Utterance("yes"))
    conv.feed(Utterance("addr"))
    actions = conv.feed(Utterance("yellow", 0.3))
    assert actions[0].text == "您说的是黄码，对吗？"
    assert actions[1].expect == "yes_no"
    actions = conv.feed(Utterance("yes"))
    assert conv.record.slots["health_code"] == "yellow"
    assert actions[-1].step == "isolation"


def test_denied_confirmation_asks_again(xx_script):
    conv = CallSession(xx_script, PERSON, VARS)
    conv.start()
    conv.feed(Utterance("yes"))
    conv.feed(Utterance("addr"))
    conv.feed(Utterance("yellow", 0.3))
    actions = conv.feed(Utterance("no"))
    assert conv.record.slots["health_code"] is None
    assert actions[-1].step == "health_code" and actions[-1].expect == "health_code"
    conv.feed(Utterance("green"))
    assert conv.record.slots["health_code"] == "green"


def test_confirmation_by_key(xx_script):
    conv = CallSession(xx_script, PERSON, VARS)
    conv.start()
    conv.feed(Utterance("yes", 0.2))
    conv.feed(Dtmf("1"))
    assert conv.record.slots["identity"] == "yes"


def test_who_and_repeat_reask_without_failure(xx_script):
    conv = CallSession(xx_script, PERSON, VARS)
    conv.start()
    for _ in range(4):
        actions = conv.feed(Utterance("who"))
        assert "96110" in actions[0].text and "张伟" in actions[1].text
        actions = conv.feed(Utterance("again"))
        assert actions[0].text == "好的，我再说一遍。" and "张伟" in actions[1].text
    assert not conv.finished


def test_one_refusal_persuades_two_escalate(xx_script):
    rec = run(xx_script, ["yes", "refuse", "addr", "green", "refuse"])
    assert rec.outcome == "escalated" and rec.escalation.reason == "uncooperative"
    assert rec.slots["residence"] == {"raw": "addr", "district": "城关区"} and rec.slots["health_code"] == "green"
    assert any("传染病防治法" in t.text for t in rec.transcript if t.speaker == "bot")


def test_human_by_voice_or_key(xx_script):
    assert run(xx_script, ["yes", "human"]).escalation.reason == "requested_human"
    rec = run(xx_script, ["dtmf:0"])
    assert rec.escalation.to_json() == {"reason": "requested_human", "step": "identity", "detail": "caller asked for a person"}


def test_wrong_number_by_answer_or_intent(xx_script):
    assert run(xx_script, ["no"]).outcome == "wrong_number"
    assert run(xx_script, ["yes", "wrong"]).outcome == "wrong_number"


def test_hangup_keeps_slots(xx_script):
    rec = run(xx_script, ["yes", "addr", "green", "<hangup>"])
    assert rec.outcome == "hung_up" and rec.slots["health_code"] == "green" and rec.slots["isolation"] is None
    assert rec.transcript[-1].kind == "hangup"
    # lines run out: the caller hangs up
    assert run(xx_script, ["yes"]).outcome == "hung_up"


def test_zero_tests_skip_the_result(xx_script):
    rec = run(xx_script, ["yes", "addr", "green", "no", "zero", "yes"])
    assert rec.outcome == "completed" and rec.slots["nat_count"] == 0 and rec.slots["nat_result"] is None


def test_notice_is_read_again_until_acknowledged(xx_script):
    rec = run(xx_script, ["yes", "addr", "green", "no", "two", "negative", "no", "yes"])
    assert rec.outcome == "completed" and rec.slots["notice_ack"] == "yes"
    notices = [t for t in rec.transcript if t.speaker == "bot" and "社交活动" in t.text]
    assert len(notices) == 2


def test_turns_and_accepted_answers_reach_observers_as_they_happen(xx_script):
    seen = []
    conv = CallSession(xx_script, PERSON, VARS, observers=[seen.append])
    conv.start()
    assert len(seen) == 2 and all(isinstance(n, Turn) for n in seen)
    conv.feed(Utterance("yes", 0.9, at=3.5))
    # the accepted answer first (a store writing in order has it whenever it has the turn), then the turns
    assert seen[2] == SlotFilled("identity", "yes", "identity")
    assert seen[3].speaker == "caller" and seen[3].confidence == 0.9 and seen[3].at == 3.5
    assert seen[3].parse == {"value": "yes", "intent": None}
    assert seen[4].speaker == "bot" and seen[4].step == "residence"
    assert [n for n in seen if isinstance(n, SlotFilled)] == [seen[2]]


def test_an_answer_awaiting_confirmation_is_not_told_until_confirmed(xx_script):
    seen = []
    conv = CallSession(xx_script, PERSON, VARS, observers=[seen.append])
    conv.start()
    conv.feed(Utterance("yes", 0.2))  # low confidence: "did you say yes?"
    assert not [n for n in seen if isinstance(n, SlotFilled)]
    conv.feed(Utterance("yes"))
    assert [n.slot for n in seen if isinstance(n, SlotFilled)] == ["identity"]


def test_an_escalation_is_an_action_and_a_note(xx_script):
    seen = []
    conv = CallSession(xx_script, PERSON, VARS, observers=[seen.append])
    conv.start()
    actions = conv.feed(Utterance("human"))
    esc = [a for a in actions if isinstance(a, Escalate)]
    assert esc and esc[0].reason == "requested_human" and esc[0] in seen and conv.escalation == esc[0]


def test_failing_observer_does_not_break_the_call(xx_script):
    def boom(note):
        raise OSError("disk full")

    conv = CallSession(xx_script, PERSON, VARS, observers=[boom])
    conv.start()
    conv.feed(Utterance("yes"))
    assert conv.record.slots["identity"] == "yes"


def test_close_hangs_up_a_running_dialog_once(xx_script):
    seen = []
    conv = CallSession(xx_script, PERSON, VARS, observers=[seen.append])
    conv.start()
    rec = conv.close(at=4.0)
    assert rec.outcome == "hung_up" and seen[-1].kind == "hangup" and seen[-1].at == 4.0
    assert conv.close() is rec and len([n for n in seen if isinstance(n, Turn) and n.kind == "hangup"]) == 1


def test_resume_skips_every_answered_question(xx_script):
    conv = CallSession(xx_script, PERSON, VARS, prefilled_slots={"identity": "yes", "residence": {"raw": "x"}, "health_code": "red"})
    actions = conv.start()
    assert actions[-1].step == "isolation"  # identity too (tests/dialog/test_resume.py)
    assert conv.record.slots["health_code"] == "red"


def test_events_after_end_are_ignored_and_misuse_is_named(xx_script):
    conv = CallSession(xx_script, PERSON, VARS)
    with pytest.raises(ConversationError, match="before the call was answered"):
        conv.feed(Utterance("yes"))
    conv.start()
    with pytest.raises(ConversationError, match="answered twice"):
        conv.start()
    conv.feed(HangUp())
    assert conv.feed(Utterance("yes")) == [] and conv.finished


def test_bad_events_are_rejected_at_construction():
    with pytest.raises(ValueError):
        Dtmf("x")
    with pytest.raises(ValueError):
        Utterance("yes", 1.5)


def test_a_crashing_parser_counts_as_not_understood(xx_script):
    def broken(locale, expect, text):
        raise RuntimeError("parser bug")

    conv = CallSession(xx_script, PERSON, VARS, parser=broken)
    conv.start()
    actions = conv.feed(Utterance("yes"))
    assert not conv.finished and "没有听清" in actions[0].text


def test_a_new_value_while_confirming_replaces_the_pending_one(xx_script):
    conv = CallSession(xx_script, PERSON, VARS)
    conv.start()
    conv.feed(Utterance("yes"))
    conv.feed(Utterance("addr"))
    conv.feed(Utterance("yellow", 0.3))
    actions = conv.feed(Utterance("green"))
    assert conv.record.slots["health_code"] == "green" and actions[-1].step == "isolation"


def test_an_answer_with_a_who_question_is_kept(xx_script, monkeypatch, fake_answers):
    monkeypatch.setitem(fake_answers, "yes who", Parse("yes", "who"))
    conv = CallSession(xx_script, PERSON, VARS)
    conv.start()
    actions = conv.feed(Utterance("yes who"))
    assert "96110" in actions[0].text and conv.record.slots["identity"] == "yes"
    assert actions[-1].step == "residence"


def test_wrong_number_intent_with_a_value_keeps_it(xx_script, monkeypatch, fake_answers):
    monkeypatch.setitem(fake_answers, "no wrong", Parse("no", "wrong_number"))
    rec = run(xx_script, ["no wrong"])
    assert rec.outcome == "wrong_number" and rec.slots["identity"] == "no"


def test_denied_confirmation_asks_the_question_itself(xx_script):
    conv = CallSession(xx_script, PERSON, VARS)
    conv.start()
    conv.feed(Utterance("yes", 0.2))
    actions = conv.feed(Utterance("no"))
    assert actions[0].text == "请问您是张伟本人吗？"


def test_free_decoding_is_asked_for_text_or_by_recognize(xx_script):
    """Listen.open_answer (free decoding) follows the question's `recognize:`; by default
    only free text is decoded freely and an address uses the locale's grammar when it has one."""
    import dataclasses

    conv = CallSession(xx_script, PERSON, VARS)
    conv.start()
    listen = conv.feed(Utterance("yes", 0.9))[-1]
    assert listen.step == "residence" and listen.open_answer is False
    steps = dict(xx_script.steps)
    steps["residence"] = dataclasses.replace(steps["residence"], recognize="free")
    free = dataclasses.replace(xx_script, steps=steps)
    conv = CallSession(free, PERSON, VARS)
    conv.start()
    assert conv.feed(Utterance("yes", 0.9))[-1].open_answer is True

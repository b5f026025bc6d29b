"""A "yes" to a read-back ("您说的是黄码，对吗？") heard at very low confidence does not confirm the value
(bot.dialog.engine.SURE_YES): the read-back is said again once; a second unsure "yes" counts as
denied and the question itself is asked again. A sure "yes" or the key 1 confirms as before."""

from __future__ import annotations

from bot.dialog.engine import SURE_YES
from bot.dialog.events import Dtmf, Utterance
from bot.dialog.session import CallSession

PERSON = {"name": "张伟", "phone": "+8613800000000"}
VARS = {"agency": "兰州市公安局", "callback_number": "96110", "caller_id": "96110"}


def at_the_read_back(script) -> CallSession:
    conv = CallSession(script, PERSON, VARS)
    conv.start()
    conv.feed(Utterance("yes"))
    conv.feed(Utterance("addr"))
    assert conv.feed(Utterance("yellow", 0.3))[0].text == "您说的是黄码，对吗？"
    return conv


def test_an_unsure_yes_to_a_read_back_is_not_a_confirmation(xx_script):
    conv = at_the_read_back(xx_script)
    actions = conv.feed(Utterance("yes", 0.2))
    assert conv.record.slots["health_code"] is None
    assert actions[0].text == "您说的是黄码，对吗？" and actions[-1].expect == "yes_no"  # read back again
    conv.feed(Utterance("yes", 0.9))
    assert conv.record.slots["health_code"] == "yellow"


def test_two_unsure_yeses_ask_the_question_again(xx_script):
    conv = at_the_read_back(xx_script)
    conv.feed(Utterance("yes", 0.2))
    actions = conv.feed(Utterance("yes", 0.1))
    assert conv.record.slots["health_code"] is None
    assert actions[-1].step == "health_code" and actions[-1].expect == "health_code"


def test_a_sure_yes_or_the_key_confirms_at_once(xx_script):
    conv = at_the_read_back(xx_script)
    conv.feed(Utterance("yes", SURE_YES))
    assert conv.record.slots["health_code"] == "yellow"
    conv = at_the_read_back(xx_script)
    conv.feed(Utterance("yes", 0.2))
    conv.feed(Dtmf("1"))
    assert conv.record.slots["health_code"] == "yellow"

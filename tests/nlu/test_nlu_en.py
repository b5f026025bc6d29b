"""English answer understanding: the public example, and the rules behind the answers."""

from __future__ import annotations

import itertools

import pytest

from bot.nlu import Parse, grammar_phrases, parse


def en(expect: str, text: str) -> Parse:
    return parse("en-US", expect, text)


def test_public_example():
    assert en("yes_no", "she's not here this is the wrong number") == Parse("no", "wrong_number")


@pytest.mark.parametrize(
    ("text", "value"),
    [("yes", "yes"), ("Yeah.", "yes"), ("that's me", "yes"), ("speaking", "yes"), ("correct", "yes"),
     ("no", "no"), ("nope", "no"), ("not really", "no"), ("i'm not in quarantine", "no"),
     ("i am in quarantine", "yes"), ("I don't know", None), ("no wait yes", "yes")],
)
def test_yes_no(text, value):
    assert en("yes_no", text).value == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("it's green", "green"), ("it was yellow but now green", "green"), ("not red green", "green"),
     ("yellow no wait red", "red"), ("green now it was yellow before", "green"), ("it is not red", None)],
)
def test_health_code(text, value):
    assert en("health_code", text).value == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("three times", 3), ("twice", 2), ("once", 1), ("none", 0), ("two or three", 2), ("twenty one", 21),
     ("two no three", 3), ("I had three tests, the last one was negative", 3), ("three days ago i did one", 1),
     ("i haven't been tested", 0), ("a lot", None)],
)
def test_count(text, value):
    assert en("count", text).value == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("negative", "negative"), ("positive", "positive"), ("pending", "pending"), ("not positive", "negative"),
     ("still waiting for results", "pending"), ("positive no sorry negative", "negative"), ("um", None)],
)
def test_test_result(text, value):
    assert en("test_result", text).value == value


@pytest.mark.parametrize(
    ("text", "intent"),
    [("who is this", "who"), ("why are you calling", "who"), ("I don't want to answer", "refuse"),
     ("none of your business", "refuse"), ("let me talk to a person", "human"), ("a human please", "human"),
     ("operator", "human"), ("say that again", "repeat"), ("pardon", "repeat"), ("wrong number", "wrong_number"),
     ("yes", None)],
)
def test_intents(text, intent):
    assert en("yes_no", text).intent == intent


def test_an_intent_phrase_is_not_read_as_an_answer():
    assert en("yes_no", "I don't want to answer") == Parse(None, "refuse")
    assert en("count", "let me talk to someone") == Parse(None, "human")


@pytest.mark.parametrize("expect", ["yes_no", "health_code", "count", "test_result"])
def test_every_grammar_phrase_is_understood(expect):
    phrases = grammar_phrases("en-US", expect)
    missed = [p for p in phrases if p != "i don't know" and en(expect, p) == Parse(None, None)]
    assert phrases and missed == []


@pytest.mark.parametrize("text", ["no i'm his wife", "this is her mother"])
def test_a_relative_answering_is_not_the_person(text):
    assert en("yes_no", text).value == "no"


@pytest.mark.parametrize(("text", "value"), [("it's normal", "green"), ("it's not normal", None)])
def test_a_normal_health_code_is_green(text, value):
    assert en("health_code", text).value == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("yes i guess", "yes"), ("um no i think", "no"), ("i guess so", "yes"), ("i don't know", None), ("no, i don't know", "no")],
)
def test_a_hedge_after_an_answer_keeps_the_answer(text, value):
    assert en("yes_no", text).value == value


def test_fillers_and_tails_around_answers():
    fillers, tails = ["", "um ", "uh ", "well ", "oh "], ["", " thanks", " i think", " i guess", ","]
    answers = [("yes_no", "yes", "yes"), ("yes_no", "nope", "no"), ("health_code", "it's green", "green"),
               ("count", "three times", 3), ("test_result", "negative", "negative")]
    wrong = [
        (f + a + t, want, en(expect, f + a + t))
        for expect, a, want in answers for f in fillers for t in tails
        if en(expect, f + a + t) != Parse(want, None)
    ]
    assert wrong == []


@pytest.mark.parametrize("expect", ["yes_no", "health_code", "count", "test_result", "address"])
def test_intents_with_fillers_at_every_question_carry_no_value(expect):
    examples = [("who is this", "who"), ("why are you calling", "who"), ("none of your business", "refuse"),
                ("let me talk to a person", "human"), ("say that again", "repeat"), ("pardon", "repeat"),
                ("you have the wrong number", "wrong_number")]
    wrong = []
    for (phrase, intent), f, t in itertools.product(examples, ["", "um ", "hey "], ["", " please", " okay"]):
        got = en(expect, f + phrase + t)
        value_ok = got.value is None or (expect == "yes_no" and intent == "wrong_number")
        if got.intent != intent or not value_ok:
            wrong.append((f + phrase + t, got))
    assert wrong == []


def test_free_text_keeps_the_cleaned_words():
    assert en("text", "  my   neighbour has a fever ") == Parse("my neighbour has a fever", None)
    assert en("text", "").value is None


def test_address_keeps_raw_and_is_null_for_non_answers():
    assert en("address", "forty two oak avenue").value["raw"] == "forty two oak avenue"
    assert en("address", "none of your business") == Parse(None, "refuse")
    assert en("address", "i don't know").value is None

"""Phrases a Vosk grammar should allow per question (en-US). Empty list: open answer, no grammar."""

from __future__ import annotations

_NUMBERS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
            "sixteen seventeen eighteen nineteen twenty").split()

INTENT_PHRASES = [
    "who is this", "who is calling", "who are you", "why are you calling", "what is this about",
    "where are you calling from", "i don't want to answer", "none of your business", "leave me alone",
    "i'd rather not say", "let me talk to a person", "a real person", "human", "operator",
    "let me talk to a human", "say that again", "pardon", "repeat that", "what", "sorry",
    "i didn't catch that", "wrong number", "you have the wrong number", "she's not here", "he's not here",
    "she's not here this is the wrong number", "there's no one here by that name", "who's calling",
    "can you repeat that", "i can't hear you", "transfer me", "i'm busy", "call me later", "that's private",
]

_BY_EXPECT: dict[str, list[str]] = {
    "yes_no": [
        "yes", "yeah", "yep", "that's me", "speaking", "this is she", "this is he", "correct", "right",
        "that's right", "sure", "okay", "ok", "got it", "understood", "i am", "i'm in quarantine", "no",
        "nope", "not really", "i'm not", "i am not", "not yet", "i'm not in quarantine", "i don't know",
        "uh huh", "mhm", "i'm isolating", "will do", "sounds good", "no problem", "i don't think so",
    ],
    "health_code": [f"{pre}{colour}" for colour in ("green", "yellow", "red")
                    for pre in ("", "it's ", "it is ", "my code is ", "my health code is ")]
    + ["it was yellow but now green", "i don't know"],
    "count": _NUMBERS + [f"{n} times" for n in _NUMBERS] + [
        "once", "twice", "one time", "none", "never", "not once", "i haven't had any", "two or three times",
        "a couple of times",
    ],
    "test_result": [
        "negative", "positive", "pending", "it was negative", "it was positive", "still waiting",
        "still waiting for the results", "i don't have the results yet", "not back yet", "i don't know",
        "it came back negative", "it came back positive",
    ],
    "address": [],
    "text": [],
    "contacts": [],  # names, numbers and places are open answers: free decoding
    "places": [],
}


def phrases(expect: str) -> list[str]:
    base = _BY_EXPECT.get(expect)
    if base is None:
        raise ValueError(f"unknown expect {expect!r}")
    return list(dict.fromkeys(base + INTENT_PHRASES)) if base else []

"""English (en-US) answer understanding over Vosk-style lower-case output.

As in zh: intent phrases are found first and removed; in what is left the last stated value wins
("it was yellow but now green" -> green, "two, no, three" -> 3) and a negated mention does not count
("not red, green"). "fine"/"clear"/"no problem" at test_result mean negative; "still waiting" pending.
"""

from __future__ import annotations

import re
from typing import Any

from bot.nlu import en_tracing
from bot.nlu.base import Heard
from bot.nlu.en_intents import find_intent
from bot.nlu.en_numbers import parse_count, word_to_int
from bot.nlu.text import clean

_YES = (r"yes|yeah|yea|yep|yup|ya|yah|sure|correct|right|that'?s right|that'?s me|it'?s me|this is (he|she|him|her|me)|"
        r"you('ve)? (got|found|reached) (him|her|me|the right (person|one))|i am (he|she|him|her)|"
        r"you'?re (talking|speaking) (to|with) (him|her|me|the right person)|sounds (good|fine|great|ok|okay)|"
        r"perfect|noted|roger|copy that|fair enough|makes sense|i hear you|"
        r"speaking|it is|be me|(?:i am|i'?m|i do|i have|i did|i was)(?= *$| in\b| at home| under| self| quarantin| isolat| still)|absolutely|definitely|of course|certainly|indeed|"
        r"uh huh|mhm|mm hmm|okay|ok|alright|all right|got it|understood|will do|affirmative|true|no problem|"
        r"no doubt|i will|i understand|i see|that'?s correct|exactly|yes sir|yes ma'?am|i think so|in quarantine|"
        r"quarantin(ed|ing)|isolat(ed|ing)|still am|i sure am")
_NO = (r"no|nope|nah|not really|not at all|i'?m not|i am not|i don'?t|i do not|i haven'?t|i have not|i didn'?t|"
       r"i did not|i wasn'?t|i was not|never|negative|not yet|no way|incorrect|not me|that'?s not me|it'?s not|"
       r"it is not|isn'?t|not anymore|no longer|not any ?more|not|none|finished|ended|over|wrong|false|"
       r"out of (quarantine|isolation)|released|free to go( out)?|(quarantine|isolation) (is )?(done|lifted)")
_NEUTRAL = (r"i don'?t know|i do not know|don'?t know|not sure|i'?m not sure|maybe|i don'?t remember|"
            r"i can'?t remember|no idea|who knows|hard to say|i guess|what do you mean|not sure yet")
_SKIP = r"right (now|away|here|there)|no one|not sure what"  # contain a polarity word but are not answers
_HEDGED_YES = r"i (guess|suppose|believe|think|reckon) so"
# Yes phrases that start with a "no" word: matched before the "no" alternatives.
_YES_FIRST = r"no (problem|worries|doubt)|not a problem"
_POLARITY_RE = re.compile(
    rf"\b(?:(?P<skip>{_SKIP})|(?P<hedged>{_HEDGED_YES}|{_YES_FIRST})|(?P<neutral>{_NEUTRAL})|(?P<no>{_NO})|(?P<yes>{_YES}))\b"
)

_COLOUR_RE = re.compile(r"\b(?P<colour>green|greene|greens|grain|yellow|yellowish|jello|red|read|reddish|amber|orange)\b")
_COLOUR = {"greene": "green", "greens": "green", "grain": "green", "yellowish": "yellow", "jello": "yellow",
           "amber": "yellow", "orange": "yellow",
           "read": "red", "reddish": "red"}
_NORMAL_CODE = re.compile(r"(?<!not )(?<!n't )\b(normal|fine|no problem|all good)\b")
# "not red", "isn't red" negate the colour; "no, it's green" corrects a colour (the "no" answers the question).
_NEGATED = re.compile(r"\b(?:(not|isn'?t|wasn'?t|never|n't)( (a|the|exactly|really|quite|it'?s|it|even))?|no( (a|the))?)\s$")
_TIME_RE = re.compile(
    r"\b(?:(?P<past>was|used to|before|previously|earlier|last week|yesterday|at first|originally|had)|"
    r"(?P<present>now|is|it'?s|currently|today|became|become|turned|changed|switched|went|back to|am)|(?P<turn>but))\b"
)
_RESULT_RE = re.compile(
    r"\b(?:(?P<negative>negative|negatives|neg|clear|clean|fine|all good|no problem|normal|healthy|"
    r"not infected|passed)|(?P<positive>positive|positives|infected|have covid|got covid|had covid|tested pos)|"
    r"(?P<pending>pending|waiting|wait|haven'?t (got|gotten|received|heard|had)|"
    r"(haven'?t|have not|didn'?t|did not|hasn'?t|has not) (told|tell|called|notified|informed|contacted|sent|texted) (me|us)|"
    r"no word yet|heard nothing|not (back|out|in|ready|here) yet|"
    r"(don'?t|do not|didn'?t) (know|have|get)( (the|my|any))? results?( yet)?|"
    r"(do ?n'?t|do not|haven'?t|have not|didn'?t|did not) (have|get|got|gotten|receive|received) (it|them|one|anything)( yet| back)|no results?( yet)?|not yet|"
    r"don'?t know yet|still (processing|out)|(being|still being) processed|processing|tomorrow|in a (few|couple)|(results? )?(aren'?t|isn'?t|not) (back|out|in)|"
    r"still waiting|awaiting))\b"
)
_DISTRICT_RE = re.compile(r"((?:[a-z]+ ){0,2}?)([a-z]+) (district|county|qu|xian)\b")
_RELATIVE = re.compile(
    r"\b(i'?m|i am|this is|it'?s) (his|her|their) (wife|husband|mother|mom|mum|father|dad|son|daughter|brother|"
    r"sister|friend|roommate|partner|colleague|grandson|granddaughter|grandmother|grandma|grandfather|grandpa|"
    r"child|kid|boss|neighbou?r|aunt|uncle|niece|nephew|cousin|girlfriend|boyfriend)\b"
)
# Not an address (yet): "i don't know", "hold on", "let me think".
_STALL = re.compile(
    r"^(i don't know|don't know|no|not sure|hold on|hang on|wait|wait a (second|sec|moment|minute)|"
    r"(just )?(a|one) (second|sec|moment|minute)( please)?|let me (think|see|check)|hmm+|good question|"
    r"(yes|yeah|yep|yup|ok|okay|sure|right|correct)( (that's|it's) me| speaking| sure)?|(that's|it's) me|speaking)$"
)
_PLACE_STOP = set("i in at the of on live living near by a an my we our is it's its street road avenue lane "
                  "uh um er oh well so like yeah yes okay ok just "
                  "number apartment building and stay staying from to home house".split())


# Recognizers split contractions ("i m", "don t", "that s") or drop the apostrophe ("dont", "im").
_SPLIT_CONTRACTION = re.compile(
    r"\b(?:(?P<n>\w+n) t|(?P<s>\w+) s|(?P<m>i) m|(?P<re>you|we|they|who|what) re|"
    r"(?P<ve>i|you|we|they|who|could|would|should|might|must) ve|(?P<ll>i|you|he|she|we|they|it|that) ll|"
    r"(?P<d>i|you|he|she|we|they|how|where|who|what) d)\b"
)
_GLUED = {w.replace("'", ""): w for w in (
    "don't doesn't didn't isn't aren't wasn't weren't haven't hasn't hadn't can't couldn't wouldn't "
    "shouldn't won't ain't i'm i've that's what's who's there's here's where's let's you're they're he's she's "
    "we've you've they've it'll that'll"
).split()}
_GLUED_RE = re.compile(r"\b(" + "|".join(sorted(_GLUED, key=len, reverse=True)) + r")\b")


def _contraction(m: re.Match[str]) -> str:
    stem = next(v for v in m.groups() if v)
    return stem + "'" + m.group()[len(stem) + 1 :]


def normalize(text: str) -> str:
    text = clean(text).lower().replace("’", "'")
    text = " ".join(re.sub(r"[^\w' -]", " ", text).split())
    text = _SPLIT_CONTRACTION.sub(_contraction, text)
    text = _GLUED_RE.sub(lambda m: _GLUED[m.group()], text)
    bare = " ".join(_HESITATION.sub(" ", text).split())
    bare = _SPELLED.get(bare, bare)
    return _LEAD_WORDS.sub("", bare) or text


# Hesitations carry no meaning ("um well what was that"); "uh huh" is a yes and stays.
_HESITATION = re.compile(r"\b(?:u+m+|u+h+m+|e+r+m*|a+h+|h+m+|uh(?! huh\b))\b")
_SPELLED = {"o k": "ok", "o kay": "okay", "know": "no", "no know": "no"}  # whole answers heard so
_LEAD_WORDS = re.compile(r"^(?:(?:well|so|oh) )+")


def read(text: str, area: tuple[str | None, str | None] | None = None) -> Heard:
    """The answer with its intent found and the intent phrases blanked (bot.nlu.table)."""
    body = normalize(text)
    intent, intents, rest = find_intent(body)
    return Heard(text, body, rest, intent, intents, area)


def yes_no(h: Heard) -> str | None:
    if "wrong_number" in h.intents:
        return "no"
    rest, hedged = without_hedges(h.rest)
    value = parse_yes_no(rest, weak=h.intent is None and not hedged)
    # "not now i'm busy": a refusal is never read as a "no" ("yes it's me but i'm busy" stays a yes)
    return None if value == "no" and h.intent in ("refuse", "do_not_call") else value


def health_code(h: Heard) -> str | None:
    return parse_colour(h.rest)


def count(h: Heard) -> int | None:
    return parse_count(h.rest)


def test_result(h: Heard) -> str | None:
    return parse_result(h.rest)


def address(h: Heard) -> dict[str, Any] | None:
    return parse_address(h.text, h.rest, h.intent)


def free_text(h: Heard) -> str | None:
    return clean(h.text) or None


def contacts(h: Heard) -> list[dict[str, Any]]:
    return [] if h.intent else en_tracing.parse_contacts(h.text)


def places(h: Heard) -> list[dict[str, Any]]:
    return [] if h.intent else en_tracing.parse_places(h.text)


def grammar_phrases(expect: str) -> list[str]:
    from bot.nlu.en_grammar import phrases

    return phrases(expect)


# Hedges ("i'm not sure", "can't remember"): not an answer, and never a "no" ("i'm not").
HEDGES = re.compile(
    r"\b(?:(?:i'?m|i am|we'?re|not) )?(?:not )?(?:really |quite |entirely |totally |a hundred percent |100 percent |too |so )?"
    r"(?:sure|certain)\b(?: to be honest)?|"
    r"\b(?:i )?(?:can'?t|cannot|can not|don'?t|do not|couldn'?t) (?:quite |really )?(?:remember|recall|say|tell)\b|"
    r"\bi (?:forget|forgot)\b|\bno idea\b|\b(?:i have )?no clue\b|\bbeats me\b|\b(?:i'?m )?unsure\b|\bhard to say\b|\bwho knows\b|\b(?:i )?(?:don'?t|do not) (?:really )?know\b"
)


def without_hedges(rest: str) -> tuple[str, bool]:
    """`rest` with its hedges blanked, and whether there were any. "sure" alone is a yes, not a hedge."""
    found = [m for m in HEDGES.finditer(rest) if m.group().strip() not in ("sure", "certain")]
    for m in reversed(found):
        rest = rest[: m.start()] + " | " + rest[m.end():]
    return rest, bool(found)


_COMPLY = re.compile(
    r"\b(?:i )?(?:will not|won't|wont|shall not|am not going to|i'm not going to|not going to|never|do ?n't|do not) "
    r"(?:go|going|leave|leaving|see|meet|visit|gather|travel|party)(?: out| anywhere| outside| the house| home| anyone| "
    r"people| friends| anybody)?\b|\bno (?:parties|gatherings|going out|visitors)\b"
)
_WEAK = {"okay", "ok", "alright", "all right", "mhm", "uh huh", "mm hmm", "right", "sure"}


def parse_yes_no(body: str, weak: bool = True) -> str | None:
    """Last polarity phrase wins; a "yes" phrase right after a negation is a "no" ("not in quarantine")."""
    if _RELATIVE.search(body):
        return "no"  # "this is his wife speaking": someone else answered
    body = _COMPLY.sub(" will do ", body)  # "i won't go out": a promise to comply, not a "no"
    value = None
    for m in _POLARITY_RE.finditer(body):
        kind = m.lastgroup
        if kind == "skip" or (kind == "neutral" and value is not None):
            continue  # "yes i guess": a hedge after an answer keeps the answer
        if kind == "hedged":
            kind = "yes"
        if not weak and m.group() in _WEAK:
            continue  # "who is this, okay": with an intent, an acknowledgement is not an answer
        if kind == "yes" and _NEGATED.search(body, 0, m.start()):
            kind = "no"
        value = None if kind == "neutral" else kind
    return value


def parse_colour(body: str) -> str | None:
    found: list[tuple[str, bool]] = []
    for m in _COLOUR_RE.finditer(body):
        if _NEGATED.search(body, 0, m.start()):
            continue
        word = m.group("colour")
        found.append((_COLOUR.get(word, word), _in_past(body, m.start())))
    current = [c for c, past in found if not past]
    if current:
        return current[-1]
    if found:
        return found[-1][0]
    return "green" if _NORMAL_CODE.search(body) else None  # a normal code is green


def _in_past(body: str, position: int) -> bool:
    last = None
    for m in _TIME_RE.finditer(body, 0, position):
        last = m.lastgroup
    return last == "past"


def parse_result(body: str) -> str | None:
    value = None
    for m in _RESULT_RE.finditer(body):
        kind = m.lastgroup
        if kind in ("negative", "positive") and _NEGATED.search(body, 0, m.start()):
            if kind == "positive":
                value = "negative"  # "not positive"
            continue
        value = kind
    return value


def parse_address(text: str, rest: str, intent: str | None) -> dict[str, Any] | None:
    raw = (text or "").strip()  # kept as the recognizer gave it
    words = [w for w in rest.replace("|", " ").split() if w not in ("um", "uh", "er", "well", "so")]
    if not words or _STALL.match(" ".join(words)):
        return None
    district = None
    for m in _DISTRICT_RE.finditer(rest):
        if m.group(2) in _PLACE_STOP:
            continue  # "yanta district in xian": the city xi'an, not a county called "in"
        kept: list[str] = []
        for w in reversed(m.group(1).split()):
            if w in _PLACE_STOP or word_to_int(w) is not None:
                break
            kept.insert(0, w)
        district = " ".join([*kept, m.group(2), m.group(3)]).title()
    if intent and district is None:
        return None
    return {"raw": raw, "province": None, "city": None, "district": district}

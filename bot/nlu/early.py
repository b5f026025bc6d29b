"""What else an answer says: the pieces of one caller turn that speak specifically about another
question of the script (mixed initiative: "对，是我，我在七里河住，码是绿的" at the identity question
also says where the caller lives and the colour of the code), corrections of an earlier answer
("刚才说错了，是两次") and answers that stop in the middle ("我住在……").

Only specific wording counts, so that a bare "是" or a number said for another question does
not become an answer here: a colour next to "码"/"code", 阴性/阳性/"negative", a number with its
measure word ("两次", "three times"), a place the address parser resolves to a district. Yes/no
questions have no specific wording of their own: the script names the words (`early:` in the
YAML, e.g. [隔离]) and the yes/no is read only near them. `snippets` returns the parts of the
answer to parse; the caller (the dialog) parses them with its own parser and keeps the last value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from bot.nlu.text import MAX_CHARS, compact

_ZH_NUM = "[0-9]+|[零〇一幺二两俩三仨四五六七八九十百]+"
_RULES: dict[str, dict[str, re.Pattern[str]]] = {
    "zh": {
        "health_code": re.compile(r"(健康)?码(是|为|显示|现在是|现在|还是|一直是)?的?[绿黄红]|[绿黄红](码|马|色码|颜色)"),
        "test_result": re.compile(r"[阴阳]性|结果(还)?没出|还没出结果|没出结果"),
        "count": re.compile(rf"({_ZH_NUM})(几|多)?个?(次|回(?![家来去到头])|遍|轮)|一次都没|没(有)?(做|测)过?核酸"),
    },
    "en": {
        "health_code": re.compile(r"\b(green|yellow|red)( health)? code\b|\bcode\b( is| was|'s)?( now| still)? (green|yellow|red)\b", re.I),
        "test_result": re.compile(r"\bnegative\b|(?<!i'm )(?<!i am )(?<!pretty )\bpositive\b(?! (that|it|about))|waiting for the results?|results? (is |are )?not (back|out)", re.I),
        "count": re.compile(r"\b(once|twice|(\w+|\d+) times)\b|\bnever (been )?tested\b", re.I),
    },
    "ko": {
        "health_code": re.compile(r"녹색|초록|노란|노랑|황색|빨간|빨강|적색"),
        "test_result": re.compile(r"음성|양성"),
        "count": re.compile(r"(\d+|한|두|세|네|다섯|여섯|일곱|여덟|아홉|열)\s?(번|회)"),
    },
}
_NEGATED = {  # a negation right before another answer's words belongs to it ("没有 隔离", "not in quarantine")
    "zh": re.compile(r"(不是|没有|并没有|还没有|还没|也没有|也没|没|不|未|非)(在|被|做|有)?$"),
    "en": re.compile(r"\b(not|no|never|isn't|aren't|wasn't|haven't|hasn't|didn't|i'm not|am not)( been| in| a| on| under)*\s*$", re.I),
}
# Before the script's words for a yes/no question only what states it counts ("没有 在 家 隔离"),
# not the answer to the question asked ("是 我，需要 隔离 吗" says nothing about being isolated).
_STATE_BEFORE = {
    "zh": re.compile(r"(正在|还在|已经|在家里?|在|居家|集中|被|都|了)*$"),
    "en": re.compile(r"(?:(?:i'm|i am|we're|we are|currently|still|now|in|at|home|self|under|doing)\s+)*$", re.I),
}
_BEFORE = {"zh": 4, "en": 24, "ko": 8}  # characters before a match that may negate or correct it
_AFTER = {"zh": 3, "en": 12, "ko": 6}

_CORRECTION = {
    "zh": re.compile(r"^(不是|不对|错了|等一下|等等|哦不)|说错了|搞错了|记错了|讲错了|口误|更正|纠正|我是说|重新说一下|刚才那个不对|刚才不对"),
    "en": re.compile(r"^(no|not|wrong|wait|hold on|oh)\b|\bactually\b|\bi meant\b|\bi mean\b|\bi misspoke\b|\bcorrection\b|\blet me correct\b|\bi said (it|that) wrong\b|"
                     r"\bi (got|had) (it|that) wrong\b|\bmade a mistake\b|\bactually it was\b|\bsorry,? (it|that) (was|is)\b"),
    "ko": re.compile(r"잘못 말했|정정"),
}
# An answer that stops in the middle: a lead-in with nothing after it yet.
_DANGLING = {  # lead-ins only: a hesitation alone ("嗯 那个") is no answer begun
    "zh": re.compile(r"(住在|我在|家在|住的是|地址是|地址在|位于|是在|(码|结果|地址|我的)(是|为)|做了|测了|一共)$"),
    "en": re.compile(r"\b(i live in|i live at|i'm in|i am in|i'm at|living in|staying in|staying at|address is|"
                     r"it's in|code is|result is|i had|i did)$"),
}

# Words that name part of an address: what a continuation of one must contain.
_PLACE = {
    "zh": re.compile(r"[路街道巷弄号楼栋幢单元村镇乡区县市省]|小区|社区|花园|家园|大厦|公寓|家属院|新村|苑|园"),
    "en": re.compile(r"\b(road|rd|street|st|avenue|ave|lane|alley|building|block|apartment|apt|unit|number|no|"
                     r"district|county|city|community|village|town|estate|garden|gardens|court|\d+)\b"),
    "ko": re.compile(r"(시|구|군|동|읍|면|리|로|길|아파트|번지)$|\d"),
}


def _lang(locale: str) -> str:
    return locale.split("-")[0].lower()


def _norm(lang: str, text: str) -> str:
    text = (text or "")[:MAX_CHARS]
    # English keeps its case (an address is kept as said); its rules ignore case
    return compact(text) if lang == "zh" else " ".join(re.sub(r"[^\w' ]", " ", text).split())


class Mark(NamedTuple):
    """Where an answer speaks of one question, in `normal(locale, text)`: `start`..`end` its words
    (with a negation said just before them), `lo`..`hi` the snippet to parse (with some context)."""

    start: int
    end: int
    lo: int
    hi: int


def marks(locale: str, expect: str, text: str, words: Sequence[str] = ()) -> list[Mark]:
    """Where `text` speaks specifically of `expect` (see `snippets`)."""
    lang = _lang(locale)
    body = _norm(lang, text)
    if not body:
        return []
    before, after = _BEFORE.get(lang, 8), _AFTER.get(lang, 6)
    keys = [_norm(lang, w).lower() for w in words if _norm(lang, w)]
    lower = body.lower()
    if expect == "address":  # from its words to the clause's end; without words, not to be located
        found = []
        for s, e in _clauses(lang, body):
            hits = [lower.find(k, s, e) for k in keys if lower.find(k, s, e) >= 0]
            if hits:
                found.append(Mark(min(hits), e, s, e))
        return found
    if expect == "yes_no" or (keys and expect not in _RULES.get(lang, {})):
        spans = [(m.start(), m.end()) for k in keys for m in re.finditer(re.escape(k), lower)]
        state = _STATE_BEFORE.get(lang)
        out = []
        for s, e in sorted(spans):
            neg = _NEGATED.get(lang)
            start = s - len(state.search(body, 0, s).group()) if state else s
            m = neg.search(body, 0, start) if neg else None
            start = m.start() if m else start
            out.append(Mark(start, e, start, min(len(body), e + after)))
        return out
    else:
        rule = _RULES.get(lang, {}).get(expect)
        if rule is None or (keys and not any(k in lower for k in keys)):
            return []
        spans = [(m.start(), m.end()) for m in rule.finditer(body)]
    negation = _NEGATED.get(lang)
    out = []
    for s, e in sorted(spans):
        m = negation.search(body, 0, s) if negation else None
        out.append(Mark(m.start() if m else s, e, max(0, s - before), min(len(body), e + after)))
    return out


def snippets(locale: str, expect: str, text: str, words: Sequence[str] = ()) -> list[str]:
    """The parts of `text` that speak specifically of `expect` (each to be parsed as an answer to
    it, the last value winning), or [] when nothing does. `words`: the script's words for this
    question (`early:`); when given, only the answer's parts near one of them count (for an
    address: the clauses that contain one). Yes/no questions count only with words."""
    body = normal(locale, text)
    if expect == "address":
        lead = _YES_LEAD.get(_lang(locale))
        found = marks(locale, expect, text, words)
        parts = [body[s:e].strip(" ,") for s, e in _clauses(_lang(locale), body)
                 if not words or any(s <= m.start < e for m in found)]
        return [p for p in ((lead.sub("", p).strip(" ,") if lead else p) for p in parts) if p]
    return [body[m.lo : m.hi] for m in marks(locale, expect, text, words)]


def without(locale: str, text: str, found: list[Mark]) -> tuple[str, str]:
    """`text` before the first of `found` (other answers said in the same breath), and `text`
    with each of them blanked out: where to read the answer to the question asked."""
    body = normal(locale, text)
    out, last = [], 0
    for m in sorted(found):
        if m.start > last:
            out.append(body[last : m.start])
        out.append(" | ")
        last = max(last, m.end)
    out.append(body[last:])
    return body[: min(m.start for m in found)], "".join(out)


def normal(locale: str, text: str) -> str:
    """The form of `text` that `marks` counts positions in."""
    return _norm(_lang(locale), text)


_YES_LEAD = {"zh": re.compile(r"^(是的|是我|我是|对的|对啊|对|是|嗯|啊|好的|本人|没错)+"),
              "en": re.compile(r"^((yes|yeah|yep|it's me|it is me|this is (she|he|me)|speaking|that's me)\b ?)+", re.I)}
_JOINS = {"en": re.compile(r" (?:and|but) (?:my |the )?", re.I)}


def _clauses(lang: str, body: str) -> list[tuple[int, int]]:
    """An answer cut where it starts speaking of something else (a colour, a count, a result):
    the address said in one breath with other answers, without them."""
    cuts = {m.start() for rule in _RULES.get(lang, {}).values() for m in rule.finditer(body)}
    if lang in _JOINS:
        cuts |= {m.start() for m in _JOINS[lang].finditer(body)}
    parts, last = [], 0
    for at in [*sorted(cuts), len(body)]:
        if body[last:at].strip(" ,"):
            parts.append((last, at))
        last = at
    return parts


def corrects(locale: str, text: str) -> bool:
    """Whether the caller says an earlier answer was wrong ("刚才说错了", "I meant")."""
    rule = _CORRECTION.get(_lang(locale))
    return bool(rule and rule.search(_norm(_lang(locale), text).lower()))


def dangling(locale: str, text: str) -> bool:
    """Whether the answer stops at a lead-in ("我住在", "I live in"): more is coming."""
    rule = _DANGLING.get(_lang(locale))
    return bool(rule and rule.search(_norm(_lang(locale), text).lower()))

_FILLER_END = {  # still thinking: the answer may be about to come
    "zh": re.compile(r"(那个|这个|就是|然后|还有|和|跟|嗯|呃|额|啊|就)$"),
    "en": re.compile(r"\b(um|uh|er|erm|so|and|like|well|but)$"),
}


def hesitating(locale: str, text: str) -> bool:
    """Whether the words so far end in a filler ("嗯 那个", "so um"): not the end of a turn."""
    rule = _FILLER_END.get(_lang(locale))
    return bool(rule and rule.search(_norm(_lang(locale), text).lower()))


def names_place(locale: str, text: str) -> bool:
    """Whether `text` names part of an address (a road, a number, a building): a continuation."""
    lang = _lang(locale)
    rule = _PLACE.get(lang)
    body = _norm(lang, text).lower()
    if lang == "ko":
        return bool(rule and any(rule.search(w) for w in body.split()))
    return bool(rule and rule.search(body))

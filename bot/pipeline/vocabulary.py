"""A dialog script's recognizer grammars checked against a speech model's vocabulary
(`veribot dialogs lint --model`). The script and the NLU are the bot's; the model's word
list is `audio.vocabulary`'s (audio/ imports nothing from bot/)."""

from __future__ import annotations

from typing import Any

from audio import vocabulary
from bot import nlu


def script_grammar_phrases(script: Any) -> list[str]:
    """Every phrase the recognizer grammars of `script` may hold (all its asks' expects)."""
    expects = sorted({e for e in _script_expects(script) if e not in ("address", "text")})
    phrases: list[str] = []
    for expect in expects:
        phrases.extend(nlu.grammar_phrases(script.locale, expect))
    return phrases


def _script_expects(script: Any) -> list[str]:
    steps = [s for s in script.steps.values() if getattr(s, "expect", None)]
    expects = [s.expect for s in steps]
    if any(getattr(s, "confirm", None) for s in steps):
        expects.append("yes_no")  # confirmations are yes/no questions
    return expects


def missing_words(script: Any, locale: str) -> list[str]:
    """Grammar words of `script` that the `locale` model cannot recognize, sorted.
    Raises `audio.models.ModelMissing` (naming the fetch command) when the model is absent."""
    return vocabulary.missing_words(script_grammar_phrases(script), locale)

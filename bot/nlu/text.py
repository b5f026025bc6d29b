"""Text clean-up shared by the locale parsers."""

from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 500  # longer recognizer text is cut before matching
_SPACE_PUNCT = re.compile(r"[\s,.，。？?！!、；;：:\"'“”‘’()（）\[\]【】<>《》…~～-]+")
_SPACES = re.compile(r"\s+")


def clean(text: str) -> str:
    """Raw recognizer text with runs of whitespace collapsed (the value of a free-text answer)."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text or "")).strip()


def compact(text: str) -> str:
    """Chinese text for matching: full-width folded, lower-case, no spaces or punctuation.

    Vosk's Mandarin models put spaces between words ("是 我", "绿 码"); matching on the
    compact form makes "绿 码", "绿码" and "绿码。" the same.
    """
    return _SPACE_PUNCT.sub("", unicodedata.normalize("NFKC", text or "").lower())


def blank_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with each (start, end) span replaced by a separator, so later matching skips it."""
    if not spans:
        return text
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:
            start = last
        out.append(text[last:start])
        out.append("|")
        last = max(last, end)
    out.append(text[last:])
    return "".join(out)

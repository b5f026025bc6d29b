"""RELIABILITY.md: "1,000 sequential calls in one process: RSS flat (measure RSS, not object
counts), no dangling tasks, fds back to baseline". One call after another through the real
pipeline (line transport, listener, dialog processor, prompt player) with the fake ear and
voice, so a call takes a fraction of a second; the real-speech soak (200 calls, 4 at a time)
is tests/speech/test_speech_soak.py. VERIBOT_SOAK_CALLS sets the count (default 1000)."""

from __future__ import annotations

import asyncio
import gc
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from audio.fakes import EnergyOnlySession, FakeRecognizer, FakeSynthesizer, tone
from audio.scheduler import RecognitionPool
from audio.synthesis import PromptCache
from bot.calls import CallRequest
from bot.dialog.script import load_script
from bot.pipeline.offline import CallerTurn, LineTransport
from bot.pipeline.resources import SpeechResources, SpeechSettings
from bot.pipeline.run import run_call
from bot.worker import configure_worker_process

pytestmark = pytest.mark.slow
ROOT = Path(__file__).parents[2]
CALLS = int(os.environ.get("VERIBOT_SOAK_CALLS", "1000"))


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        return next(int(ln.split()[1]) for ln in fh if ln.startswith("VmRSS:")) / 1024


def fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_sequential_calls_keep_rss_flat_and_leave_no_task_or_fd(tmp_path):
    configure_worker_process()
    settings = SpeechSettings(prompt_cache=tmp_path / "prompts", audio_dir=tmp_path / "calls", watchdog_secs=10)
    resources = SpeechResources(settings, {}, EnergyOnlySession(), {"ko-KR": PromptCache(None, FakeSynthesizer(0.1))},
                                ThreadPoolExecutor(max_workers=1), RecognitionPool(1))
    resources.recognizers["ko-KR"] = lambda: FakeRecognizer(["네"])
    script = load_script(ROOT / "tests" / "speech" / "fixtures" / "short.ko-KR.yaml")
    answer = bytes(800) + tone(0.3) + bytes(800)
    outcomes: dict[str, int] = {}

    async def one(i: int) -> None:
        turns = [CallerTurn("speech", pcm=answer)] if i % 2 else [CallerTurn("dtmf", keys="1")]
        req = CallRequest(i, "", {"name": "김민수"}, script)
        rec = await run_call(LineTransport(turns), req, resources, audio_dir=tmp_path / "calls" / str(i % 4))
        key = f"{rec.outcome}:{rec.slots['identity']}"
        outcomes[key] = outcomes.get(key, 0) + 1

    try:
        warm = max(CALLS // 10, 20)
        for i in range(warm):  # caches, allocator pools, lazy imports
            await one(i)
        gc.collect()
        base_rss, base_fds, base_threads = rss_mb(), fds(), threading.active_count()
        samples = []
        for i in range(warm, CALLS):
            await one(i)
            if (i - warm + 1) % max((CALLS - warm) // 5, 1) == 0:
                gc.collect()
                samples.append(rss_mb() - base_rss)
        await asyncio.sleep(0.1)
        gc.collect()
        print(f"{CALLS} calls: RSS growth (MB) after warm-up {samples}, fds {base_fds}->{fds()}")
        assert outcomes == {"completed:yes": CALLS}
        # flat: the growth of the last fifth is no more than noise, and nowhere near a call's state per call
        assert samples[-1] - samples[0] < 4, f"RSS growth (MB) along the run: {samples}"
        assert samples[-1] < 10, f"RSS growth (MB) along the run: {samples}"
        assert fds() <= base_fds
        assert threading.active_count() <= base_threads
        left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert left == [], left
    finally:
        resources.close()

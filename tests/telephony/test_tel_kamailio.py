"""Two veribot workers behind Kamailio's dispatcher, each its own OS process
(tests/telephony/lb_worker.py running `start_endpoint` with a config of its own): calls are
split between them round-robin, and when one worker process is SIGKILLed in the middle of
a run, the new calls move to the survivor (failover on timeout, then marked inactive)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest
from sip_peers import Kamailio, free_udp_port, run_sipp, scenario

pytestmark = [pytest.mark.sip, pytest.mark.slow]

WORKER = Path(__file__).parent / "lb_worker.py"


class Worker:
    """A worker process; `arrivals` collects (monotonic time read, name, Call-ID) per call."""

    def __init__(self, name: str, tmp: Path, rtp_base: int, arrivals: list[tuple[float, str, str]],
                 args: tuple[str, ...] = (), env: dict[str, str] | None = None) -> None:
        self.name, self.args, self.env = name, args, env  # args: lb_worker's optional DB-URL SCHEMA; env: added
        self.port = free_udp_port()
        self.config = tmp / f"worker-{name}.toml"
        self.config.write_text(
            f'[telephony]\nlisten = "127.0.0.1:{self.port}"\nrtp_ports = "{rtp_base}-{rtp_base + 98}"\n'
            'trusted_sources = ["127.0.0.1"]\n'  # Kamailio, in front of the workers
        )
        self.arrivals = arrivals
        self.proc: asyncio.subprocess.Process | None = None
        self.reader: asyncio.Task | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, str(WORKER), str(self.config), self.name, *self.args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
            env={**os.environ, **self.env} if self.env else None,
        )
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), 20)
        assert line.decode().split() == ["ready", str(self.port)], line
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for raw in self.proc.stdout:
            parts = raw.decode().split()
            if parts[:1] == ["call"]:
                self.arrivals.append((time.monotonic(), parts[1], parts[2]))

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()  # SIGKILL: no BYE, no goodbye to Kamailio
        await self.proc.wait()
        if self.reader is not None:
            await self.reader  # everything it printed before dying

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self.reader is not None:
            self.reader.cancel()


async def until(condition, limit_s: float, what: str) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def test_two_worker_processes_round_robin_and_failover_on_kill(tmp_path: Path) -> None:
    arrivals: list[tuple[float, str, str]] = []
    rtp = 30000 + (os.getpid() % 100) * 200
    a = Worker("a", tmp_path, rtp, arrivals)
    b = Worker("b", tmp_path, rtp + 100, arrivals)
    lb = Kamailio(tmp_path, [a.port, b.port])
    try:
        await asyncio.gather(a.start(), b.start())
        assert a.proc.pid != b.proc.pid != os.getpid()
        lb.start()
        sf = scenario("uac_echo.xml", tmp_path)

        def sipp(n: int, rate: int):
            return run_sipp([f"127.0.0.1:{lb.port}", "-sf", str(sf), "-s", "bot", "-i", "127.0.0.1",
                             "-p", str(free_udp_port()), "-m", str(n), "-l", str(n), "-r", str(rate),
                             "-timeout", "40s"], tmp_path, limit_s=60)

        # Kamailio takes a moment to listen: the first run retries until it does
        code, out = await sipp(8, 5)
        assert code == 0, out[-3000:]
        await until(lambda: len(arrivals) >= 8, 5, "both workers to report their calls")
        served = [w for _, w, _ in arrivals]
        assert len(served) == 8 and served.count("a") >= 3 and served.count("b") >= 3, served  # round robin

        arrivals.clear()
        run = asyncio.ensure_future(sipp(10, 4))  # a second run; worker b dies in the middle of it
        await until(lambda: any(w == "b" for _, w, _ in arrivals) or run.done(), 30, "a call on worker b")
        assert not run.done(), "the run ended before worker b took a call"
        await b.kill()
        killed = time.monotonic()
        on_b_before = [c for _, w, c in arrivals if w == "b"]
        code, out = await run  # the calls live on b fail: that is what a crash does
        await until(lambda: sum(w == "a" for _, w, _ in arrivals) + len(on_b_before) >= 10, 5,
                    "every call of the run to reach a worker")
        after = [w for t, w, _ in arrivals if t > killed]
        assert len(after) >= 6 and set(after) == {"a"}, arrivals  # every new call went to the survivor
        assert len(on_b_before) >= 1
        assert a.proc.returncode is None  # the survivor is still up

        # b stays marked down (until an OPTIONS ping finds it again): a new run all goes to a, and every call succeeds
        arrivals.clear()
        code, out = await sipp(4, 4)
        assert code == 0, out[-3000:]
        await until(lambda: len(arrivals) >= 4, 5, "the survivor to report its calls")
        assert [w for _, w, _ in arrivals] == ["a"] * 4
    finally:
        if lb.proc is not None:
            lb.stop()
        await asyncio.gather(a.stop(), b.stop())

"""Helpers for the telephony tests: free loopback ports, external SIP peers."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def udp_bound(port: int) -> bool:
    """Whether some process has a UDP socket bound to `port` (IPv4 or IPv6): datagrams sent to it
    are queued from then on, so a peer that bound it is ready to be sent to."""
    suffix = f":{port:04X}"
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        with contextlib.suppress(OSError), open(table) as f:
            if any(line.split()[1].endswith(suffix) for line in list(f)[1:]):
                return True
    return False


async def until_udp_bound(port: int, proc: Any = None, within: float = 30.0) -> None:
    """Wait (generously: a busy machine starts processes slowly) until `port` is bound; fails
    at once if `proc` (a Popen or asyncio process) exited first."""
    import asyncio
    import time

    deadline = time.monotonic() + within
    while not udp_bound(port):
        code = getattr(proc, "returncode", None) if proc is not None else None
        if proc is not None and hasattr(proc, "poll"):
            code = proc.poll()
        assert code is None, f"the peer exited ({code}) before listening on UDP {port}"
        assert time.monotonic() < deadline, f"nothing listens on UDP {port} after {within:.0f} s"
        await asyncio.sleep(0.05)


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need(program: str) -> str:
    """The path of a SIP peer; installs Debian's packages when missing (CI), else skips."""
    path = shutil.which(program)
    if path is None and os.environ.get("CI"):
        subprocess.run([str(REPO / "scripts/install-system.sh")], check=True)
        path = shutil.which(program)
    if path is None:
        pytest.skip(f"{program} is not installed (scripts/install-system.sh installs it)")
    return path


SIPP_DIR = REPO / "sip-peers" / "sipp"


def scenario(name: str, tmp: Path, **subst: str) -> Path:
    """A copy of sip-peers/sipp/NAME with its @PLACEHOLDERS@ filled in."""
    text = (SIPP_DIR / name).read_text()
    for key, value in subst.items():
        text = text.replace(f"@{key}@", value)
    out = tmp / name
    out.write_text(text)
    return out


async def run_sipp(args: list[str], cwd: Path, limit_s: float = 90.0) -> tuple[int, str]:
    """Run SIPp to the end (it stops itself after -m calls); returns (exit code, output)."""
    import asyncio

    sipp = need("sipp")
    proc = await asyncio.create_subprocess_exec(
        sipp, *args, "-nostdin", "-trace_err", "-trace_screen", cwd=str(cwd),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), limit_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode or 0, out.decode(errors="replace") + error_logs(cwd)


def error_logs(cwd: Path) -> str:
    return "".join("\n" + f.read_text(errors="replace")[-3000:] for f in cwd.glob("*_errors.log"))


async def start_sipp(args: list[str], cwd: Path):
    """A SIPp that runs in the background (a UAS waiting for our calls)."""
    import asyncio

    sipp = need("sipp")
    return await asyncio.create_subprocess_exec(
        sipp, *args, "-nostdin", "-trace_err", cwd=str(cwd),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )


@contextlib.asynccontextmanager
async def sipp_call(scenario_file: Path, cwd: Path, *options: str) -> AsyncIterator[tuple[int, Any]]:
    """SIPp on a free loopback UDP port running `scenario_file` for one call (`options`: more of
    its command line); yields (its port, the process), kills it if still running afterwards."""
    port = free_udp_port()
    sipp = await start_sipp(["-sf", str(scenario_file), "-i", "127.0.0.1", "-p", str(port), "-m", "1", *options], cwd)
    try:
        await until_udp_bound(port, sipp)  # listening
        yield port, sipp
    finally:
        if sipp.returncode is None:
            sipp.kill()
            await sipp.wait()


class WatchedInbound:
    """The bot's inbound handler, watched: `finished` is set when it returns, and `extra` then says
    whether the caller was `verified` or an `unknown_caller`."""

    def __init__(self, handler: Any) -> None:
        import asyncio

        self.handler, self.finished, self.extra = handler, asyncio.Event(), {}

    async def __call__(self, call: Any) -> None:
        try:
            await self.handler(call)
        finally:
            self.extra.update({k: True for k in ("verified", "unknown_caller") if getattr(call, k)})
            self.finished.set()


async def call_the_bot(make_endpoint: Any, handler: Any, trusted: tuple[str, ...] = ("127.0.0.1",)) -> tuple:
    """A resident's number (13800000001) calls a bot endpoint running `handler` behind the trusted
    trunk `trusted`; returns (the watched handler, the phone's dial outcome)."""
    watched = WatchedInbound(handler)
    bot = await make_endpoint(watched, inbound_sources=(), trusted_sources=trusted)
    phone = await make_endpoint()
    return watched, await phone.dial(f"sip:96110@127.0.0.1:{bot.local_addr[1]}", caller_id="13800000001")


class Baresip:
    """A headless baresip from sip-peers/baresip-<kind>/ on free loopback ports, remote
    controlled over ctrl_tcp (netstring JSON)."""

    def __init__(self, kind: str, tmp: Path, wav: Path) -> None:
        self.dir = tmp / f"baresip-{kind}"
        self.records = tmp / f"records-{kind}"
        self.dir.mkdir()
        self.records.mkdir()
        self.sip_port = free_udp_port()
        self.ctrl_port = free_tcp_port()
        rtp = 41000 + (os.getpid() % 50) * 200 + (0 if kind == "callee" else 100)
        src = REPO / "sip-peers" / f"baresip-{kind}"
        for name in ("accounts", "contacts"):
            (self.dir / name).write_text((src / name).read_text())
        text = (src / "config").read_text().replace("@CALLER_WAV@", str(wav)).replace("@RECORD_DIR@", str(self.records))
        lines = []
        for line in text.splitlines():
            key = line.split("\t")[0].split(" ")[0]
            if key == "sip_listen":
                line = f"sip_listen\t\t127.0.0.1:{self.sip_port}"
            elif key == "ctrl_tcp_listen":
                line = f"ctrl_tcp_listen\t\t127.0.0.1:{self.ctrl_port}"
            elif key == "rtp_ports":
                line = f"rtp_ports\t\t{rtp}-{rtp + 98}"
            lines.append(line)
        (self.dir / "config").write_text("\n".join(lines) + "\n")
        self.proc = None
        self.reader = None
        self.writer = None
        self.events: list[dict] = []

    async def start(self, seconds: int = 60) -> None:
        import asyncio

        exe = need("baresip")
        self.proc = await asyncio.create_subprocess_exec(
            exe, "-f", str(self.dir), "-t", str(seconds),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, stdin=asyncio.subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.ctrl_port)
                return
            except OSError:
                await asyncio.sleep(0.05)
        raise RuntimeError("baresip did not open its ctrl_tcp port")

    async def command(self, command: str, params: str = "") -> None:
        import json

        body = json.dumps({"command": command, "params": params, "token": "t"}).encode()
        assert self.writer is not None
        self.writer.write(str(len(body)).encode() + b":" + body + b",")
        await self.writer.drain()

    async def wait_event(self, kind: str, limit_s: float = 20.0) -> dict:
        import asyncio
        import json

        assert self.reader is not None

        async def read() -> dict:
            while True:
                n = int((await self.reader.readuntil(b":"))[:-1])
                msg = json.loads((await self.reader.readexactly(n + 1))[:-1])
                self.events.append(msg)
                if msg.get("event") and msg.get("type") == kind:
                    return msg

        for msg in self.events:
            if msg.get("type") == kind:
                return msg
        return await asyncio.wait_for(read(), limit_s)

    async def stop(self) -> None:
        import asyncio
        import contextlib

        if self.writer is not None:
            with contextlib.suppress(OSError):
                await self.command("quit")
            self.writer.close()
        if self.proc is not None and self.proc.returncode is None:
            try:
                await asyncio.wait_for(self.proc.wait(), 3)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


def silent_wav(path: Path, seconds: float) -> Path:
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * int(8000 * seconds))
    return path


class Kamailio:
    """telephony/kamailio/ (dispatcher, round-robin, OPTIONS health checks) on a free
    loopback port in front of the given worker ports."""

    def __init__(self, tmp: Path, workers: list[int]) -> None:
        self.dir = tmp / "kamailio"
        self.dir.mkdir()
        self.port = free_udp_port()
        src = REPO / "sip-peers" / "kamailio"
        cfg = (src / "kamailio.cfg").read_text().replace("@RUN_DIR@", str(self.dir))
        cfg = cfg.replace("listen=udp:127.0.0.1:5060", f"listen=udp:127.0.0.1:{self.port}")
        cfg = cfg.replace('alias="127.0.0.1:5060"', f'alias="127.0.0.1:{self.port}"')
        modules = sorted(Path("/usr/lib").glob("*/kamailio/modules")) or sorted(Path("/usr/lib").glob("kamailio/modules"))
        if modules:  # the config names the amd64 path; follow the machine's
            cfg = cfg.replace('mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"', f'mpath="{modules[0]}/"')
        (self.dir / "kamailio.cfg").write_text(cfg)
        (self.dir / "dispatcher.list").write_text("".join(f"1 sip:127.0.0.1:{p} 0 0\n" for p in workers))
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        exe = need("kamailio")
        check = subprocess.run([exe, "-c", "-f", str(self.dir / "kamailio.cfg")], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr[-2000:]
        self.log = (self.dir / "kamailio.log").open("w")
        self.proc = subprocess.Popen(
            [exe, "-f", str(self.dir / "kamailio.cfg"), "-DD", "-E", "-m", "64", "-M", "8",
             "-P", str(self.dir / "kamailio.pid")],
            stdout=self.log, stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def invite_statuses(endpoint) -> list[int]:
    """The status codes of INVITE responses `endpoint` receives from now on (appended as they come)."""
    statuses: list[int] = []
    deliver = endpoint.transport.on_message

    def spy(msg, addr):
        if getattr(msg, "status_code", None) and msg.cseq and msg.cseq.method == "INVITE":
            statuses.append(msg.status_code)
        deliver(msg, addr)

    endpoint.transport.on_message = spy
    return statuses

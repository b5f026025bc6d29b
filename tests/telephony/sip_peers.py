"""Helpers for the telephony tests: free loopback ports, external SIP peers."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


SIPP_DIR = REPO / "telephony" / "sipp"


def scenario(name: str, tmp: Path, **subst: str) -> Path:
    """A copy of telephony/sipp/NAME with its @PLACEHOLDERS@ filled in."""
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

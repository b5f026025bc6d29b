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

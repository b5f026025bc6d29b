"""The machine a benchmark ran on, printed first by every script in benchmarks/."""

from __future__ import annotations

import os
import platform


def describe() -> str:
    cpu, mem = "?", 0
    try:
        cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
        mem = next(int(ln.split()[1]) for ln in open("/proc/meminfo") if ln.startswith("MemTotal"))
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()
    return (f"machine: {platform.node()}, nproc={os.cpu_count()}, cpu={cpu}, ram={mem / 1024**2:.1f} GiB, "
            f"loadavg={load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}, python {platform.python_version()}")

"""The load benchmarks' table and knee summary, shared so that every load benchmark prints the
same columns under the same names (outside checks read `N`, `p95 ms`, `missed` …).

A row is a dict keyed by column name. `header()` and `row()` print the columns of
`benchmarks/call_load.py` in its order and widths, then any `extra` columns a benchmark adds
(e.g. the SIP benchmark's `res CPU%`). `knee()` names the largest N that met the target and
what limited the next N."""

from __future__ import annotations

# (name, width, format of the value); the names and widths are call_load.py's.
COLUMNS = [
    ("N", 4, "d"), ("calls", 5, "d"), ("CPU%1core", 9, ".0f"), ("PSS MB", 7, ".0f"), ("MB/call", 7, ".1f"),
    ("p50 ms", 7, ".0f"), ("p95 ms", 7, ".0f"), ("p95-eos ms", 10, ".0f"), ("missed", 7, "d"), ("(late", 6, "d"),
    ("behind)", 7, "d"), ("done%", 6, ".0f"), ("talk%", 6, ".0f"), ("lag p99 ms", 10, ".0f"), ("gc ms/s", 7, ".1f"),
]


def header(extra: list[tuple[str, int, str]] = ()) -> str:
    return " ".join(f"{name:>{width}}" for name, width, _ in [*COLUMNS, *extra])


def row(values: dict, extra: list[tuple[str, int, str]] = ()) -> str:
    return " ".join(f"{values[name]:>{width}{fmt}}" for name, width, fmt in [*COLUMNS, *extra])


def limits(r: dict, target_ms: float, eos_ms: float, worker_cores: float, resident_cores: float | None = None,
           nproc: int | None = None) -> list[str]:
    """What kept row `r` from the target (p95 ≤ target_ms, 0 missed frames). Optional columns:
    `res CPU%` (simulated residents), `other%` (CPU taken by other jobs on the machine)."""
    why = []
    if r["p95 ms"] > target_ms:
        if eos_ms >= target_ms:
            why.append(f"the end-of-turn silence itself ({eos_ms:.0f} ms ≥ {target_ms:.0f} ms)")
        else:
            why.append(f"turn latency (p95 {r['p95 ms']:.0f} ms: {r['p95-eos ms']:.0f} ms beyond the {eos_ms:.0f} ms "
                       "end-of-turn silence of a complete answer)")
    if r["missed"]:
        why.append(f"missed frames ({r['missed']}: {r['(late']} late, {r['behind)']} behind)")
    if r["lag p99 ms"] > 20:
        why.append(f"event-loop lag (p99 {r['lag p99 ms']:.0f} ms)")
    if r["CPU%1core"] >= 85 * worker_cores:
        why.append(f"worker CPU ({r['CPU%1core']:.0f}% of the {100 * worker_cores:.0f}% the workers may use)")
    if resident_cores and r.get("res CPU%", 0) >= 85 * resident_cores:
        why.append(f"the simulated residents' CPU ({r['res CPU%']:.0f}% of their {100 * resident_cores:.0f}%)")
    if nproc and r["CPU%1core"] + r.get("res CPU%", 0) + r.get("other%", 0) >= 85 * nproc:
        why.append(f"the machine's CPU (workers {r['CPU%1core']:.0f}% + residents {r.get('res CPU%', 0):.0f}% + "
                   f"other jobs {r.get('other%', 0):.0f}% of {100 * nproc}%)")
    elif r.get("other%", 0) >= 25:
        why.append(f"other jobs on the machine ({r['other%']:.0f}% of a core)")
    if r["done%"] < 95:
        why.append(f"unfinished dialogs (done% {r['done%']:.0f})")
    if len(why) == 1 and r["p95 ms"] > target_ms and eos_ms < target_ms:
        why.append("CPU, loop and frames were fine: the time goes to deciding the end of turn and recognition")
    return why


def knee(rows: list[dict], target_ms: float = 300, eos_ms: float = 0, **budget) -> str:
    """One line: the largest N with p95 ≤ target and 0 missed frames, and what limited the next N.
    `budget`: worker_cores, resident_cores, nproc (see `limits`)."""
    ok = [r for r in rows if r["p95 ms"] <= target_ms and r["missed"] == 0]
    best = max((r["N"] for r in ok), default=None)
    failing = sorted((r for r in rows if r not in ok and (best is None or r["N"] > best)), key=lambda r: r["N"])
    goal = f"p95 ≤ {target_ms:.0f} ms and 0 missed"
    head = f"knee: N={best} is the largest N with {goal}" if best is not None else \
        f"knee: no N measured has {goal}"
    if not failing:
        return head + ("; every N measured met it (try larger N)" if best is not None else "")
    nxt = failing[0]
    return (f"{head}; N={nxt['N']} (p95 {nxt['p95 ms']:.0f} ms, {nxt['missed']} missed) fell short with: "
            + "; ".join(limits(nxt, target_ms, eos_ms, **budget) or ["nothing measured here (noise?)"]))

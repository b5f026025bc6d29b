"""Answer-understanding benchmark: parse latency (p50/p99) and accuracy over tests/nlu/cases/*.jsonl.

Run:  .venv/bin/python benchmarks/nlu_bench.py [--rounds N]
Prints the machine it ran on first (nproc, CPU model, RAM). Target: p99 < 1 ms per parse.
Then whole simulated calls per second (the story suite through the dialog engine).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from machine_info import describe

ROOT = Path(__file__).resolve().parent.parent
CASES_DIR = ROOT / "tests" / "nlu" / "cases"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))



def load_cases(directory: Path = CASES_DIR) -> list[dict[str, Any]]:
    cases = []
    for path in sorted(directory.glob("*.jsonl")):
        cases += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return cases


def _right(case: dict[str, Any], value: Any, intent: str | None) -> bool:
    want = case.get("value")
    if isinstance(want, dict):
        ok = isinstance(value, dict) and all(value.get(k) == v for k, v in want.items())
    else:
        ok = want == value
    return ok and case.get("intent") == intent


def bench_parse(cases: list[dict[str, Any]], rounds: int = 20) -> dict[str, Any]:
    """Time every case `rounds` times (after one warm-up pass that loads static data)."""
    from bot.nlu import parse

    start = time.perf_counter()
    right = sum(_right(c, *parse(c["locale"], c["expect"], c["text"]).to_json().values()) for c in cases)
    first_pass = time.perf_counter() - start
    samples: list[float] = []
    for _ in range(rounds):
        for c in cases:
            t0 = time.perf_counter_ns()
            parse(c["locale"], c["expect"], c["text"])
            samples.append((time.perf_counter_ns() - t0) / 1e6)
    samples.sort()
    return {
        "cases": len(cases),
        "accuracy": right / len(cases) if cases else 0.0,
        "first_pass_ms": first_pass * 1000,
        "calls": len(samples),
        "p50_ms": statistics.median(samples),
        "p99_ms": samples[int(len(samples) * 0.99) - 1],
        "max_ms": samples[-1],
    }


def bench_calls(seconds: float = 3.0) -> dict[str, Any]:
    """Whole simulated conversations (tests/dialog/stories) through the engine, back to back."""
    import yaml

    from bot.dialog.script import load_script
    from bot.simulate import run_text

    variables = {"agency": "兰州市公安局", "callback_number": "96110", "caller_id": "96110"}
    stories = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "tests" / "dialog" / "stories").glob("*.yaml"))]
    scripts = {s["dialog"]: load_script(ROOT / "dialogs" / s["dialog"]) for s in stories}
    calls = turns = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for s in stories:
            conv = run_text(scripts[s["dialog"]], s["person"], s["answers"], variables)
            calls += 1
            turns += len(conv.record.transcript)
    elapsed = time.perf_counter() - start
    return {"calls": calls, "calls_per_s": calls / elapsed, "turns_per_s": turns / elapsed, "stories": len(stories)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="timed passes over the cases (default 20)")
    args = parser.parse_args(argv)
    print(describe())
    cases = load_cases()
    by_locale: dict[str, list[dict[str, Any]]] = {}
    for c in cases:
        by_locale.setdefault(c["locale"], []).append(c)
    for locale, subset in [("all", cases), *sorted(by_locale.items())]:
        r = bench_parse(subset, args.rounds)
        print(
            f"parse {locale:6} cases={r['cases']:4} accuracy={r['accuracy']:.1%} calls={r['calls']} "
            f"p50={r['p50_ms']:.3f} ms p99={r['p99_ms']:.3f} ms max={r['max_ms']:.3f} ms "
            f"(first pass incl. data load {r['first_pass_ms']:.0f} ms)"
        )
    r = bench_calls()
    print(
        f"simulate: {r['calls']} whole calls ({r['stories']} stories) in a loop: "
        f"{r['calls_per_s']:.0f} calls/s, {r['turns_per_s']:.0f} transcript turns/s (one core)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

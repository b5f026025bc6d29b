"""Score case files through the `veribot nlu --batch -` contract, per locale and expect.

    .venv/bin/python tests/nlu/score_cases.py 'heldout_*.jsonl'   # -v lists every miss
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from nlu_casefiles import load_cases, matches

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    patterns = [a for a in argv if a != "-v"] or ["*.jsonl"]
    cases = [c for p in patterns for c in load_cases(p)]
    lines = "".join(json.dumps({k: c[k] for k in ("locale", "expect", "text")}, ensure_ascii=False) + "\n" for c in cases)
    out = subprocess.run([str(ROOT / ".venv/bin/veribot"), "nlu", "--batch", "-"], input=lines,
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout.splitlines()  # fmt: skip
    total, right = Counter(), Counter()
    for case, line in zip(cases, out, strict=True):
        got = json.loads(line)
        key = (case["locale"], case["expect"])
        total[key] += 1
        if matches(case["value"], got["value"]) and case["intent"] == got["intent"]:
            right[key] += 1
        elif verbose:
            print(f"MISS {case['where']} {case['text']!r}: want {case['value']!r}/{case['intent']} "
                  f"got {got['value']!r}/{got['intent']}")  # fmt: skip
    for locale in sorted({k[0] for k in total}):
        keys = sorted(k for k in total if k[0] == locale)
        t, r = sum(total[k] for k in keys), sum(right[k] for k in keys)
        print(f"{locale}: {r}/{t} = {r / t:.1%}   " + "  ".join(f"{k[1]} {right[k]}/{total[k]}" for k in keys))
    t, r = sum(total.values()), sum(right.values())
    print(f"all: {r}/{t} = {r / t:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

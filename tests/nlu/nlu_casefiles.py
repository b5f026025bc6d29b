"""Loading the held-out style case files in tests/nlu/cases/*.jsonl (shared by the NLU tests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CASES_DIR = Path(__file__).parent / "cases"


def load_cases(pattern: str = "*.jsonl") -> list[dict[str, Any]]:
    cases = []
    for path in sorted(CASES_DIR.glob(pattern)):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                case = json.loads(line)
                case["where"] = f"{path.name}:{number}"
                cases.append(case)
    return cases


def matches(expected: Any, got: Any) -> bool:
    """Addresses compare on the keys the case names; everything else exactly."""
    if isinstance(expected, dict):
        return isinstance(got, dict) and all(got.get(k) == v for k, v in expected.items())
    return expected == got

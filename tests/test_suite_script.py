"""The suite's own command (`scripts/bootstrap test` -> scripts/test.sh): every CI run names its
slowest tests, so where the suite's ~30 minutes go is read from the last run, not guessed."""

from __future__ import annotations

import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_suite_command_prints_the_30_slowest_tests():
    assert "exec scripts/test.sh" in (ROOT / "scripts" / "bootstrap").read_text()
    runs = [shlex.split(line, comments=True) for line in (ROOT / "scripts" / "test.sh").read_text().splitlines()
            if line.startswith("python -m pytest")]
    assert len(runs) == 1 and "--durations=30" in runs[0]
    assert runs[0].index("--durations=30") < runs[0].index("$@")  # a developer's own --durations wins

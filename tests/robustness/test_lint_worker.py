"""Issue 12 item 5 (dialog editor): drafts are checked in a separate process with a time limit."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bot.console.dialogs import lint_off_loop
from bot.console.worker import ProcessWorker


async def test_checks_run_in_another_process_and_a_slow_one_is_killed():
    worker = ProcessWorker(timeout=1.0)
    try:
        first = await worker.run(os.getpid)
        assert first != os.getpid()
        with pytest.raises(TimeoutError):
            await worker.run(time.sleep, 30)
        second = await worker.run(os.getpid)  # a fresh process took over
        assert second not in (first, os.getpid())
    finally:
        worker.close()


async def test_errors_in_the_worker_reach_the_caller():
    worker = ProcessWorker(timeout=5.0)
    try:
        with pytest.raises(ValueError, match="invalid literal"):
            await worker.run(int, "x")
    finally:
        worker.close()


SOURCE = (Path(__file__).resolve().parents[2] / "dialogs" / "verification.zh-CN.yaml").read_text("utf-8")


async def test_lint_off_loop_gives_the_script_or_its_problems():
    source = SOURCE
    script, errors = await lint_off_loop(source)
    assert errors == [] and script is not None and script.locale == "zh-CN"
    script, errors = await lint_off_loop("a: &a [l,l]\nb: [" + ",".join(["*a"] * 300) + "]\n")
    assert script is None and "aliases" in str(errors[0]["message"])

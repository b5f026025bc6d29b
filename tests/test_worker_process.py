"""Process-wide settings of a call worker (bot/worker.py)."""

from __future__ import annotations

import gc
import sys

from bot.worker import GC_YOUNG_THRESHOLD, SWITCH_INTERVAL, configure_worker_process


def test_a_worker_switches_the_gil_often_and_collects_the_young_generation_rarely():
    saved_interval, saved_threshold = sys.getswitchinterval(), gc.get_threshold()
    try:
        sys.setswitchinterval(0.005)
        gc.set_threshold(700, 10, 10)  # CPython's defaults
        configure_worker_process()
        assert sys.getswitchinterval() == SWITCH_INTERVAL
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, 10, 10)  # the older generations keep theirs
        gc.set_threshold(50_000, 10, 10)  # an operator's higher setting is kept
        configure_worker_process()
        assert gc.get_threshold()[0] == 50_000
    finally:
        sys.setswitchinterval(saved_interval)
        gc.set_threshold(*saved_threshold)

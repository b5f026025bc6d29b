"""A process running calls hands the GIL to recognizer threads quickly: its entry point sets
the switch interval once (bot/worker.py); loading the speech resources leaves it alone."""

import sys

from bot.pipeline.resources import SpeechResources, SpeechSettings
from bot.worker import SWITCH_INTERVAL


def test_the_worker_process_has_a_short_gil_switch_interval(speech):
    assert sys.getswitchinterval() <= SWITCH_INTERVAL < 0.005  # CPython's default is 5 ms


def test_loading_speech_resources_changes_no_process_setting(tmp_path):
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.004)
    try:
        resources = SpeechResources.load(None, ["ko-KR"], settings=SpeechSettings(prompt_cache=tmp_path))
        resources.close()
        assert sys.getswitchinterval() == 0.004
    finally:
        sys.setswitchinterval(before)

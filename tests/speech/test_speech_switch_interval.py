"""The process that loaded the speech resources hands the GIL to recognizer threads quickly."""

import sys

from bot.pipeline.resources import SWITCH_INTERVAL


def test_loading_speech_shortens_the_gil_switch_interval(speech):
    assert sys.getswitchinterval() <= SWITCH_INTERVAL < 0.005  # CPython's default is 5 ms

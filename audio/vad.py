"""Caller speech detection at the call's native 8 kHz: a cheap energy gate in front of
Silero VAD. Pure and clocked by samples, never by the wall clock: feed PCM, get events
with their sample positions. The Silero ONNX session is shared by all calls of a process
(its recurrent state lives in each detector)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib import resources

import numpy as np

WINDOW = 256  # samples per Silero window at 8 kHz (32 ms)
CONTEXT = 32


class SileroSession:
    """The shared ONNX session; `score` is safe from several threads."""

    def __init__(self) -> None:
        import onnxruntime

        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        path = str(resources.files("pipecat.audio.vad.data").joinpath("silero_vad.onnx"))
        self.session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"], sess_options=opts)
        self._sr = np.array(8000, dtype="int64")
        self.lock = threading.Lock()

    def score(self, window: np.ndarray, state: np.ndarray) -> tuple[float, np.ndarray]:
        out, new_state = self.session.run(None, {"input": window[None, :], "state": state, "sr": self._sr})
        return float(out[0][0]), new_state


@dataclass(frozen=True)
class SpeechEvent:
    started: bool
    sample: int  # position on the caller's audio timeline


class SpeechDetector:
    def __init__(
        self,
        session: SileroSession,
        *,
        threshold: float = 0.5,
        start_windows: int = 2,
        end_silence: float = 0.8,
        energy_floor: float = 120.0,  # RMS of 16-bit samples below which a window is silence
        sample_rate: int = 8000,
    ):
        self.session = session
        self.threshold = threshold
        self.start_windows = start_windows
        self.energy_floor = energy_floor
        self.sample_rate = sample_rate
        self.set_end_silence(end_silence)
        self.speaking = False
        self.position = 0  # samples consumed
        self.silero_windows = 0  # windows that reached the model (cost meter)
        self._pending = bytearray()  # 16-bit PCM not yet a whole window
        self._reset_model()
        self._voiced_run = 0
        self._run_start = 0
        self._quiet_run = 0
        self._last_voiced_end = 0

    @property
    def trailing_silence(self) -> int:
        """Samples since the last voiced window while the caller is speaking (0 otherwise)."""
        return self._quiet_run * WINDOW if self.speaking else 0

    def set_end_silence(self, secs: float) -> None:
        self.stop_windows = max(1, round(secs * self.sample_rate / WINDOW))

    def _reset_model(self) -> None:
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._quiet_windows = 0

    def _confidence(self, window: np.ndarray, rms: float) -> float:
        if rms < self.energy_floor:
            self._quiet_windows += 1
            if self._quiet_windows * WINDOW >= 2 * self.sample_rate and not self.speaking:
                self._reset_model()  # long silence leaves Silero's state stale at 8 kHz
            return 0.0
        self._quiet_windows = 0
        x = np.concatenate((self._context, window))
        conf, self._state = self.session.score(x, self._state)
        self._context = x[-CONTEXT:]
        self.silero_windows += 1
        return conf

    def feed(self, pcm: bytes) -> list[SpeechEvent]:
        # Called for every 20 ms frame of every call: audio is gathered as bytes and converted
        # only once a whole window is there (no numpy for the frames that complete none).
        self._pending += pcm
        n = len(self._pending) // (2 * WINDOW)
        if not n:
            return []
        take = n * WINDOW * 2
        windows = (np.frombuffer(self._pending, dtype="<i2", count=n * WINDOW).astype(np.float32)
                   / 32768.0).reshape(n, WINDOW)
        del self._pending[:take]
        events: list[SpeechEvent] = []
        energy = np.sqrt(np.einsum("ij,ij->i", windows, windows) / WINDOW) * 32768.0  # RMS per window
        for i in range(n):
            start = self.position
            self.position += WINDOW
            voiced = self._confidence(windows[i], float(energy[i])) >= self.threshold
            if voiced:
                if self._voiced_run == 0:
                    self._run_start = start
                self._voiced_run += 1
                self._quiet_run = 0
                self._last_voiced_end = self.position
                if not self.speaking and self._voiced_run >= self.start_windows:
                    self.speaking = True
                    events.append(SpeechEvent(True, self._run_start))
            else:
                self._voiced_run = 0
                self._quiet_run += 1
                if self.speaking and self._quiet_run >= self.stop_windows:
                    self.speaking = False
                    events.append(SpeechEvent(False, self._last_voiced_end))
        return events

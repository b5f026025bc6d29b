"""Early media of a ringing outbound call: what the network plays after a 180/183 with SDP,
before anyone answers. Chinese carriers say here that a number is switched off, empty,
unreachable or busy ("您拨打的用户已关机 …"), often after a SIT tone, then send a 4xx/5xx or
nothing until our ring timeout. `EarlyMedia` listens to that audio with the same SIT detector
and announcement classifier as the opening after answer (bot.telephony.detection.carrier_announcements)
and tells the endpoint the carrier outcome, so the INVITE is CANCELled and no dialog starts.

aiosipua (0.7.1) hands an 18x only to `OutgoingCall.on_ringing`, without the response (no SDP);
the endpoint's `EdgeUAC.on_response` sees every response first and passes those of a ringing
INVITE to `provisional()` here.

Ringback tones (a single tone, 425/450 Hz, or two close ones) and silence are not speech here,
so a plain ringing call is never transcribed and goes on ringing as before. Music (a colour
ring-back tone) is transcribed at most `max_transcriptions` times and, matching nothing, ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from aiosipua import OutgoingCall, SipResponse

from bot.telephony.detection import carrier_announcements as carrier
from bot.telephony.media.rtp_stream import FRAME_BYTES, MediaStream
from bot.telephony.sip import sdp

log = logging.getLogger(__name__)
RATE = 8000
FRAME_SECONDS = 0.02
_HANN = np.hanning(FRAME_BYTES // 2)


@dataclass(frozen=True)
class EarlyRule:
    speech_level: float = 500.0  # RMS of 16-bit samples counted as sound (as GreetingRule)
    min_speech: float = 0.8  # seconds of voice before an utterance is worth transcribing
    end_silence: float = 0.6  # an utterance ends after this long without voice (or without RTP)
    max_utterance: float = 8.0  # a longer one is transcribed as it stands
    after_sit: float = 6.0  # after a SIT tone (or the last voice after it), the words are awaited this long
    max_transcriptions: int = 3  # per call: music on the line must not keep a recognizer busy
    # a final response (or the ring timeout) waits this long for the classification: a bound, so a
    # stuck recognizer cannot hold the line, but generous, as on a loaded worker Whisper takes many
    # seconds and giving up stores the far end's ending (no_answer ...) instead of the words' outcome
    settle_within: float = 30.0


def is_tone(frame: np.ndarray) -> bool:
    """A 20 ms frame whose energy sits in one narrow band (ringback, SIT, dial tone), not speech.
    Hand-written: one windowed FFT and a ratio; no maintained package tells tones from speech."""
    spectrum = np.abs(np.fft.rfft(frame * _HANN)) ** 2
    peak = int(np.argmax(spectrum))
    total = float(spectrum.sum())
    return total > 0 and float(spectrum[max(0, peak - 2):peak + 3].sum()) >= 0.98 * total  # a sine: >= 0.995


class EarlyMedia:
    """Listens to one outbound INVITE's early media. `provisional(resp)` on every 18x; `ring(out,
    timeout)` instead of `out.wait_answered`; `stop()` when the INVITE is over."""

    def __init__(self, media: MediaStream, codecs: tuple[str, ...], allowed: Callable[[str], bool],
                 transcribe: carrier.Transcribe | None, locale: str, rule: EarlyRule | None = None) -> None:
        self.media = media
        self.codecs = codecs
        self.allowed = allowed  # the media policy for this INVITE's signalling peer (as for the answer)
        self.transcribe = transcribe
        self.locale = locale
        self.rule = rule or EarlyRule()
        self.outcome: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.connected_at: float | None = None  # monotonic time early media was first connected
        self.transcriptions = 0
        self._pcm = bytearray()
        self._start = 0  # where the utterance being listened to begins in _pcm
        self._voiced = 0.0  # seconds of voice in it
        self._last_voice = 0.0
        self._sit = carrier.SitDetector()
        self._sit_at: float | None = None
        self._watch: asyncio.Task[None] | None = None
        self._job: asyncio.Task[str | None] | None = None

    # ------------------------------------------------------------------ signalling
    def provisional(self, resp: SipResponse) -> None:
        """A 180/183 to our INVITE: with SDP inside the media policy, its audio is heard."""
        if resp.status_code not in (180, 183) or not resp.body or self.outcome.done():
            return
        if (resp.content_type or "").split(";")[0].strip().lower() != "application/sdp":
            return
        try:
            choice = sdp.choose(resp.text, self.codecs)
        except ValueError as exc:
            log.info("early media ignored: %s", exc)
            return
        if not self.allowed(choice.peer[0]):
            log.warning("early media ignored: its media address is outside the media policy")
            return
        # receive only: the peer and codec are set without starting the send clock (connect()
        # after the 200 OK starts it), so nothing is sent to a line nobody has answered
        self.media.peer, self.media.payload_type = choice.peer, choice.payload_type
        self.media.dtmf_payload_type = choice.dtmf_payload_type
        self.media.on_audio = self._on_audio
        if self._watch is None:
            self.connected_at = time.monotonic()
            self._watch = asyncio.ensure_future(self._run())

    async def ring(self, out: OutgoingCall, ring_timeout: float, cancel: Callable[[], object]) -> str | None:
        """Wait as `out.wait_answered(ring_timeout)` does. The carrier outcome heard in early media
        (before the answer, or settled from what was heard when a final error or the ring
        timeout came first), else None once answered; TimeoutError / RuntimeError as before.
        On the ring timeout `cancel()` (the CANCEL) goes out first: settling takes a recognizer's time."""
        answered = asyncio.ensure_future(out.wait_answered(timeout=ring_timeout))
        try:
            await asyncio.wait({answered, self.outcome}, return_when=asyncio.FIRST_COMPLETED)
            if not answered.done():
                return self.outcome.result()
            try:
                answered.result()
                return None
            except (TimeoutError, RuntimeError) as exc:
                if isinstance(exc, TimeoutError):
                    cancel()
                heard = await self.settle()
                if heard is None:
                    raise
                return heard
        finally:
            answered.cancel()

    async def settle(self) -> str | None:
        """The outcome of what was heard so far: the running classification, else the utterance
        not yet classified (a final error may come right after the announcement)."""
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        if not self.outcome.done() and self._job is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._job), self.rule.settle_within)
        if not self.outcome.done() and (self._sit_at is not None or self._voiced >= self.rule.min_speech / 2):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._classify(), self.rule.settle_within)
        return self.outcome.result() if self.outcome.done() else None

    def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
        if self.media.on_audio == self._on_audio:
            self.media.on_audio = None

    # ------------------------------------------------------------------ listening
    def _on_audio(self, chunk: bytes) -> None:
        at = len(self._pcm) // FRAME_BYTES * FRAME_BYTES
        self._pcm.extend(chunk)
        if self._sit_at is None and self._sit.feed(chunk):
            self._sit_at = time.monotonic()
            self._start, self._voiced = len(self._pcm), 0.0  # the words after the tone
        while at + FRAME_BYTES <= len(self._pcm):
            frame = np.frombuffer(bytes(self._pcm[at:at + FRAME_BYTES]), dtype="<i2").astype(np.float64)
            at += FRAME_BYTES
            if np.sqrt(np.mean(frame * frame)) >= self.rule.speech_level and not is_tone(frame):
                if self._voiced == 0.0:
                    self._start = max(self._start, at - FRAME_BYTES - int(0.2 * RATE) * 2)  # 200 ms lead-in
                self._voiced += FRAME_SECONDS
                self._last_voice = time.monotonic()
        if self._voiced == 0.0 and len(self._pcm) > 6 * 2 * RATE:  # ringing for long: keep the last second
            cut = (len(self._pcm) - 2 * RATE) // FRAME_BYTES * FRAME_BYTES
            del self._pcm[:cut]
            self._start = max(0, self._start - cut)

    async def _run(self) -> None:
        r = self.rule
        while not self.outcome.done():
            await asyncio.sleep(0.05)
            now = time.monotonic()
            ended = self._voiced >= r.min_speech and now - self._last_voice >= r.end_silence
            long = self._voiced >= r.max_utterance
            # the words are awaited `after_sit` from the tone or from the last voice heard: words
            # still coming (or late, on a busy machine) are not cut off by the tone's clock
            sit_over = self._sit_at is not None and (
                ended or long or now - max(self._sit_at, self._last_voice) >= r.after_sit)
            if sit_over or ((ended or long) and self.transcribe is not None
                            and self.transcriptions < r.max_transcriptions):
                self._job = asyncio.ensure_future(self._classify())
                await asyncio.shield(self._job)
            elif ended or long:  # nothing to hear it with: the next utterance
                self._start, self._voiced = len(self._pcm), 0.0

    async def _classify(self) -> str | None:
        """Classify the utterance being listened to (words after a SIT when there was one)."""
        pcm, sit, voiced = bytes(self._pcm[self._start:]), self._sit_at is not None, self._voiced
        self._start, self._voiced = len(self._pcm), 0.0
        heard = None
        if voiced >= 0.2 and self.transcribe is not None and self.transcriptions < self.rule.max_transcriptions:
            self.transcriptions += 1
            try:
                heard = await asyncio.to_thread(carrier.classify, pcm, self.transcribe, self.locale)
            except Exception:  # listening must never fail the call: it rings on as before
                log.exception("early media could not be classified")
        if heard is None and sit:
            heard = carrier.UNREACHABLE  # a SIT without words the grammar knows
        if heard is not None and not self.outcome.done():
            log.info("carrier announcement in early media: %s", heard)
            self.outcome.set_result(heard)
        return heard

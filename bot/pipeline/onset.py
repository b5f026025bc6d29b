"""Where a caller turn's audio starts: a fixed pre-roll before the speech's own onset, found in
the audio at sample resolution — not a fixed length before the chunk in which the speech
detector fired. The detector works on 32 ms windows and the line on 20 ms chunks, so the
old start moved with where an answer happened to fall on the line (up to ~0.1 s from call
to call for the same recording), and Whisper base hears a short answer differently when
its start moves by 50 ms (是绿码 as 吃地码 at 0.45, 是我 as 说话 at 0.22: the same turns
started 50 ms later were heard right at 0.87 and 0.64). With the onset taken from the audio
the same answer reaches the ear as the same audio wherever it falls on the line."""

from __future__ import annotations

import numpy as np

RATE = 8000
HISTORY = int(1.0 * RATE) * 2  # bytes of audio kept before a detected start (the onset is searched in it)
PREROLL = int(0.3 * RATE)  # samples kept before the onset (a soft first consonant: 七, 是)
ONSET_RMS = 400.0  # 10 ms RMS (16-bit) counted as speech: ~18 dB under a phone-level answer, over line noise
FRAME = 80  # samples of the sliding RMS (10 ms)
MAX_EARLY = int(0.5 * RATE)  # the onset is at most this far before the detected start
GAP = 400  # samples of quiet (50 ms) inside an onset still counted as one stretch of speech


def turn_start(history: bytes, detected: int) -> int:
    """Byte offset in `history` (caller audio up to now) where the turn's audio starts.
    `detected`: sample index in `history` where the detector's voiced run began. The onset
    is the start of the loud stretch the detected run belongs to (quiet gaps under 50 ms
    bridged); without one (a quiet line), the detected start. Then PREROLL before it."""
    x = np.frombuffer(history, dtype="<i2").astype(np.float64)
    n = len(x) - FRAME + 1
    if n <= 0:
        return 0
    c = np.concatenate(([0.0], np.cumsum(x * x)))
    loud = (c[FRAME:] - c[:-FRAME]) / FRAME >= ONSET_RMS * ONSET_RMS  # loud[i]: x[i:i+FRAME]
    detected = min(max(0, detected), n - 1)
    ahead = np.nonzero(loud[detected:])[0]
    if not len(ahead):
        return max(0, detected - PREROLL) * 2
    i = detected + int(ahead[0])
    before = np.nonzero(loud[: i + 1])[0]  # loud samples up to the stretch's first one found
    breaks = np.nonzero(np.diff(before) > GAP)[0]  # quiet gaps longer than GAP
    onset = int(before[breaks[-1] + 1]) if len(breaks) else int(before[0])
    onset = max(onset, detected - MAX_EARLY)  # a line loud throughout (noise): not the whole history
    return max(0, onset - PREROLL) * 2

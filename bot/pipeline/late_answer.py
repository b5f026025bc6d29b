"""An answer's recognition as a live call waits for it (bot/pipeline/listener.py): within a bound,
then degraded, never to no-input.

When recognition is behind (a burst of turn ends) a live call waits `bound` seconds for the
answer's result, then goes on with the words settled at the caller's pause, at a confidence that
has them read back (您是说…，对吗？), or, with none, an answer nobody understands (`UNHEARD`): a
closed question then says it did not catch that and offers the keypad. The late result is dropped."""

from __future__ import annotations

import asyncio
import logging

from audio.recognizer import Recognition

log = logging.getLogger(__name__)

LATE_CONFIDENCE = 0.3  # the words heard at the pause, taken when the final result is late: read back
UNHEARD = "<unheard>"  # the answer when recognition is behind and nothing was heard yet: a no-match


async def recognized(future: asyncio.Future, bound: float | None, step, so_far: str) -> tuple[Recognition, str]:
    """(the answer's recognition, "ok" | "late" | "failed"); `bound` None: wait whatever it takes."""
    try:
        if bound is None:
            return await future, "ok"
        return await asyncio.wait_for(asyncio.shield(future), bound), "ok"
    except TimeoutError:
        future.add_done_callback(_retrieve)
        log.warning("recognition of the answer at step %s took over %.1f s: %s", step, bound,
                    "read back what the pause settled" if so_far else "asking again with the keypad")
        return (Recognition(so_far, LATE_CONFIDENCE) if so_far else Recognition(UNHEARD, 0.0)), "late"
    except Exception:  # a failed recognition is an answer not understood, not a dead call
        log.exception("recognition of the answer at step %s failed", step)
        return Recognition("", 0.0), "failed"


def _retrieve(future) -> None:
    """A late recognition's outcome is not wanted; its failure is logged, not left unretrieved."""
    if not future.cancelled() and future.exception() is not None:
        log.warning("late recognition failed: %s", future.exception())

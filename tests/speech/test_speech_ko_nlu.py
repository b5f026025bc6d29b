import pytest

from bot import nlu


@pytest.mark.parametrize(
    "expect,text,value,intent",
    [
        ("yes_no", "네", "yes", None),
        ("yes_no", "예", "yes", None),
        ("yes_no", "아니요", "no", None),
        ("yes_no", "아니오", "no", None),
        ("yes_no", "상담원 연결", None, "human"),
        ("yes_no", "잘못 거셨어요", "no", "wrong_number"),
        ("health_code", "녹색 입니다", "green", None),
        ("health_code", "노란색", "yellow", None),
        ("health_code", "빨간색 이에요", "red", None),
        ("health_code", "노란색 아니 녹색", "green", None),
        ("count", "한 번", 1, None),
        ("count", "네 번", 4, None),
        ("count", "다섯 번", 5, None),
        ("count", "삼 회", 3, None),
        ("count", "없어요", 0, None),
        ("count", "번", None, None),
        ("count", "네", None, None),
        ("test_result", "이상 없어요", "negative", None),
        ("test_result", "음성", "negative", None),
        ("test_result", "양성", "positive", None),
        ("test_result", "아직 몰라요", "pending", None),
        ("test_result", "다시 말해 주세요", None, "repeat"),
        ("address", "서울시 강남구 역삼동", {"raw": "서울시 강남구 역삼동", "city": "서울시", "district": "강남구"}, None),
        ("address", "", None, None),
    ],
)
def test_parse(expect, text, value, intent):
    assert nlu.parse("ko-KR", expect, text) == nlu.Parse(value, intent)


def test_grammars_are_small_and_open_answers_have_none():
    for expect in ("yes_no", "health_code", "count", "test_result"):
        phrases = nlu.grammar_phrases("ko-KR", expect)
        assert 5 <= len(phrases) <= 20 and "상담원" in phrases
        for p in phrases:  # everything a grammar allows is understood
            assert nlu.parse("ko-KR", expect, p) != nlu.Parse(), p
    assert nlu.grammar_phrases("ko-KR", "address") == []

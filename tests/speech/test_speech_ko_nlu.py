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
        ("address", "서울시 강남구 역삼동",
         {"raw": "서울시 강남구 역삼동", "province": "서울특별시", "city": None, "district": "강남구"}, None),
        ("address", "수원시 영통구", {"raw": "수원시 영통구", "province": "경기도", "city": "수원시", "district": "영통구"}, None),
        ("address", "경기도 광주시", {"raw": "경기도 광주시", "province": "경기도", "city": "광주시", "district": None}, None),
        ("address", "광주시", {"raw": "광주시", "province": "광주광역시", "city": None, "district": None}, None),
        ("address", "부산 중구", {"raw": "부산 중구", "province": "부산광역시", "city": None, "district": "중구"}, None),
        ("address", "중구", {"raw": "중구", "province": None, "city": None, "district": "중구"}, None),
        ("address", "해운대구", {"raw": "해운대구", "province": "부산광역시", "city": None, "district": "해운대구"}, None),
        ("address", "안양시 동안구", {"raw": "안양시 동안구", "province": "경기도", "city": "안양시", "district": "동안구"}, None),
        # a place the table lacks, as free decoding may hear it: still read by its suffix
        ("address", "가나시 다라구", {"raw": "가나시 다라구", "province": None, "city": "가나시", "district": "다라구"}, None),
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
    assert nlu.grammar_phrases("ko-KR", "text") == []


def test_address_grammar_is_every_region_and_each_is_understood():
    phrases = nlu.grammar_phrases("ko-KR", "address")
    assert {"서울시 마포구", "경기도 수원시", "수원시", "영통구", "제주도", "상담원"} <= set(phrases)
    assert len(phrases) == len(set(phrases)) and 800 <= len(phrases) <= 1200
    for p in phrases:
        parsed = nlu.parse("ko-KR", "address", p)
        if p in ("상담원", "상담원 연결", "다시 말해 주세요", "싫어요"):
            assert parsed.intent, p
        else:  # every region phrase gives a place
            assert parsed.value and (parsed.value["province"] or parsed.value["district"]), p

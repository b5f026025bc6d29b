"""Contact tracing answers: `contacts` (who the person ate, lived, travelled or worked with) and
`places` (where they went, and when). The cases in tracing/*.jsonl were written before the parser;
at least 95% must parse exactly (lists compared in order), and every miss is listed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.nlu import parse

TRACING = Path(__file__).parent / "tracing"


def _cases(expect: str) -> list[dict]:
    cases = []
    for path in sorted(TRACING.glob(f"*_{expect}.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                cases.append({**json.loads(line), "where": f"{path.name}:{number}"})
    return cases


@pytest.mark.parametrize("expect", ["contacts", "places"])
def test_at_least_60_cases_in_both_locales(expect):
    cases = _cases(expect)
    assert len(cases) >= 60
    assert {c["locale"] for c in cases} == {"zh-CN", "en-US"}
    assert any(c["value"] == [] for c in cases) and any(len(c["value"]) > 1 for c in cases)


@pytest.mark.parametrize("expect", ["contacts", "places"])
def test_at_least_95_percent_parse_exactly(expect):
    cases = _cases(expect)
    misses = []
    for case in cases:
        got = parse(case["locale"], expect, case["text"])
        if got.value != case["value"] or got.intent != case["intent"]:
            misses.append(f"{case['where']} {case['text']!r}: want {case['value']} {case['intent']}, "
                          f"got {got.value} {got.intent}")
    assert len(misses) <= len(cases) * 0.05, f"{len(misses)} of {len(cases)} wrong:\n" + "\n".join(misses)


def test_contacts_phone_is_e164_and_fields_are_always_there():
    for case in _cases("contacts"):
        for contact in parse(case["locale"], "contacts", case["text"]).value or []:
            assert set(contact) == {"name", "relation", "phone"}
            assert contact["phone"] is None or (contact["phone"].startswith("+") and contact["phone"][1:].isdigit())


@pytest.mark.parametrize("text", ["", "   ", "嗯", "啊 啊 啊", "1" * 400, "，。、", "uh", "the the the"])
@pytest.mark.parametrize("expect", ["contacts", "places"])
@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_odd_input_gives_a_list_or_nothing_never_an_error(locale, expect, text):
    """Odd input names nobody: a list of what was named, or None (nothing understood), never `[]`
    unless "nobody"/"nowhere" was said."""
    value = parse(locale, expect, text).value
    assert value is None or (isinstance(value, list) and value != [])


def test_the_contract_through_veribot_nlu_batch():
    lines = [
        {"locale": "zh-CN", "expect": "contacts", "text": "我同事李明，他手机是一三八一二三四五六七八"},
        {"locale": "zh-CN", "expect": "contacts", "text": "没有"},
        {"locale": "zh-CN", "expect": "places", "text": "前天下午去了西关十字的超市"},
        {"locale": "en-US", "expect": "places", "text": "nowhere"},
    ]
    out = subprocess.run([sys.executable, "-m", "bot", "nlu", "--batch", "-"], check=True, capture_output=True,
                         text=True, input="\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n")
    got = [json.loads(x) for x in out.stdout.splitlines()]
    assert got == [
        {"value": [{"name": "李明", "relation": "colleague", "phone": "+8613812345678"}], "intent": None},
        {"value": [], "intent": None},
        {"value": [{"place": "西关十字的超市", "when": "前天下午"}], "intent": None},
        {"value": [], "intent": None},
    ]


@pytest.mark.parametrize(("locale", "text"), [("zh-CN", "。"), ("zh-CN", "嗯"), ("zh-CN", "记 不 清 了"),
                                              ("en-US", "."), ("en-US", "uh"), ("en-US", "i can't remember")])
@pytest.mark.parametrize("expect", ["contacts", "places"])
def test_a_garbled_or_hedged_answer_is_not_none(locale, expect, text):
    """"。" heard for the contacts answer is nothing understood (null: asked again), never [] ("nobody")."""
    assert parse(locale, expect, text).value is None


@pytest.mark.parametrize("locale", ["zh-CN", "en-US", "ko-KR"])
@pytest.mark.parametrize("expect", ["contacts", "places"])
def test_tracing_questions_are_decoded_freely(locale, expect):
    """Names, numbers and places are open answers: no grammar (free decoding), never
    "unknown expect 'contacts'" (issue 22: every spoken survey answer logged it)."""
    from bot.nlu import grammar_phrases

    assert grammar_phrases(locale, expect) == []

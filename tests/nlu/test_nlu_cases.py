"""The held-out style case files: realistic recognizer outputs, with and without spaces,
homophones, fillers, self-corrections. At least 98% must parse right; every miss is listed."""

from __future__ import annotations

import pytest
from nlu_casefiles import load_cases, matches

from bot.nlu import parse

CASES = load_cases()


def _failures(cases):
    failures = []
    for case in cases:
        got = parse(case["locale"], case["expect"], case["text"])
        if not (matches(case["value"], got.value) and case["intent"] == got.intent):
            failures.append(
                f"{case['where']} {case['expect']} {case['text']!r}: want value={case['value']!r} "
                f"intent={case['intent']!r}, got value={got.value!r} intent={got.intent!r}"
            )
    return failures


def test_case_files_are_big_enough():
    assert len(CASES) >= 500
    assert {c["locale"] for c in CASES} == {"zh-CN", "en-US"}
    assert {c["expect"] for c in CASES} >= {"yes_no", "health_code", "count", "test_result", "address"}


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_at_least_98_percent_of_cases_parse_right(locale):
    cases = [c for c in CASES if c["locale"] == locale]
    failures = _failures(cases)
    accuracy = 1 - len(failures) / len(cases)
    assert accuracy >= 0.98, f"{accuracy:.1%} right; {len(failures)} failures:\n" + "\n".join(failures)


def test_every_intent_is_covered_in_both_locales():
    for locale in ("zh-CN", "en-US"):
        intents = {c["intent"] for c in CASES if c["locale"] == locale}
        assert intents >= {"refuse", "human", "repeat", "who", "wrong_number", None}, locale


def test_refusals_hedges_questions_back_and_non_answers_parse_right():
    """heldout9 (issue 22, written before the fixes): statements of refusal that contain 不/没, hedges
    ("记不清了", "i'm not sure"), questions back ("你没试谁" = 你们是谁 misheard), opt-out requests and
    non-answers at the address question are never read as a yes/no or an address."""
    cases = load_cases("heldout9*.jsonl")
    assert len(cases) >= 60 and {c["locale"] for c in cases} == {"zh-CN", "en-US"}
    failures = _failures(cases)
    assert not failures, f"{len(failures)} of {len(cases)} wrong:\n" + "\n".join(failures)

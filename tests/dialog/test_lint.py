"""One test per class of script error, each asserting the line it is reported at."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.dialog.script import ScriptError, load_script_text

BASE = """\
name: t
locale: xx-XX
variables: [name]
start: ask1
steps:
  ask1:
    ask: yes_no
    slot: identity
    prompt: "are you {name}?"
    reprompts:
      no_input: ["hello?"]
      no_match: ["pardon?"]
    dtmf: {"1": "yes", "2": "no"}
    next: bye
  bye:
    say: "bye"
    end: completed
"""


def errors(text: str) -> list[tuple[int, str]]:
    with pytest.raises(ScriptError) as info:
        load_script_text(textwrap.dedent(text))
    return [(p.line, p.message) for p in info.value.errors]


def one(text: str, fragment: str) -> int:
    found = [(line, msg) for line, msg in errors(text) if fragment in msg]
    assert found, f"no error containing {fragment!r} in {errors(text)}"
    return found[0][0]


def test_base_is_valid():
    script = load_script_text(BASE)
    assert script.start == "ask1" and script.steps["ask1"].dtmf == (("1", "yes"), ("2", "no"))


def test_yaml_syntax_error_has_its_line():
    assert one(BASE.replace('    next: bye\n', '    next: [bye\n'), "YAML syntax") >= 14


def test_python_tags_are_rejected():
    assert one(BASE.replace('prompt: "are you {name}?"', 'prompt: !!python/object/apply:os.system ["id"]'), "not allowed") == 9


def test_yes_no_on_off_stay_strings():
    script = load_script_text(BASE.replace('"1": "yes", "2": "no"', '"1": yes, "2": no'))
    assert dict(script.steps["ask1"].dtmf) == {"1": "yes", "2": "no"}


def test_unknown_key():
    assert one(BASE.replace("    next: bye\n", "    nxet: bye\n    next: bye\n"), "unknown key 'nxet'") == 14


def test_wrong_type():
    assert one(BASE.replace("steps:\n", "settings:\n  max_failures: lots\nsteps:\n"), "max_failures must be") == 6


def test_unknown_expect():
    assert one(BASE.replace("ask: yes_no", "ask: colour"), "ask must be one of") == 7


def test_unknown_step_reference():
    assert one(BASE.replace("next: bye", "next: byebye"), "unknown step 'byebye'") == 14


def test_unknown_start():
    assert one(BASE.replace("start: ask1", "start: nowhere"), "start refers to unknown step") == 4


def test_unreachable_step():
    text = BASE + "  orphan:\n    say: hi\n    next: bye\n"
    assert one(text, "'orphan' is unreachable") == 18


def test_step_with_no_path_to_an_end():
    text = BASE.replace("next: bye", "next: loop") + "  loop:\n    say: again\n    next: loop\n"
    assert one(text, "'loop' has no path to an end") == 18


def test_undefined_variable():
    assert one(BASE.replace('"hello?"', '"hello {nmae}?"'), "undefined variable {nmae}") == 11


def test_dtmf_key_mapped_twice_in_one_map():
    assert one(BASE.replace('{"1": "yes", "2": "no"}', '{"1": "yes", "1": "no"}'), "duplicate key '1'") == 13


def test_dtmf_key_mapped_twice_across_handler_and_ask():
    text = BASE.replace("start: ask1", 'handlers:\n  human:\n    dtmf: "1"\nstart: ask1')
    assert one(text, "DTMF key 1 is mapped twice") == 16


def test_dtmf_value_must_fit_the_expect():
    assert one(BASE.replace('"2": "no"', '"2": "maybe"'), "maps to 'maybe'") == 13


def test_ask_without_reprompts():
    text = BASE.replace('      no_input: ["hello?"]\n', "")
    assert one(text, "no no_input reprompts") == 6


def test_branch_to_value_the_expect_cannot_give():
    text = BASE.replace("    next: bye\n  bye:", "    branches: {maybe: bye}\n    next: bye\n  bye:", 1)
    assert one(text, "unknown key 'maybe'") == 14


def test_errors_come_sorted_and_all_at_once():
    text = BASE.replace("next: bye", "next: nope").replace('"hello?"', '"{x}"')
    lines = [line for line, _ in errors(text)]
    assert lines == sorted(lines) and len(lines) >= 2


def test_cli_lint_exit_codes_and_format(tmp_path: Path):
    root = Path(__file__).resolve().parents[2]  # a locale's scripts need its system catalogue beside them
    system = (root / "dialogs" / "system.zh-CN.yaml").read_text(encoding="utf-8")
    (tmp_path / "system.xx-XX.yaml").write_text(system.replace("locale: zh-CN", "locale: xx-XX"), encoding="utf-8")
    good = tmp_path / "good.yaml"
    good.write_text(BASE)
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE.replace("next: bye", "next: byebye"))
    run = [sys.executable, "-m", "bot", "dialogs", "lint"]
    assert subprocess.run([*run, str(good)], capture_output=True).returncode == 0
    out = subprocess.run([*run, str(bad)], capture_output=True, text=True)
    assert out.returncode == 1 and f"{bad}:14: step 'ask1': next refers to unknown step 'byebye'" in out.stdout


@pytest.mark.parametrize("name", ["verification.zh-CN.yaml", "verification.en-US.yaml"])
def test_shipped_scripts_are_valid(name: str):
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-m", "bot", "dialogs", "lint", str(root / "dialogs" / name)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout


def test_table_and_diagram_come_from_the_definition():
    root = Path(__file__).resolve().parents[2]
    path = str(root / "dialogs" / "verification.zh-CN.yaml")
    table = subprocess.run([sys.executable, "-m", "bot", "dialogs", "table", path], capture_output=True, text=True, check=True).stdout
    assert "identity" in table and "no -> not_the_person" in table and "human (key 0)" in table
    dot = subprocess.run([sys.executable, "-m", "bot", "dialogs", "diagram", path], capture_output=True, text=True, check=True).stdout
    assert dot.startswith('digraph "verification"') and '"nat_count" -> "notice" [label="0"];' in dot


def test_a_misspelt_step_name_is_one_error_not_a_cascade():
    found = errors(BASE.replace("next: bye", "next: byebye"))
    assert [msg for _, msg in found] == ["step 'ask1': next refers to unknown step 'byebye'"]


def test_recognize_must_be_grammar_or_free():
    assert one(BASE.replace("    next: bye\n", "    recognize: fuzzy\n    next: bye\n"), "recognize must be one of") == 14
    script = load_script_text(BASE.replace("    next: bye\n", "    recognize: free\n    next: bye\n"))
    assert script.steps["ask1"].recognize == "free"


def test_end_silence_complete_must_not_be_longer_than_end_silence():
    too_long = BASE.replace("    next: bye\n", "    end_silence: 0.5\n    end_silence_complete: 0.9\n    next: bye\n")
    assert one(too_long, "end_silence_complete (0.9) must not be longer than end_silence (0.5)") == 15
    assert one(BASE.replace("steps:\n", "settings:\n  end_silence: 0.4\n  end_silence_complete: 0.6\nsteps:\n"),
               "settings: end_silence_complete must not be longer") == 7
    assert one(BASE.replace("    next: bye\n", "    end_silence_complete: 0.01\n    next: bye\n"),
               "end_silence_complete must be a number from 0.1 to 5") == 14
    script = load_script_text(BASE.replace("    next: bye\n", "    end_silence_complete: 0.25\n    next: bye\n"))
    listen = script.steps["ask1"]
    assert listen.end_silence_complete == 0.25 and script.settings.end_silence_complete == 0.2


def test_early_is_false_or_words():
    assert one(BASE.replace("    next: bye\n", "    early: true\n    next: bye\n"), "early must be false or a non-empty list") == 14
    assert one(BASE.replace("    next: bye\n", "    early: []\n    next: bye\n"), "early must be false or a non-empty list") == 14
    text_ask = BASE.replace("ask: yes_no", "ask: text").replace('    dtmf: {"1": "yes", "2": "no"}\n', "")
    assert one(text_ask.replace("    next: bye\n", "    early: [x]\n    next: bye\n"), "free-text question is never filled") == 13
    script = load_script_text(BASE.replace("    next: bye\n", "    early: [quarantine]\n    next: bye\n"))
    assert script.steps["ask1"].early_words == ("quarantine",)
    assert load_script_text(BASE).steps["ask1"].early_words is None  # yes/no: only with words
    no_early = load_script_text(BASE.replace("ask: yes_no", "ask: health_code").replace(
        '"1": "yes", "2": "no"', '"1": "green"').replace("    next: bye\n", "    early: false\n    next: bye\n"))
    assert no_early.steps["ask1"].early_words is None

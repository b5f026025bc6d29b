"""Issue 12 item 5 (YAML): hostile dialog scripts are refused quickly with a line-numbered error,
never a hang, a RecursionError or a traceback. CPU time is measured, not wall time."""

from __future__ import annotations

import time

import pytest

from bot.dialog.script import ScriptError, load_script_text
from bot.dialog.yamlsafe import DocumentError, load_document


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """The classic "billion laughs": each level repeats the previous one `width` times."""
    names = "abcdefghijklmnop"
    lines = ["a: &a [" + ",".join(["l"] * width) + "]"]
    for prev, name in zip(names[:levels - 1], names[1:levels], strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * width) + "]")
    return "\n".join(lines) + "\n"


def refused(text: str) -> tuple[DocumentError, float]:
    start = time.process_time()
    with pytest.raises(DocumentError) as exc:
        load_document(text)
    return exc.value, time.process_time() - start


def test_a_316_byte_alias_bomb_is_refused_within_a_second():
    bomb = alias_bomb()
    assert len(bomb.encode()) <= 316
    err, cpu = refused(bomb)
    assert cpu < 1.0
    assert "aliases are expanded" in str(err)


def test_many_aliases_are_refused():
    text = "a: &a x\nb: [" + ",".join(["*a"] * 1000) + "]\n"
    err, _ = refused(text)
    assert "more than 200 aliases" in str(err) and err.problems[0].line == 2


@pytest.mark.parametrize("opener", ["[", "{a: ", "- "])
def test_deep_nesting_is_a_clean_error_not_a_recursion_error(opener):
    text = opener * 20000 if opener != "- " else "".join("  " * i + "-\n" for i in range(200))
    err, cpu = refused(text)
    assert "nested more than" in str(err)
    assert cpu < 1.0


def test_a_megabyte_string_is_refused_at_once():
    err, cpu = refused("name: " + "x" * (1024 * 1024) + "\n")
    assert "longer than" in str(err) and cpu < 0.1


def test_the_console_lint_path_reports_it_as_a_script_error():
    with pytest.raises(ScriptError) as exc:
        load_script_text(alias_bomb(), name="draft")
    assert exc.value.errors and "aliases" in exc.value.errors[0].message


def test_a_few_ordinary_aliases_still_work():
    doc = load_document("base: &b {x: 1}\nuse: *b\nlist: [*b, *b]\n")
    assert doc.data == {"base": {"x": 1}, "use": {"x": 1}, "list": [{"x": 1}, {"x": 1}]}

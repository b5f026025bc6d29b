"""The system's own sentences live in per-locale catalogues beside the scripts (issue 21 item 2):
the shipped ones are complete, lint names what is missing or unknown, a locale is added from
files only, numbers are said as people say them, and a call the desk handed back does not say
it was cut off (issue 22 item 5)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from bot.campaigns.inbound.callback_replies import reply_for
from bot.dialog.catalogue import KEYS, catalogue_for, lint_catalogue, parse_catalogue, phone_groups
from bot.dialog.events import Say
from bot.dialog.script import load_script
from bot.dialog.session import CallSession
from bot.simulate import run_text
from bot.telephony.calls import storage_fault

ROOT = Path(__file__).resolve().parents[2]
DIALOGS = ROOT / "dialogs"
VARS = {"agency": "兰州市公安局", "callback_number": "0931-8888-6666", "caller_id": "96110", "call_code": "4 7 1 1",
        "badge": "6201-0427", "callback_minutes": "90"}


def test_every_locale_of_a_shipped_script_has_a_complete_catalogue():
    locales = {load_script(p).locale for p in DIALOGS.glob("*.yaml") if not p.name.startswith("system.")}
    assert locales >= {"zh-CN", "en-US", "ko-KR"}
    for locale in locales:
        path = DIALOGS / f"system.{locale}.yaml"
        assert lint_catalogue(path.read_text(encoding="utf-8"), str(path)) == [], path
        assert set(parse_catalogue(path.read_text(encoding="utf-8")).sentences) == set(KEYS)


def test_lint_names_a_missing_sentence_an_unknown_variable_and_an_empty_one():
    text = (DIALOGS / "system.en-US.yaml").read_text(encoding="utf-8")
    broken = (text.replace('    nothing_more: "We have', '    nothing_mor: "We have')
              .replace("staff number {badge}.", "staff number {bagde}.")
              .replace('unpromised: "Sorry, we have a system fault', 'unpromised: "" #'))
    messages = [p.message for p in lint_catalogue(broken)]
    assert any("'service.nothing_more' is missing" in m for m in messages)
    assert any("unknown sentence 'service.nothing_mor'" in m for m in messages)
    assert any("{bagde}" in m and "callback.genuine" in m for m in messages)
    assert any("'storage_fault.unpromised' is empty" in m for m in messages)


@pytest.mark.parametrize("number,groups", [
    ("0931-8888-6666", ["0931", "8888", "6666"]), ("093188886666", ["0931", "8888", "6666"]),
    ("13912345678", ["139", "1234", "5678"]), ("010-12345678", ["010", "1234", "5678"]), ("96110", ["96110"]),
])
def test_phone_numbers_are_grouped_as_people_say_them(number, groups):
    assert phone_groups(number) == groups


def test_phone_numbers_said_per_locale_mandarin_one_is_yao():
    zh, en = catalogue_for("zh-CN"), catalogue_for("en-US")
    assert zh.phone("0931-8888-6666") == "零九三一，八八八八，六六六六"
    assert zh.phone("13912345678") == "幺三九，幺二三四，五六七八"
    assert zh.phone("96110") == "九六幺幺零"
    assert en.phone("0931-8888-6666") == "zero nine three one, eight eight eight eight, six six six six"


def test_a_zh_script_says_the_official_number_in_groups_and_durations_in_chinese():
    script = load_script(DIALOGS / "verification.zh-CN.yaml")
    said = [a.text for a in CallSession(script, {"name": "张伟"}, VARS).start() if isinstance(a, Say)]
    assert "零九三一，八八八八，六六六六" in said[0] and "0931" not in said[0]
    conv = run_text(script, {"name": "张伟"}, ["是", "转人工"], {**VARS, "operator_line": ""})
    assert any("1小时30分钟内" in t.text for t in conv.record.transcript)


def test_an_english_script_says_the_agency_in_english_when_config_names_it():
    script = load_script(DIALOGS / "verification.en-US.yaml")
    variables = {**VARS, "agency.en": "Lanzhou Public Security Bureau"}
    said = " ".join(a.text for a in CallSession(script, {"name": "Li Lei"}, variables).start() if isinstance(a, Say))
    assert "Lanzhou Public Security Bureau" in said and "兰州" not in said


def test_a_locale_is_added_from_files_only(tmp_path):
    """en-GB: a script and its catalogue in a folder, nothing else. Its answers are understood by
    bot.nlu.en (bot.nlu picks the module by the locale's language part: the documented mapping)."""
    script_text = (DIALOGS / "verification.en-US.yaml").read_text(encoding="utf-8")
    (tmp_path / "verification.en-GB.yaml").write_text(
        script_text.replace("locale: en-US", "locale: en-GB").replace("\nresume:", "\n# resume:"), encoding="utf-8")
    cat = (DIALOGS / "system.en-US.yaml").read_text(encoding="utf-8").replace("locale: en-US", "locale: en-GB")
    cat = cat.replace("our call was cut off; let's continue", "we were cut off; shall we carry on")
    cat = cat.replace("and your answers cannot be saved right now", "and your answers cannot be stored just now")
    (tmp_path / "system.en-GB.yaml").write_text(cat, encoding="utf-8")

    script = load_script(tmp_path / "verification.en-GB.yaml")
    assert script.locale == "en-GB" and script.system.path == str(tmp_path / "system.en-GB.yaml")
    conv = run_text(script, {"name": "Li Lei"}, ["yes"], VARS, prefilled_slots={"identity": "yes"})
    lines = [t.text for t in conv.record.transcript if t.speaker == "bot"]
    assert "Hello Li Lei, we were cut off; shall we carry on where we stopped." in lines
    assert "stored just now" in storage_fault.words(script.locale, True, script.system)
    conv = run_text(script, {"name": "Li Lei"}, ["yes", "Lanzhou Chengguan district Baiyin road"], VARS)
    assert conv.record.slots["identity"] == "yes" and conv.record.slots["residence"]


def test_a_handed_back_case_is_not_told_the_call_was_cut_off():
    script = load_script(DIALOGS / "verification.zh-CN.yaml")
    stored = {"identity": "yes", "residence": {"raw": "x"}}
    cut = [a.text for a in CallSession(script, {"name": "张伟"}, VARS, stored).start() if isinstance(a, Say)]
    assert any("刚才的通话中断了" in t for t in cut)  # a call that was cut off says so
    back = CallSession(script, {"name": "张伟"}, {**VARS, "resume_after": "handed_back"}, stored).start()
    texts = [a.text for a in back if isinstance(a, Say)]
    assert not any("中断" in t for t in texts)
    assert "张伟您好，我们继续完成上次还没有问完的几个问题。" in texts
    assert ("resume.handed_back", script.resume_for("handed_back")) in script.prompt_templates()
    called = CallSession(script, {"name": "张伟"}, {**VARS, "resume_after": "called_back"}, stored).start()
    assert not any("中断" in a.text for a in called if isinstance(a, Say))  # the resident called us back


def test_callback_from_another_phone_is_told_why_not_that_it_cannot_be_identified():
    text = reply_for("genuine_other_number", "zh-CN", VARS, None, None)
    assert "这是真实来电" in text and "无法核实您的身份" not in text
    assert "您现在用的不是我们拨打的号码" in text and "零九三一，八八八八，六六六六" in text
    no_badge = reply_for("genuine", "zh-CN", {**VARS, "badge": ""}, None, None)
    assert "工号" not in no_badge and "这是真实来电" in no_badge


def test_a_broken_catalogue_beside_a_script_is_a_script_error(tmp_path):
    shutil.copy(DIALOGS / "verification.en-US.yaml", tmp_path / "s.yaml")
    (tmp_path / "system.en-US.yaml").write_text(textwrap.dedent("""\
        locale: en-US
        sentences: {}
        numbers: {digits: [a, b, c, d, e, f, g, h, i, j]}
        """), encoding="utf-8")
    from bot.dialog.script import ScriptError
    with pytest.raises(ScriptError, match="storage_fault.promised' is missing"):
        load_script(tmp_path / "s.yaml")


def test_no_resident_sentence_is_written_in_python_where_sentences_are_said():
    """The modules that say things to residents hold no Chinese or Korean text and no English
    sentence outside docstrings and comments: what they say comes from the catalogues."""
    import ast
    import re

    places = [*(ROOT / "bot" / "dialog").glob("*.py"), *(ROOT / "bot" / "telephony" / "calls").glob("*.py"),
              *(ROOT / "bot" / "campaigns" / "inbound").glob("*.py"), ROOT / "bot" / "settings.py",
              ROOT / "bot" / "pipeline" / "prompt_texts.py"]
    cjk = re.compile(r"[\u3400-\u9fff\uac00-\ud7af]")
    english = re.compile(r"^(Hello|Sorry|Please|Thank|Goodbye|This is|We |To |That |Too |You )")
    found = []
    for path in places:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = {id(n.body[0].value) for n in ast.walk(tree)
                if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                if re.search(r"\(\?|\||\\b", node.value):  # a pattern of what callers say, not a sentence
                    continue
                if cjk.search(node.value) or english.match(node.value):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:40]!r}")
    # names, not sentences: the desk's default name ([agency] name) and the default area of the
    # address understanding ([nlu] default_province / default_city)
    allowed = {"'兰州市公安局'", "'甘肃省'", "'兰州市'"}
    assert [f for f in found if f.split(": ", 1)[1] not in allowed] == []

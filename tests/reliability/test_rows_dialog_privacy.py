"""RELIABILITY.md rows: no expression in an admin's script is ever evaluated, and the calls a
worker makes log no personal data (names, phone numbers, addresses, answers)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.campaigns.dialing.dialer import Dialer
from bot.campaigns.scripts.dialog_versions import ScriptSource
from bot.dialog.script import ScriptError, load_script_text
from bot.simulate import run_text
from tests.campaigns.campaign_fakes import Clock, TextRunner, add_campaign, settle

ROOT = Path(__file__).resolve().parents[2]
SHORT = (ROOT / "tests" / "speech" / "fixtures" / "short.ko-KR.yaml").read_text(encoding="utf-8")
GREETING = "안녕하세요. {name} 님 본인이 맞으십니까? 네, 또는 아니요로 답해 주세요."


def test_prompt_expressions_are_never_evaluated(tmp_path):
    mark = tmp_path / "evaluated"
    hostile = (f"{{name.__class__}} {{name!r}} {{name[0]}} {{{{name}}}} "
               f"{{__import__('os').system('touch {mark}')}} {{name}}")
    script = load_script_text(SHORT.replace(GREETING, hostile, 1), "short")
    said: list[str] = []
    run_text(script, {"name": "김민수"}, ["1"], on_say=lambda s: said.append(s.text))
    assert said[0] == (f"{{name.__class__}} {{name!r}} {{name[0]}} {{name}} "
                       f"{{__import__('os').system('touch {mark}')}} 김민수")
    assert not mark.exists()


def test_python_tags_in_a_script_run_nothing(tmp_path):
    mark = tmp_path / "evaluated"
    hostile = SHORT.replace(f'"{GREETING}"', f'!!python/object/apply:os.system ["touch {mark}"]', 1)
    with pytest.raises(ScriptError, match="not allowed"):
        load_script_text(hostile, "short")
    assert not mark.exists()


PHONE, NAME, ADDRESS = "+8613912345678", "测试0", "城关区 白银 路"


class CrashingTalker(TextRunner):
    """A real conversation (name, address, escalation), then the runner fails on a second person."""

    async def run(self, request):
        if request.phone != PHONE:
            raise RuntimeError(f"line to {request.phone} for {request.person.get('name')} dropped")
        return await super().run(request)


async def test_calls_log_no_personal_data(sqlite_db, caplog):
    caplog.set_level(logging.DEBUG)
    add_campaign(sqlite_db, concurrency=2, dialog_name="verification",
                 dialog_path=str(ROOT / "dialogs" / "verification.zh-CN.yaml"),
                 people=[(PHONE, 1), ("+8613987654321", 2)])
    runner = CrashingTalker({PHONE: ["是 的", ADDRESS, "我 要 找 人工"]})
    dialer = Dialer(sqlite_db, runner, worker_id="w", clock=Clock(), scripts=ScriptSource(sqlite_db, ROOT))
    await dialer.tick()
    await settle(dialer)
    assert len(runner.requests) == 1 and any(r.levelno >= logging.ERROR for r in caplog.records)  # it did log
    text = "\n".join(r.getMessage() + (str(r.exc_info[1]) if r.exc_info else "") for r in caplog.records)
    for secret in (PHONE, PHONE[3:], "87654321", "12345678", NAME, "测试1", "城关区", "白银"):
        assert secret not in text, f"{secret!r} logged"

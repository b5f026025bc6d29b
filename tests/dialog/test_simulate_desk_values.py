"""Issue 22: `veribot simulate` says the badge and official number an admin set in the console
(var/agency-overrides.json under the config's var_dir), as a dialled call does, and does not warn
about an empty badge the console has filled."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.campaigns.scripts import agency_overrides

REPO = Path(__file__).resolve().parents[2]


def test_simulate_uses_the_console_badge_and_number(tmp_path: Path) -> None:
    var = tmp_path / "var"
    agency_overrides.save(var, {"callback_number": "0931-12345", "badge": "GA2031"})
    config = tmp_path / "config.toml"
    config.write_text(f'[agency]\nname = "兰州市公安局"\nbadge = ""\ncallback_number = "96110"\n'
                      f'[service]\nvar_dir = "{var}"\n', encoding="utf-8")
    answers = tmp_path / "answers.txt"
    answers.write_text("你们是谁\n<hangup>\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "bot", "simulate", "--dialog", "dialogs/verification.zh-CN.yaml",
                          "--person", '{"name": "张三"}', "--answers", str(answers), "--config", str(config)],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    who = next(line for line in out.stdout.splitlines() if "工号" in line)
    assert "工号GA2031" in who and "零九三一，幺二三四五" in who, who
    assert "badge" not in out.stderr  # the console's badge fills it: no warning

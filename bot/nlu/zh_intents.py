"""Caller intents in Mandarin recognizer output (matched on the compact text, spaces removed).

Each intent is a list of patterns; when several intents are expressed the first in PRIORITY wins
(a request not to be called again first: said with "wrong number" it is the wrong number's request,
`find_intents` tells both; a wrong number settles the call; an explicit request for a person beats a
refusal; a refusal beats "who is calling", which beats "say again").
"""

from __future__ import annotations

import re

PRIORITY = ("do_not_call", "wrong_number", "human", "refuse", "who", "repeat")

_PATTERNS: dict[str, list[str]] = {
    "wrong_number": [
        r"打错|拨错|错号|号码?错了|错了号|找错人|认错人|找错了|打错人",
        r"(没有|没)(这个|这|此|那个)人|查无此人|没有叫|我不叫|不认识(他|她|这个人|这人|此人|你说的)(?!们)",
        r"不用(这个|这|那个)(号码|号|电话|手机)|不用(这个)?号(码)?了|(号码|号)(已经)?(不用|停用|注销)了?|"
        r"我不是(他|她|它|本人|那个人|这个人|你要找的)|是我.{1,3}的(电话|手机|号码?)|新(办|换|买)的(号|卡|号码)|不是(他|她)本人|不是本人|我不是你(要|说)?找的|不是这个人",
        r"(他|她)(现在)?不在(这|家|这里|这儿|啊|呀|了)?(?!隔离)",
        r"(这|这个)?(号码?|电话|手机)?不是(他|她)的|换(了)?号|号码换|新号码|刚(买|换|办)的?(号|卡)|(号|号码|卡|手机).{0,3}刚(买|换|办)|前机主|以前的机主",
    ],
    "do_not_call": [  # "don't call this number again": the number goes on the do-not-call list
        r"(别|不要|不用|甭|莫)(再|在)?(给我|往这|给这个号码?)?(打|拨|来)(电话|这个电话)?(了|来了)|(以后|今后|再也)(都)?(别|不要|不用)(再)?(给我)?打|"
        r"别再打|不要再打|再打(我)?(就)?(报警|投诉)|(别|不要|甭|莫)(再|在)(给我|往这里?|给这个号码?)?(打|拨)(电话)?|(别|不要)给我打电话|"
        r"(别|不要|不用)(再)?(给我|往这里?)?打(电话)?过来|(把|将)我(的)?(号码|电话|手机号?).{0,4}(删|去掉|拉黑|移除)|(别|不要)再(联系|骚扰)我",
    ],
    "human": [
        r"有没有(真人|活人|人工)|有没有人(接|听|管)|(让|叫|换)(个|一个)?(真)?人来(接|听|说)?|"
        r"人工|人公|仁工|真人|活人|转接|接线员|客服|话务员|工作人员|领导|负责人|主管|投诉",
        r"(找|跟|和|换|要)(个|一个)?(人|真人|活人)(说|谈|聊|讲)?(话)?$|(找|换)(个|一个)(人|真人|活人)|换(个)?人|(不想|不要|不愿意?)(跟|和)机器",
    ],
    "refuse": [
        r"不(想|要|愿意?|肯)(回答|说|告诉|讲|配合|理|透露|谈|聊|跟你|和你|接受)",
        r"不(能|可以|便)(说|讲|告诉|透露|回答)|没法(说|讲|告诉|回答)|"
        r"(等|过)(一)?(会|会儿|下)再(说|打|聊|讲)|晚(一)?点(再)?(说|打|聊)|(明天|回头|改天|下次|以后)再(说|打|聊)|"
        r"(过会儿?|等会儿?|晚点|稍后)再?打(过)?来|没(有)?(兴趣|什么好说|啥好说|什么可说|啥可说)|不感兴趣|"
        r"没(有)?必要(跟你|和你|给你|对你)?(讲|说|告诉|回答)|不告[诉顺速素苏述](你|您|宁|林|拟|泥|了)?",
        r"不方便|凭(什么|啥)(?!相信|证明)|(是|属于)(我)?(自己|个人)的?(事|隐私)|(我)?没(有)?(什么|啥)好(跟你|和你|对你)?(说|讲)的?|(你|你们)自己(去)?(查|看)|为(什么|啥)要告诉|(跟|和|与)你(有|没)(什么|啥)?关系|与你无关|管(那么|这么)多|我(要)?挂了|挂(电话)?了啊|关你(什么|啥|屁)?事|管(得|的)着|管不着|少管|别管|不用你管|你管不着",
        r"别烦|不要烦|烦(死)?了|烦不烦|有完没完|你管我|不(跟|和)你(说|讲|聊|扯|啰嗦)|没(这|这个|那个)必要|等我.{1,4}(再|以后)(说|打|聊)|别(再)?问了|不要(再)?问了",
        r"没(有)?义务|没(有)?必要(告诉|回答|说)|不(用|必|需要)告诉你|不(关|干)你(的|什么|啥)?事|"
        r"跳过|下一个问题|我(要|得)?保密|不便(透露|说|回答)?|"
        r"(?<!听)不(说|讲)(了|啊|的)?$|拒绝|不接受|不同意|(很|在|正在|太|特别)忙|忙着呢|不回答|不告诉你|无可奉告|不配合|懒得|没(空|时间|工夫)(?!去|做|测|检|查)|隐私|我不说|不说了|我要挂了|滚|神经病",
    ],
    "who": [
        r"^(你|您)(们|没|门|闷|么)?(是|试|事|式|市|似|时|斯)(谁|水|睡|税|随)",
        r"(你们|您|你)(是不是|是|就是)(?!说)(?=.{0,4}(哪|什么|啥|干|做|谁|骗))|(你|您|你们)(是|系)?谁|你谁|(你|您)哪位|是哪位|谁啊|谁呀|谁打|谁让你|找谁|找哪(个|位)",
        r"哪(里|儿)?打来|(你|您|你们)(是)?哪(里|儿|个|位)|^(什么|啥)事|(你|你们|您)是(?!说).{1,6}的?吗$|从哪(里|儿)?打|(哪个|什么|哪里的|啥)(单位|部门|机构|地方)|(你|你们)是哪",
        r"(干|做)(嘛|什么|啥)的|(要|问|拿)[^|]{0,8}(干|做)(嘛|什么|啥)(用)?$|(?<!没)有(什么|啥)事|找我(有)?(什么|啥)事|找我干|为(什么|啥)(要)?(给我)?打|打(电话)?给我干",
        r"(我)?怎么知道(你|你们)(不)?(是)?|(我)?不认识(你|你们|您)|是不是真的|怎么证明|(如何|怎么)(核实|确认|相信)|凭(什么|啥)相信|"
        r"(怎么|哪来|哪里来|从哪).{0,2}(我的?)(电话|号码|手机)|谁给(你|你们)的?(我的?)?(电话|号码|手机)|骗子|诈骗|是不是骗|真的假的|是机器人吗",
    ],
    "repeat": [
        r"请?再(说|讲|念|读|来|重复)(一)?(遍|次|下)?|在(说|讲|念|读|来)一?(遍|次)|重说|重新说|重复|请再",
        r"信号(不好|差|不太好)|(没|没有)听(清|见|到|懂|明白)|听不(清|见|到|懂|明白|太)|不明白|不懂|没明白|没懂",
        r"(说|讲)(慢|大声)(一)?点|慢点说|大(点)?声(点)?|声音(太)?小",
        r"(你|您)(是)?说(的)?(是)?(什么|啥)|(你|您)是说|(你|您)的意思是|说(的)?(什么|啥)|什么意思|啥意思|^(啊|嗯|呃|额|哦|喂)*(什么|啥|喂)+(啊|呀|呢)?$|^(什么|啥)(码|颜色|结果|次数|地址|意思)(啊|呀)?$|(?<![道楚是])什么(几次|几回|颜色|码|结果|地址)",
    ],
}

# "^" / "$" in the patterns mean the start / end of what was said, give or take fillers and particles.
_START = "^(?:嗯|呃|额|那个|啊|哦|噢|就是)*"
_END = "(?:啊|呀|吧|呢|哦|嘛|啦|哈)*$"


def _anchored(pattern: str) -> str:
    return re.sub(r"(?<!\[)\^", lambda _: _START, pattern).replace("$", _END)


_COMPILED = {
    name: re.compile("|".join(f"(?:{_anchored(p)})" for p in pats)) for name, pats in _PATTERNS.items()
}


def find_intent(compact: str) -> tuple[str | None, list[tuple[int, int]]]:
    """(intent or None, spans of every intent phrase) in the compact text."""
    intent, _, spans = find_intents(compact)
    return intent, spans


def find_intents(compact: str) -> tuple[str | None, frozenset[str], list[tuple[int, int]]]:
    """(the intent by PRIORITY or None, every intent said, spans of every intent phrase)."""
    spans: list[tuple[int, int]] = []
    hits: set[str] = set()
    for name, pattern in _COMPILED.items():
        for m in pattern.finditer(compact):
            if m.end() > m.start():
                hits.add(name)
                spans.append(m.span())
    intent = next((name for name in PRIORITY if name in hits), None)
    return intent, frozenset(hits), spans

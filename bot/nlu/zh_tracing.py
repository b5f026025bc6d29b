"""Mandarin contact-tracing answers: who the person was with (`contacts`) and where they went (`places`).

contacts -> [{"name", "relation", "phone"}] in the order first mentioned. Mentions are found on the
text with spaces removed: relation words (老婆 -> spouse, 同事 -> colleague, …), names (a common
surname and one or two more characters where a name can stand; 老王/小李; 王阿姨/李师傅; whatever follows 叫/名字是),
and phone numbers said digit by digit or in groups (幺 = 1). A mention joins the contact before it
when nothing separates them ("我同事李明"), or across a pause when it refers back ("…，他叫林峰",
"…，是我朋友", "老婆电话…" for the 老婆 named earlier); a name after "同事李明和" shares its relation.
"一起上班/出差" makes a contact with no relation word a colleague. Nobody named -> [].

places -> [{"place", "when"}]: per clause, every time said (前天下午, 12月1号, 三天前, 下午三点左右 …, as said) and the
place after 去/到/在 up to what was done there ("在单位食堂吃的饭" -> 单位食堂); "菜市场和超市" are two
places at the same time. "哪都没去" / "一直在家" -> [].

Written by hand: no library parses spoken Chinese contact lists; the rules are small and tested
against tests/nlu/tracing/*.jsonl."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from bot.nlu.phones import ZH_DIGITS, e164

RELATIONS = {
    "spouse": "老婆 妻子 爱人 媳妇 老公 丈夫 太太 夫人",
    "partner": "男朋友 女朋友 男友 女友 对象",
    "parent": "父母 爸妈 爸爸 妈妈 老爸 老妈 父亲 母亲 爸 妈",
    "child": "儿子 女儿 孩子 闺女 小孩 儿女",
    "sibling": "哥哥 姐姐 弟弟 妹妹 兄弟 姐妹 哥 姐 弟 妹",
    "relative": ("爷爷 奶奶 外公 外婆 姥姥 姥爷 孙子 孙女 表哥 表姐 表弟 表妹 堂哥 堂姐 堂弟 堂妹 叔叔 阿姨 舅舅 姑姑 "
                 "婶婶 亲戚 岳父 岳母 公公 婆婆 侄子 侄女 外甥 家人 家里人"),
    "colleague": "同事 领导 老板 上司 下属 单位的 工友 同事们",
    "friend": "朋友 好友 哥们 闺蜜 发小",
    "classmate": "同学",
    "neighbour": "邻居",
    "roommate": "室友 舍友",
}
_RELATION_OF = {w: kind for kind, words in RELATIONS.items() for w in words.split()}
_SURNAMES = ("欧阳 司马 诸葛 上官 东方 王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋 唐 许 韩 冯 邓 "
             "曹 彭 曾 肖 田 董 袁 潘 于 蒋 蔡 余 杜 叶 程 苏 魏 吕 丁 任 沈 姚 卢 姜 崔 钟 谭 陆 汪 范 金 石 廖 贾 夏 韦 付 方 "
             "白 邹 孟 熊 秦 邱 江 尹 薛 闫 段 雷 侯 龙 史 陶 黎 贺 顾 毛 郝 龚 邵 万 钱 严 覃 武 戴 莫 孔 向 汤 常 温 康 施 "
             "牛 樊 葛 邢 安 齐 易 乔 伍 庞 颜 倪 庄 聂 章 鲁 岳 翟 殷 詹 申 欧 耿 关 兰 焦 俞 左 柳 甘 祝 包 宁 尚 符 舒 阮 "
             "柯 纪 梅 童 凌 毕 单 季 裴 霍 涂 成 苗 谷 盛 曲 翁 冉 骆 蓝 路 游 辛 靳 管 柴 蒙 鲍 华 喻 祁 蒲 房 滕 屈 饶 解 "
             "牟 艾 尤 阳 时 穆 农 司 卓 古 吉 缪 简 车 项 连 芦 麦 褚 娄 窦 戚 岑 景 党 宫 费 卜 冷 晏 席 卫 米 柏 宗 瞿 桂 "
             "全 佟 应 臧 闵 苟 邬 边 卞 姬 师 仇 栾 隋 商 刁 沙 荣 巫 寇 桑 郎 甄 丛 仲 虞 敖 巩 明 佘 池 查 麻 苑 迟 邝").split()
# Characters that end a name (function words, verbs and the like that follow one in an answer).
_NAME_STOP = set("一起吃是的电手号和跟还他她我你在去住同也们说叫家那这了过都就给到从打姓等呢吧啊呀嗯没有不对个人码上下里"
                 "先生女男把被请让要会能出来回喝坐开车饭班与及或、|，,。；;以另别其啥谁什")
# Words that begin with a surname character but are not names.
_NOT_NAMES = set("周末 周围 周一 周二 周三 周四 周五 周六 周日 周天 马上 于是 高兴 高铁 高速 黄码 江边 方便 白天 石头 毛病 钱包 "
                 "万一 向前 任何 曾经 时候 时间 明天 明白 全部 全家 全都 安全 连续 常常 简单 单位 宁愿 和平 关系 司机 车上 "
                 "路上 古代 齐全 包括 成都 华为 林子 龙头 景区 司机 宫殿 师傅 老师 商场 沙发 卫生 米饭".split())
_NAME_AFTER = re.compile(r"(?:叫|名字是|名字叫|姓名是)$")  # 他叫 X
_BACKREF = re.compile(r"(?:他|她)?(?:叫|是|就是|名字是|名字叫)$|(?:是|就是)(?:我|我的)$|^$")
_SEPARATORS = re.compile(r"还有|以及|和|跟|与|、|\||另外")
_WORK = re.compile(r"一起(?:上班|工作|出差|开会|值班)|上班的|同一个单位")
_STUDY = re.compile(r"一起(?:上学|上课)")
# "王阿姨", "李师傅": a surname and a form of address is one person's name, not a relative
_TITLED = re.compile(rf"(?:{'|'.join(_SURNAMES)})(?:阿姨|叔叔|大爷|大妈|大娘|大姐|大哥|师傅|老师|奶奶|爷爷)")
_PHONE = re.compile("[0-9零〇洞一幺二两三四五六七八九拐勾]{7,}")
_RELATION_RE = re.compile("|".join(sorted(map(re.escape, _RELATION_OF), key=len, reverse=True)))


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    text = re.sub(r"(?<=[0-9])[-–—.·](?=[0-9])", "", text)  # "139-09-312-233" as Whisper writes a number
    text = re.sub(r"[，,。.；;！!？?：:]+", "|", text)
    return re.sub(r"\s+", "", text)


def _names(body: str, taken: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    busy = [False] * (len(body) + 1)
    for a, b in taken:
        for i in range(a, b):
            busy[i] = True
    i = 0
    while i < len(body):
        if busy[i]:
            i += 1
            continue
        name = _name_at(body, i, busy)
        if name:
            found.append((i, i + len(name), name))
            i += len(name)
        else:
            i += 1
    return found


def _name_at(body: str, i: int, busy: list[bool]) -> str | None:
    before = body[:i]
    introduced = _NAME_AFTER.search(before)
    if body[i] in "老小" and i + 1 < len(body) and body[i + 1] in _SURNAMES and not busy[i + 1]:
        word = body[i : i + 2]
        return word if word not in _NOT_NAMES else None
    surname = next((s for s in _SURNAMES if body.startswith(s, i)), None)
    if surname is None and not introduced:
        return None
    start = i + len(surname or "")
    given = ""
    for c in body[start : start + 2]:
        if c in _NAME_STOP or not ("\u4e00" <= c <= "\u9fff") or busy[start + len(given)]:
            break
        given += c
    if not given:
        return None
    word = (surname or "") + given
    if word in _NOT_NAMES or word[:2] in _NOT_NAMES:
        return None
    # a name stands at the start of a clause, after a relation word, or after a word that introduces one
    if not (introduced or i == 0 or before[-1:] in "|、跟和与同及有是的" or _RELATION_RE.search(before[-3:])
            or before.endswith(("还有", "以及", "就是"))):
        return None
    return word


def parse_contacts(text: str) -> list[dict[str, Any]]:
    body = normalize(text)
    mentions: list[tuple[int, int, str, str]] = []  # (start, end, kind, value)
    for m in _PHONE.finditer(body):
        digits = "".join(ZH_DIGITS.get(c, c) for c in m.group())
        mentions.append((m.start(), m.end(), "phone", e164(digits, "CN") or ""))
    taken = [(a, b) for a, b, _, _ in mentions]
    for m in _TITLED.finditer(body):
        if not any(a <= m.start() < b for a, b in taken):
            mentions.append((m.start(), m.end(), "name", m.group()))
    taken = [(a, b) for a, b, _, _ in mentions]
    for m in _RELATION_RE.finditer(body):
        if not any(a <= m.start() < b for a, b in taken):
            mentions.append((m.start(), m.end(), "relation", m.group()))
    taken += [(a, b) for a, b, k, _ in mentions if k == "relation"]
    mentions += [(a, b, "name", n) for a, b, n in _names(body, taken)]
    mentions.sort()
    contacts: list[dict[str, Any]] = []
    words: list[dict[str, str]] = []  # per contact: the relation word said, to find "老婆" again
    current: int | None = None
    last_end = 0
    shared_relation: str | None = None
    for start, end, kind, value in mentions:
        gap = body[last_end:start]
        joined = current is not None and not _SEPARATORS.search(gap) and "|" not in gap
        refers = current is not None and bool(_BACKREF.search(gap))
        if kind == "phone":
            target = current if current is not None else None
            if target is None or contacts[target]["phone"]:
                contacts.append({"name": None, "relation": None, "phone": None})
                words.append({})
                target = len(contacts) - 1
            contacts[target]["phone"] = value or None
            current = target
        elif kind == "relation":
            again = next((n for n, w in enumerate(words) if w.get("relation") == value), None)
            if again is not None:
                current = again
            elif current is not None and contacts[current]["relation"] is None and (joined or refers):
                contacts[current]["relation"] = _RELATION_OF[value]
                words[current]["relation"] = value
            else:
                contacts.append({"name": None, "relation": _RELATION_OF[value], "phone": None})
                words.append({"relation": value, "order": "relation"})
                current = len(contacts) - 1
            shared_relation = None
        else:  # a name
            again = next((n for n, c in enumerate(contacts) if c["name"] == value), None)
            if again is not None:
                current = again
            elif current is not None and contacts[current]["name"] is None and (joined or refers):
                contacts[current]["name"] = value
                if words[current].get("order") == "relation":
                    shared_relation = contacts[current]["relation"]  # "同事李明和王芳": both colleagues
            else:
                contacts.append({"name": value, "relation": shared_relation if _SEPARATORS.search(gap) else None,
                                 "phone": None})
                words.append({})
                current = len(contacts) - 1
        last_end = end
    if contacts and all(c["relation"] is None for c in contacts):
        kind = "colleague" if _WORK.search(body) else "classmate" if _STUDY.search(body) else None
        for c in contacts:
            c["relation"] = kind
    return contacts


# ---------------------------------------------------------------- places
_NUM = "[0-9一二两三四五六七八九十]+"
_DAY = (rf"大前天|前天|昨天|今天|今早|昨晚|前几天|这几天|{_NUM}天前|上个?(?:星期|礼拜|周)[一二三四五六日天]|"
        rf"这个?(?:星期|礼拜|周)[一二三四五六日天]|(?:星期|礼拜|周)[一二三四五六日天]|上?周末|上周|上个?星期|"
        rf"{_NUM}月{_NUM}(?:号|日)|{_NUM}(?:号|日)")
_PART = "早上|上午|中午|下午|傍晚|晚上|凌晨|夜里|早晨|半夜"
_HOUR = rf"(?:大概|大约)?{_NUM}点(?:半|多|钟)?(?:左右)?"
_WHEN = re.compile(rf"(?:(?:{_DAY})|(?:{_PART})|(?:{_HOUR}))+")
_GO = re.compile(r"(?:去了|去过|到了|到过|逛了|去|到|在)(?:了)?(?:一趟|趟|一下)?")
_PLACE_END = re.compile(r"做|吃|买|拿|上班|上课|接|看|办|玩|坐|取|存|待|呆|的时候|然后|还有|又|再|之后|以后|了|过|\|")
_NOWHERE = re.compile(r"哪(?:儿|里)?(?:都|也)?没(?:有)?去|没(?:有)?(?:出门|出去|去哪|外出)|一直(?:在|呆在|待在)家|在家(?:待|呆)着|没(?:有)?去(?:哪|别的地方)")
_CLAUSE = re.compile(r"\||然后|之后|又|再")


def parse_places(text: str) -> list[dict[str, Any]]:
    body = normalize(text)
    if _NOWHERE.search(body):
        return []
    out: list[dict[str, Any]] = []
    for clause in _CLAUSE.split(body):
        times = list(_WHEN.finditer(clause))  # "上周六去过西站万达，下午三点左右": every time said
        when = "".join(m.group() for m in times) or None
        rest = re.sub(_WHEN, "|", clause) if times else clause
        for go in _GO.finditer(rest):
            tail = rest[go.end():]
            end = _PLACE_END.search(tail)
            place = tail[: end.start()] if end else tail
            if len(place) < 2 or place in ("家", "家里", "哪", "哪里", "哪儿"):
                continue
            for one in re.split(r"(?<=..)(?:和(?!平)|跟|还有|、)(?=..)", place):
                out.append({"place": one, "when": when})
            break
    return out

"""Caller intents in English recognizer output (normalized by bot.nlu.en: lower case, contractions
rejoined). The first intent in PRIORITY wins when several are said (a request not to be called
again first: said with "wrong number" it is the wrong number's request, `find_intent` tells both),
as in bot.nlu.zh_intents."""

from __future__ import annotations

import re

PRIORITY = ("do_not_call", "wrong_number", "human", "refuse", "who", "repeat")

PATTERNS: dict[str, str] = {
    "wrong_number": (
        r"wrong (number|person|guy|girl|man|woman|lady|phone)|"
        r"\b(he|she|they)('s|'re| is| are) not (here|home|around|available|in)\b|"
        r"\b(he|she|they) (isn'?t|aren'?t|is not|are not) (here|home|around|available|in)\b|"
        r"no (one|body) (here )?(by|with|named|called) th|no (one|body) (here )?(has|with|goes by|answers to) (that|this|the) name|nobody (here )?(by|with|named|called) th|no such person|"
        r"(do ?n[o']?t|does ?n[o']?t|doesnt|dont) (live|stay|work) here|"
        r"(you have|you've got|you got|you dialed|you called) the wrong|"
        r"i'?m not (him|her|he|she)\b|i am not (him|her|he|she)\b|never heard of|"
        r"(do ?n[o']?t|dont) know (him|her|anyone|anybody|who|that person|this person)|"
        r"there'?s no (one|body|\w+) (here )?(by|with|named|called)|"
        r"(new|just got this|my new) number|(this|it) is ?n[o']?t (his|her|their) (number|phone)|"
        r"not (his|her) (number|phone)|(number|phone) (doesn'?t|does not|no longer) belongs? to|"
        r"no longer (his|her) (number|phone)|(he|she|they) moved (out|away)"
    ),
    "do_not_call": (  # "don't call this number again": the number goes on the do-not-call list
        r"(stop|quit|cease) (calling|ringing|phoning)|(do ?n[o']?t|dont|do not|never) (ever )?call (me|this number|here)( ever)?( again| anymore| any more)?\b(?! (back|later|tomorrow))|"
        r"(take|remove|delete) (me|my number|this number) (off|from)|(remove|delete|erase) (my|this) (number|phone number)|put me on (the|your|a) do.?not.?call|do.?not.?call list|"
        r"(don'?t|do not) (ring|phone|contact) me (again|anymore|any more)|lose my number|"
        r"(do ?n[o']?t|dont|do not|never) call (again|anymore|any more)\b|(if you|you) call (me |here )?again,? (and )?i'?(ll| will) (report|sue|complain)"
    ),
    "human": (
        r"\b(human|operator|agent|representative|supervisor|manager|receptionist|dispatcher)s?\b|"
        r"(real|live|actual|another) (person|human|one|people)|\b(a|some|to an?) (person|someone|somebody)\b|"
        r"(talk|speak) (to|with) (someone|somebody|a person|people)|transfer me|put me through|customer service|"
        r"not (talk|speak)(ing)? to a (machine|robot|bot|computer)"
    ),
    "refuse": (
        r"(do ?n[o']?t|dont|do not) (want|wanna|need|have) to (answer|say|tell|talk|share|discuss|respond|give)|"
        r"(not|never) (going to|gonna) (answer|tell|say|share)|(won'?t|will not|wont) (answer|tell|say|share)|"
        r"none of your (business|concern)|mind your own|(i'?d|i would) rather not|rather not (say|answer)|"
        r"no comment|leave me alone|(i'?d|i would)? ?prefer not( to)?|stop (bothering|asking)|do ?n[o']?t (bother|ask) me|"
        r"\brefuse\b|^skip|skip (it|this|that)|pass on (it|this|that)|i'?ll pass|next question|keep (it|that) to myself|not comfortable (sharing|saying|telling|answering|giving)|uncomfortable|confidential|(that'?s|that is|it'?s|it is) (private|personal|my business)|not telling|"
        r"why should i (tell|answer|say)|not your business|\bgo away\b|get lost|not interested|"
        r"\bdecline\b|^(not now|not right now)\b|(don'?t|do not) have (the )?time|call (me )?(back )?(later|another time|tomorrow)|not a good time|bad time|(can'?t|cannot|can not) (talk|answer) (right )?now|i'?m busy|^no time|i (have|got) no time (for|to talk)|hang(ing)? up|"
        r"(do ?n[o']?t|dont) want to (do this|talk)|(do ?n[o']?t|dont|do not) wanna (answer|say|tell|talk|share)|(do ?n[o']?t|do not) feel like (answering|talking|saying|telling)|(not|never) (answering|telling)|call (me )?back later|"
        r"(do ?n[o']?t|do not|won'?t|will not|not) (give|giving|tell|telling|share|sharing) (out )?(you )?(my|that|this|it|any)\b|"
        r"(not|never) (giving|sharing) (you|that|it|out)"
    ),
    "who": (
        r"who (is|'s|are|was|the hell is) (this|that|it|you|calling|speaking)|who'?s (this|that|calling|speaking)|"
        r"who are you|why (are|do|did|would) you (calling|call|ringing|ring|want)|what('?s| is) (this|it|the call) "
        r"(about|regarding|for)|what do you want|where (are|is) (you|this|it) (calling )?from|"
        r"(what|which) (company|organization|organisation|agency|department|office|outfit)|"
        r"is this a (scam|robot|bot|machine|recording|computer)|prove (it|that|who)|verify (this|that|you|who|it)|legit|legitimate|spam|telemarket|robocall|fraud|phishing|how'?d you get|how (do|does) you (have|know) (my|this)|are you a (scam|robot|bot|machine|real)|scam|how did you get (my|this) number|"
        r"who gave you|who do you (work|represent)|who sent you|what('?s| is) this call|identify yourself|"
        r"who am i (talking|speaking) (to|with)|why do you need to know|who wants to know|who'?s asking|who is asking|"
        r"why (do|would|does) (you|anyone|the government) (need|want) (that|this|it|to know|my)|"
        r"why (are you|you) asking|what (do|would) you need (it|that|this) for|"
        r"(is this|are you|you're) (from )?(the )?(police|government|cdc|health (department|office|bureau)|hospital|clinic|"
        r"real|legit|genuine|official)|how (do|can|would) i know (you'?re|you are|this is)"
    ),
    "repeat": (
        r"say (that|it|this) again|\brepeat\b|pardon|come again|what did you (say|just say)|"
        r"(did ?n[o']?t|didnt|did not) (catch|hear|get (that|it|what|you)\b|understand|quite catch)|(can'?t|cannot|could ?n[o']?t|couldnt) "
        r"(hear|understand)|one more time|again please|say again|speak up|slow down|excuse me|"
        r"^(?!uh huh$)(?:(?:uh|um|er|oh) )*(?:sorry|what|huh|hello|eh|what was that|what's that|you what|say what)"
        r"(?: (?:what|sorry|again|please|was that|is that|was it|hello|uh|um|pardon))*$|"
        r"louder|i beg your pardon|what was the question|breaking up|cutting out|bad (line|connection|signal)|"
        r"(line|connection|signal) is (bad|poor|terrible)|"
        r"^(?:(?:uh|um|sorry) )*(?:what|which|how many) (?:what|colou?r|code|result|number|address|tests?|times?)\??$|"
        r"^(?:(?:uh|um|sorry) )*how many$|what'?s (a|an|the) (health code|nucleic|pcr|covid test|notice)|what do you mean by|"
        r"(do ?n[o']?t|dont) understand|what do you mean"
    ),
}
_COMPILED = {name: re.compile(pattern) for name, pattern in PATTERNS.items()}


def find_intent(body: str) -> tuple[str | None, frozenset[str], str]:
    """(the first intent in priority order, every intent said, the text with their phrases blanked).
    A request not to be called first: said with "wrong number" it is the wrong number's request."""
    found, hits = None, set()
    rest = body
    for name in PRIORITY:
        pattern = _COMPILED[name]
        if pattern.search(rest):
            found = found or name
            hits.add(name)
            rest = pattern.sub(" | ", rest)
    return found, frozenset(hits), rest

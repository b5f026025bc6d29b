"""What the console shows for the words the database stores: statuses, outcomes, reasons,
slot names and values, step names, transcript tokens. Each label is an English msgid
translated by the request's catalog; a slot value first takes the label the dialog script
carries (`labels:`) when the script is in the reader's language."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def N_(msgid: str) -> str:
    return msgid


Gettext = Callable[[str], str]

WORDS: dict[str, str] = {
    # campaign status
    "draft": N_("Draft"), "running": N_("Running"), "paused": N_("Paused"), "cancelled": N_("Cancelled"),
    "done": N_("Done"),
    # person state
    "pending": N_("Waiting to be called"), "in_progress": N_("Call in progress"), "completed": N_("Completed"),
    "escalated": N_("Escalated to an operator"), "wrong_number": N_("Wrong number"), "failed": N_("Failed"),
    "do_not_call": N_("Do not call"), "deleted": N_("Deleted"),
    # escalation status
    "open": N_("Open"), "claimed": N_("Claimed"), "resolved": N_("Resolved"),
    "returned_to_bot": N_("Handed back to the bot"),
    # escalation reasons
    "uncooperative": N_("Uncooperative"), "requested_human": N_("Asked for a person"),
    "unresolved": N_("Answers not understood"),
    "storage_fault": N_("Call cut short by a storage failure: call back"),
    # network outcomes and call outcomes
    "answered": N_("Answered"), "busy": N_("Busy"), "no_answer": N_("No answer"), "bad_number": N_("Invalid number"),
    "declined": N_("Declined"), "congestion": N_("Network congestion"), "machine": N_("Answering machine"),
    "resolved_by_operator": N_("Resolved by an operator"), "unknown": N_("Unknown"),
    "interrupted": N_("Interrupted"), "hung_up": N_("Hung up"),
    # attempt states (live view, latest calls)
    "dialling": N_("Ringing"), "in_call": N_("In the call"), "ended": N_("Ended"),
    # roles
    "admin": N_("Administrator"), "operator": N_("Operator"), "viewer": N_("Viewer"),
    # speakers
    "bot": N_("Bot"), "caller": N_("Caller"),
    # kinds of record in the audit trail
    "campaign": N_("Campaign"), "escalation": N_("Case"), "user": N_("User"), "turn": N_("Recording"),
    "dialog_version": N_("Dialog version"), "page": N_("Page"), "person": N_("Person"),
    # why a number is on the do-not-call list
    "manual": N_("Added by staff"), "resident": N_("The resident asked"),
}

SLOT_NAMES: dict[str, str] = {
    "identity": N_("Is the person"), "residence": N_("Current address"), "health_code": N_("Health code"),
    "isolation": N_("In isolation"), "nat_count": N_("NAT tests (7 days)"),
    "nat_result": N_("Latest NAT result"), "notice_ack": N_("Notice acknowledged"),
}

VALUES: dict[str, str] = {
    "yes": N_("Yes"), "no": N_("No"), "green": N_("Green"), "yellow": N_("Yellow"), "red": N_("Red"),
    "negative": N_("Negative"), "positive": N_("Positive"), "pending": N_("Result pending"),
}

STEP_NAMES: dict[str, str] = {
    "greeting": N_("Greeting"), "goodbye": N_("Goodbye"), "not_the_person": N_("Not the person"),
    "notice": N_("Prevention notice"),
}


AUDIT_ACTIONS: dict[str, str] = {
    "login": N_("Logged in"), "logout": N_("Logged out"), "login.failed": N_("Failed login"),
    "login.throttled": N_("Login blocked (too many failures)"), "setup.admin_created": N_("First administrator created"),
    "user.add": N_("User added"), "user.disable": N_("User disabled"), "user.enable": N_("User enabled"),
    "denied": N_("Access denied"), "denied.case": N_("Case held by another operator: access denied"),
    "case.view": N_("Case opened"), "case.claim": N_("Case claimed"), "case.close": N_("Case closed"),
    "case.return_to_bot": N_("Case handed back to the bot"), "case.release": N_("Case released"),
    "case.release_refused": N_("Release refused"), "case.audio_playback": N_("Recording played"),
    "campaign.create": N_("Campaign created"), "campaign.settings": N_("Settings changed"), "campaign.start": N_("Campaign started"),
    "campaign.pause": N_("Campaign paused"), "campaign.resume": N_("Campaign resumed"),
    "campaign.cancel": N_("Campaign cancelled"), "campaign.reopened": N_("Campaign reopened"),
    "campaign.results_view": N_("Results viewed"), "campaign.export": N_("Results exported"),
    "results.export": N_("Results exported"), "people.import": N_("People list imported"),
    "people.import_rejected": N_("People list rejected"), "dialog.publish": N_("Dialog published"),
    "dialog.activate": N_("Dialog version activated"), "purge": N_("Data purged"),
    "dnc.add": N_("Number put on the do-not-call list"), "dnc.remove": N_("Number taken off the do-not-call list"),
    "dnc.suppress": N_("Number rested after a wrong number"), "campaign.test_call": N_("Test call placed"),
}


def audit_action(action: str, _: Gettext) -> str:
    """An audit row's action as the reader's language says it (refusals by prefix)."""
    if action in AUDIT_ACTIONS:
        return _(AUDIT_ACTIONS[action])
    if action.startswith("case.claim_refused"):
        return _("Claim refused")
    return action


_DETAIL_RX = re.compile(r"^(\d+) no-input, (\d+) no-match$|^refused (\d+) times$")


def escalation_detail(detail: str, _: Gettext) -> str:
    """Why the bot handed over, in the reader's language (the engine writes it in English)."""
    if "callback promised" in detail:
        return _("The resident asked for a person; the bot promised a call back.")
    if detail == "caller asked for a person":
        return _("The resident asked for a person.")
    m = _DETAIL_RX.match(detail or "")
    if m and m.group(1) is not None:
        return _("No answer %(silent)s times, not understood %(unclear)s times.") % {
            "silent": m.group(1), "unclear": m.group(2)}
    if m:
        return _("Refused %(n)s times.") % {"n": m.group(3)}
    return detail


def word(value: Any, _: Gettext) -> str:
    """A stored status/outcome/reason word as the reader's language shows it."""
    if value in (None, ""):
        return ""
    text = str(value)
    return _(WORDS[text]) if text in WORDS else text


@dataclass(frozen=True)
class ScriptLabels:
    """Labels one dialog script carries: per slot its value labels, per step its slot and prompt."""

    locale: str = ""
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # slot -> value -> label
    step_slot: dict[str, str] = field(default_factory=dict)  # step id -> slot it fills
    prompts: dict[str, str] = field(default_factory=dict)  # slot -> the question asked

    @classmethod
    def of(cls, script: Any) -> ScriptLabels:
        values: dict[str, dict[str, str]] = {}
        step_slot: dict[str, str] = {}
        prompts: dict[str, str] = {}
        for step in script.steps.values():
            if step.slot:
                step_slot[step.id] = step.slot
                values.setdefault(step.slot, {}).update(dict(step.labels))
                if step.prompt:
                    prompts.setdefault(step.slot, step.prompt)
        return cls(script.locale, values, step_slot, prompts)


@dataclass(frozen=True)
class Labeller:
    """Everything a page needs to show slots, values, steps and turns in the reader's language."""

    _: Gettext
    locale: str
    script: ScriptLabels = field(default_factory=ScriptLabels)

    @property
    def _script_speaks_mine(self) -> bool:
        return self.script.locale.split("-")[0] == self.locale.split("-")[0]

    def slot(self, slot: str) -> str:
        if slot in SLOT_NAMES:
            return self._(SLOT_NAMES[slot])
        return self.script.prompts.get(slot, slot) if self._script_speaks_mine else slot

    def value(self, slot: str, value: Any) -> str:
        if value in (None, "", {}):
            return ""
        if isinstance(value, dict):  # an address: the parsed parts, else as heard
            parts = [str(value[k]) for k in ("province", "city", "district", "street", "detail") if value.get(k)]
            return "".join(parts) or str(value.get("raw") or "")
        if isinstance(value, bool):
            value = "yes" if value else "no"
        text = str(value)
        if self._script_speaks_mine and text in self.script.values.get(slot, {}):
            return self.script.values[slot][text]
        if slot == "nat_count" and text.isdigit():
            return self._("%(n)s times") % {"n": text}
        return self._(VALUES[text]) if text in VALUES else text

    def step(self, step: str | None) -> str:
        if not step:
            return ""
        if step in STEP_NAMES:
            return self._(STEP_NAMES[step])
        slot = self.script.step_slot.get(step, step)
        return self.slot(slot) if slot in SLOT_NAMES or slot in self.script.prompts else step

    def turn_text(self, turn: Any) -> str:
        """What was said; a key press as "按键 1", silence as "（无应答）"."""
        text = turn.text or ""
        if turn.kind == "dtmf" or text.startswith("dtmf:"):
            return self._("Key %(digit)s") % {"digit": text.removeprefix("dtmf:")}
        if turn.kind == "silence" or text == "<silence>":
            return self._("(no answer)")
        if text == "<hangup>":
            return self._("(hung up)")
        return text

    def parse(self, turn: Any) -> list[tuple[str, str]]:
        """A caller turn's understanding as (label, value) pairs, never raw JSON."""
        parse = turn.parse or {}
        slot = self.script.step_slot.get(turn.step or "", turn.step or "")
        out: list[tuple[str, str]] = []
        if parse.get("value") not in (None, "", {}):
            out.append((self._("Understood"), self.value(slot, parse["value"])))
        if parse.get("intent"):
            out.append((self._("Intent"), self._(INTENTS.get(parse["intent"], parse["intent"]))))
        for key, value in parse.items():
            if key not in ("value", "intent") and value not in (None, "", {}, []):
                out.append((key, str(value)))
        if not out:
            out.append((self._("Understood"), self._("nothing")))
        return out


# fixed messages of a rejected upload (bot.campaigns.people.list_import), shown translated when they match
UPLOAD_MESSAGES = (
    N_("phone is empty"), N_("phone is not a telephone number"), N_("phone is not a valid number"),
    N_("name is empty"), N_("priority must be 1 (most urgent) to 9"), N_("file: empty"),
)

# fixed messages of a refused account (bot.console.auth), likewise
ACCOUNT_MESSAGES = (
    N_("username: 2-64 letters (Chinese or a-z), digits, '.', '_', '-' or '·'"), N_("password: at least 10 characters"),
    N_("password: at most 1024 characters"), N_("set-up is already done: an account exists"), N_("no such user"),
)

# a refused test call (bot.campaigns.dialing.trial_call), likewise
TEST_CALL_MESSAGES = (
    N_("A SIP address such as sip:test@127.0.0.1:5070 (at most 32 characters)."),
    N_("Type a telephone number or a SIP address such as sip:test@127.0.0.1:5070."),
    N_("That number is in a call already."),
)

INTENTS: dict[str, str] = {
    "who": N_("asked who is calling"), "repeat": N_("asked to repeat"), "refuse": N_("refused"),
    "human": N_("asked for a person"), "wrong_number": N_("said wrong number"),
}

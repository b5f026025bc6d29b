"""What the console shows for the words the database stores: statuses, outcomes, reasons,
slot names and values, step names, transcript tokens. Each label is an English msgid
translated by the request's catalog; a slot value first takes the label the dialog script
carries (`labels:`) when the script is in the reader's language."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.console.slots import RELATIONS, Field, fields_of
from bot.privacy import mask_phone


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
    "queue": N_("Queue"), "attempt": N_("Call"), "agency": N_("Agency"),
    # why a number is on the do-not-call list
    "manual": N_("Added by staff"), "resident": N_("The resident asked"), "import": N_("Marked in the imported list"),
    # how a call ended on our side (Attempt.detail / end reason)
    "local_hangup": N_("We hung up"), "remote_bye": N_("The resident hung up"), "remote_hangup": N_("The resident hung up"),
    "media_timeout": N_("No sound from the line"), "max_length": N_("Call too long: ended"),
    "transferred": N_("Transferred to an operator"),
    "powered_off": N_("Phone switched off"), "invalid_number": N_("Number not in service"),
    "unreachable": N_("Unreachable"),
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
    "worker.holding": N_("Worker holding new calls back (no headroom)"), "worker.resumed": N_("Worker taking new calls again"),
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
    "campaign.view": N_("Campaign opened"), "campaign.live_view": N_("Live calls watched"),
    "queue.view": N_("Queue opened"), "queue.stream": N_("Queue followed live"), "user.unlock": N_("User unlocked"),
    "recording.save": N_("Prompt recording saved"), "recording.remove": N_("Prompt recording removed"),
    "campaign.followup_created": N_("Follow-up campaign created"), "webhook.resend": N_("Deliveries sent again"),
    "campaign.done": N_("Campaign finished"), "campaign.paused": N_("Campaign paused"),
    "agency.settings": N_("Agency number and badge changed"), "call.view": N_("Call transcript opened"),
}

ACTORS: dict[str, str] = {
    "anonymous": N_("Anonymous"), "cli": N_("Command line"), "bot": N_("Bot"), "console": N_("Console"),
    "dialer": N_("Dialer"), "system": N_("System"),
}

# what the audit trail's details say, by the words the code writes
DETAIL_PHRASES: dict[str, str] = {
    "bad credentials": N_("Wrong password"), "too many failures": N_("Too many failed logins"),
    "held by another operator": N_("Held by another operator"), "not held by this user": N_("Not held by this user"),
    "a case was handed back to the bot": N_("A case was handed back to the bot"),
    "inbound callback": N_("Call back from a resident"), "inbound call failed": N_("Incoming call failed"),
    "answering machine": N_("Answering machine"), "carrier announcement": N_("Network announcement"),
    "interrupted: dialer stopping": N_("Interrupted: the dialer stopped"), "media stream": N_("Media stream"),
    "wrong number": N_("Wrong number"), "resident asked not to be called again": N_("The resident asked not to be called again"),
}
DETAIL_KEYS: dict[str, str] = {
    "rows": N_("rows"), "attempts": N_("calls"), "calls": N_("calls"), "errors": N_("errors"), "format": N_("format"),
    "role": N_("role"), "layout": N_("layout"), "added": N_("added"), "updated": N_("updated"), "merged": N_("merged"),
    "state": N_("state"), "health_code": N_("health code"), "offset": N_("from row"), "search": N_("searched"),
    "people": N_("people"), "test_campaign": N_("test campaign"), "attempt": N_("call"), "changed": N_("changed"),
    "slots corrected": N_("answers corrected"), "had failures": N_("failed logins before"),
}
SETTINGS_FIELDS: dict[str, str] = {
    "window_start": N_("Calls from"), "window_end": N_("Calls until"), "timezone": N_("Time zone"),
    "concurrency": N_("Lines"), "retry_policy": N_("Retries"), "priority": N_("Priority (1 first)"),
}
_PAIR = re.compile(r"([a-z_ ]+?)(?:=|: )([^ =]*)")


def actor(name: str, _: Gettext) -> str:
    """Who did it: a user's name, or the system part that did it in words."""
    return _(ACTORS[name]) if name in ACTORS else name


def audit_detail(detail: str, _: Gettext) -> str:
    """An audit row's detail in the reader's language: known phrases, `key=value` as "行数 0"."""
    detail = (detail or "").strip()
    if not detail:
        return ""
    if detail in DETAIL_PHRASES:
        return _(DETAIL_PHRASES[detail])
    pairs = _PAIR.findall(detail)
    if not pairs or any(k.strip() not in DETAIL_KEYS for k, _v in pairs):
        return detail
    out = []
    for key, value in pairs:
        if key.strip() == "changed":
            value = "、".join(_(SETTINGS_FIELDS.get(v, v)) for v in value.split(",") if v)
        if key.strip() == "health_code" and value:
            value = _(VALUES.get(value, value))
        shown = {"True": _("yes"), "False": _("no"), "": "—"}.get(value, word(value, _) if value in WORDS else value)
        out.append(f"{_(DETAIL_KEYS[key.strip()])} {shown}")
    return "，".join(out)


def dnc_reason(kind: str, reason: str, _: Gettext) -> str:
    """One 原因 for a do-not-call row: why it is there, and the words given when they add something."""
    said = _(DETAIL_PHRASES[reason]) if reason in DETAIL_PHRASES else reason
    why = word(kind, _)
    return f"{why} · {said}" if said and said != why else why


# the lines of `veribot campaigns status` (its --json keys stay as they are)
STATUS_LINES: dict[str, str] = {
    "campaign": N_("Campaign"), "status": N_("Status"), "people": N_("People"), "pending": N_("Waiting to be called"),
    "in_progress": N_("Call in progress"), "in_call": N_("Lines in use"), "completed": N_("Completed"),
    "escalated": N_("Escalated to an operator"), "failed": N_("Failed"), "wrong_number": N_("Wrong number"),
    "do_not_call": N_("Do not call"), "deleted": N_("Deleted"), "attempts": N_("Calls placed"),
    "window": N_("Calling window"), "concurrency": N_("Lines"), "why": N_("Why"), "next_call": N_("Next call"),
    "held_back": N_("Held back"),
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
    fields: tuple[Field, ...] = ()  # the slots the script asks, in its order, with their titles

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
        return cls(script.locale, values, step_slot, prompts, fields_of(script))


@dataclass(frozen=True)
class Labeller:
    """Everything a page needs to show slots, values, steps and turns in the reader's language."""

    _: Gettext
    locale: str
    script: ScriptLabels = field(default_factory=ScriptLabels)
    mask_phones: bool = False  # lists (the results table) mask contacts' phones as the person's; a case shows them

    @property
    def _script_speaks_mine(self) -> bool:
        return self.script.locale.split("-")[0] == self.locale.split("-")[0]

    @property
    def fields(self) -> tuple[Field, ...]:
        return self.script.fields

    def slot(self, slot: str) -> str:
        """A slot's name as its script titles it (the question when it has no title)."""
        title = next((f.title for f in self.script.fields if f.slot == slot), None)
        return title or (self.script.prompts.get(slot, slot) if self._script_speaks_mine else slot)

    def value(self, slot: str, value: Any) -> str:
        if value in (None, "", {}):
            return ""
        if isinstance(value, dict):  # an address: the parsed parts, else as heard
            parts = [str(value[k]) for k in ("province", "city", "district", "street", "detail") if value.get(k)]
            return "".join(parts) or str(value.get("raw") or "")
        if isinstance(value, list):  # contacts / places
            return self._list(value)
        if isinstance(value, bool):
            value = "yes" if value else "no"
        text = str(value)
        if self._script_speaks_mine and text in self.script.values.get(slot, {}):
            return self.script.values[slot][text]
        expect = next((f.expect for f in self.script.fields if f.slot == slot), None)
        if (expect == "count" or slot == "nat_count") and text.isdigit():
            return self._("%(n)s times") % {"n": text}
        return self._(VALUES[text]) if text in VALUES else text

    def _list(self, items: list[Any]) -> str:
        if not items:
            return self._("none")
        out = []
        for item in items:
            if not isinstance(item, dict):
                out.append(str(item))
            elif "place" in item or "when" in item:
                out.append(" ".join(str(item[k]) for k in ("when", "place") if item.get(k)))
            else:
                rel = item.get("relation")
                rel = self._(RELATIONS[rel]) if rel in RELATIONS else rel
                phone = str(item.get("phone") or "")
                phone = mask_phone(phone) if phone and self.mask_phones else phone
                out.append((item.get("name") or self._("(name not given)")) + (f"（{rel}）" if rel else "")
                           + (f" {phone}" if phone else ""))
        return "；".join(out)

    def step(self, step: str | None) -> str:
        if not step:
            return ""
        if step in STEP_NAMES:
            return self._(STEP_NAMES[step])
        slot = self.script.step_slot.get(step, step)
        return self.slot(slot) if slot in self.script.prompts else step

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

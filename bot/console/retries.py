"""The campaign page's retry and priority fields: per outcome, how many attempts in all and the
waits between them (in minutes on the page, seconds in `Campaign.retry_policy`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.campaigns.dialing.policy import PolicyError, RetryPolicy
from bot.console.labels import N_
from storage.models import Campaign

# outcomes an admin tunes, in the order the page lists them (the others keep their defaults)
OUTCOMES: dict[str, str] = {
    "no_answer": N_("No answer"), "busy": N_("Busy"), "congestion": N_("Network busy"),
    "declined": N_("Declined"), "machine": N_("Answering machine"), "hung_up": N_("Hung up mid-call"),
    "failed": N_("Call failed"),
    # carrier announcements (early media or after answer): their own defaults in dialing/policy.py
    "powered_off": N_("Phone switched off"), "invalid_number": N_("Number not in service"),
    "unreachable": N_("Unreachable"),
}


class RetryFormError(ValueError):
    """An English msgid with %(outcome)s."""


@dataclass(frozen=True)
class Row:
    outcome: str
    label: str  # msgid
    max_attempts: int
    delays: str  # minutes, "30, 120, 240"


def rows(camp: Campaign) -> list[Row]:
    rules = RetryPolicy.from_json(camp.retry_policy).rules
    return [Row(o, label, int(rules[o]["max_attempts"]), ", ".join(_minutes(d) for d in rules[o]["delays"]))
            for o, label in OUTCOMES.items()]


def _minutes(seconds: float) -> str:
    m = seconds / 60
    return str(int(m)) if m == int(m) else f"{m:.1f}"


def parse(form: dict[str, str], camp: Campaign) -> tuple[dict[str, Any] | None, int | None]:
    """(new retry_policy or None when the form has no retry fields, new priority or None)."""
    priority = None
    if "priority" in form:
        p = form["priority"].strip()
        if not p.isdigit() or not 1 <= int(p) <= 9:
            raise RetryFormError(N_("Priority: a whole number from 1 (first) to 9."))
        priority = int(p)
    if not any(f"retry_{o}_max" in form for o in OUTCOMES):
        return None, priority
    policy = dict(camp.retry_policy or {})
    for outcome in OUTCOMES:
        if f"retry_{outcome}_max" not in form and f"retry_{outcome}_delays" not in form:
            continue  # a page rendered before this outcome was listed: its rule stays as it is
        most, waits = form.get(f"retry_{outcome}_max", "").strip(), form.get(f"retry_{outcome}_delays", "")
        if not most.isdigit() or not 1 <= int(most) <= 20:
            raise RetryFormError(N_("Attempts: a whole number from 1 to 20 (%(outcome)s)."), outcome)
        parts = [x for x in re.split(r"[,，、\s]+", waits.strip()) if x]
        try:
            minutes = [float(x) for x in parts]
        except ValueError:
            raise RetryFormError(N_("Waits: minutes separated by commas, e.g. 30, 120 (%(outcome)s)."),
                                 outcome) from None
        if any(m < 0 or m > 10080 for m in minutes):  # a week at most
            raise RetryFormError(N_("Waits: minutes separated by commas, e.g. 30, 120 (%(outcome)s)."), outcome)
        policy[outcome] = {"max_attempts": int(most), "delays": [round(m * 60) for m in minutes]}
    try:
        RetryPolicy.from_json(policy)
    except PolicyError:
        raise RetryFormError(N_("Waits: minutes separated by commas, e.g. 30, 120 (%(outcome)s)."), "") from None
    return policy, priority

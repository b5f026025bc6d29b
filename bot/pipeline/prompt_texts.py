"""Every prompt text a script can say to one person: what the pipeline pre-renders before a
call and what `veribot prompts render` writes out. Confirmation prompts (`{value}`) are
expanded for each labelled value of their step; a template naming a variable nobody gave
is left out (the player renders it when the call says it).

Erasure: a sentence naming a person (their name, address, call code, an answer heard) is
*personal*: spoken from the call's own memory and never put in the shared prompt cache
(issue 24 item 3). `public_texts` are the rest: what the script says with the agency's
variables alone, the same for everybody."""

from __future__ import annotations

import functools
from typing import Any

from bot.dialog.script import render


def prompt_texts(script: Any, variables: dict[str, Any] | None = None,
                 area: tuple[str | None, str | None] | None = None) -> list[tuple[str, str]]:
    """(key, text) of every prompt of `script` that `variables` can fill, in script order.
    `area`: the (province, city) whose districts an address is read back as (default: the NLU's)."""
    values = dict(variables or {})
    if getattr(script, "system", None) is not None:  # as the call says them (bot.dialog.catalogue)
        values = script.system.spoken(values, script.locale)
    out: list[tuple[str, str]] = []
    for key, template in script.prompt_templates():
        if "{value}" in template:
            step = script.steps.get(key.split(".")[0])
            labels = [label for _, label in (step.labels if step else ())] or read_back_values(step, area)
            texts = [_try_render(template, {**values, "value": v}) for v in labels]
        else:
            texts = [_try_render(template, values)]
        out += [(key, text) for text in texts if text]
    return out


# A count is read back as said ("您是说做了2次，对吗？"): these are rendered ahead, the rest on demand.
READ_BACK_COUNTS = range(0, 21)


def read_back_values(step: Any, area: tuple[str | None, str | None] | None = None) -> list[str]:
    """A read-back's closed set beyond a step's labels, as the dialog says the value (Step.label):
    each count of READ_BACK_COUNTS, and for an address each district and county of the area (an
    address heard as a district alone reads back as its name; one with a street reads back as
    heard: that names where the person lives and is spoken from the call's memory, not cached).
    The same for everybody, so rendered once into the shared prompt cache: a read-back on a warm
    worker synthesizes nothing between the answer and the reply."""
    expect = getattr(step, "expect", None)
    if expect == "count":
        return [str(n) for n in READ_BACK_COUNTS]
    if expect == "address":
        return list(_districts(area))
    return []


@functools.lru_cache(maxsize=8)
def _districts(area: tuple[str | None, str | None] | None) -> tuple[str, ...]:
    from bot.nlu.address import default_area
    from bot.nlu.gazetteer import place_names

    return place_names((area or default_area())[1])


# the call's code (CallRequest.variables) and the person's fields (CallRequest.person)
PERSONAL_VARIABLES = frozenset({"call_code", "name", "expected_address", "risk_category", "phone"})


def shared_variables(variables: dict[str, Any] | None) -> dict[str, Any]:
    """The variables that are the same for every person (the agency's: no call code, no person field)."""
    return {k: v for k, v in (variables or {}).items() if k not in PERSONAL_VARIABLES}


def public_texts(script: Any, shared: dict[str, Any] | None = None) -> frozenset[str]:
    """Every text `script` says with the shared variables alone: what the prompt cache may keep."""
    return frozenset(text for _, text in prompt_texts(script, shared_variables(shared)))


def opening_texts(script: Any, variables: dict[str, Any] | None = None,
                  prefilled: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    """What the call says before the caller's first answer: the start step and the steps it
    leads to, up to and including the first question (rendered before dialling; the rest of
    the script is rendered in the background or when the call first says it). `prefilled`: the
    answers earlier calls stored (`CallRequest.prefilled_slots`): the questions they answer are
    passed over as the dialog passes them, and a confirmed identity adds the resume line
    (bot.dialog.resuming)."""
    prefilled = prefilled or {}
    identity = getattr(script, "identity", None)
    ids: list[str] = []  # steps whose say/prompt the opening says ("resume": the resume line)
    seen: set[str] = set()
    step_id = script.start
    while step_id and step_id in script.steps and step_id not in seen:
        seen.add(step_id)
        step = script.steps[step_id]
        if step.is_ask:
            value = prefilled.get(step.slot)
            if value is None or (step is identity and str(value) != "yes"):
                ids.append(step_id)
                break
            if step is identity:
                ids.append("resume")
            step_id = dict(step.branches).get(str(value), step.next)
        else:
            ids.append(step_id)
            branch = step.branch_slot and prefilled.get(step.branch_slot)
            step_id = dict(step.branches).get(str(branch), step.next) if branch is not None else step.next
    keys = {f"{i}.{attr}" for i in ids for attr in ("say", "prompt")} | ({"resume"} if "resume" in ids else set())
    return [(key, text) for key, text in prompt_texts(script, variables) if key in keys]


def _try_render(template: str, variables: dict[str, Any]) -> str | None:
    try:
        text = render(template, variables)
    except (KeyError, ValueError):
        return None
    return None if "{" in text else text

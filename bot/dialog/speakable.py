"""Nothing empty or unknown is ever spoken (issue 22 item 5).

`unspeakable(script, variables)` lists what a script would say wrong with the desk's variables
(config.variables): a `{variable}` with no value (it would be read out as "{badge}") or an empty
one ("工号，正在进行…" with no number), naming the config key to set; and an agency name in
another language than the script's (an English prompt saying 兰州市公安局). `veribot dialogs
lint --config` and `veribot serve` refuse on any of them.

Per-call variables are not the desk's: the person's (the script's `variables:`, from the people
list) and `{call_code}` (every dialled call's own; `with_sample_code` gives text-only runs — the
simulators — a sample one, so they never show the placeholder).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.dialog.model import VAR_RX, Script

PER_CALL = ("call_code", "value", "resume_after", "contact")  # contact: the contact asked for a number (ask_phone)
SAMPLE_CALL_CODE = "1 2 3 4 5 6"  # what the simulators say for {call_code} (a dialled call says its own)
CONFIG_KEY = {"agency": "[agency] name", "badge": "[agency] badge", "callback_number": "[agency] callback_number",
              "caller_id": "[agency] caller_id", "callback_minutes": "[agency] callback_minutes",
              "callback_within": "[agency] callback_minutes", "operator_line": "[telephony] operator_uri"}
_HAN = re.compile(r"[\u3400-\u9fff]")


def with_sample_code(variables: dict[str, Any]) -> dict[str, Any]:
    """`variables` with a sample {call_code} when they carry none (text-only runs)."""
    return variables if variables.get("call_code") else {**variables, "call_code": SAMPLE_CALL_CODE}


@dataclass(frozen=True)
class Problem:
    """One thing a script would say wrong: where (the prompt's key), the variable, what is wrong
    ("unknown": nothing fills it; "empty": the key to set is empty; "language": the agency name
    is in another language than the script's), the key to set, and the line lint prints."""

    where: str
    var: str
    kind: str
    key: str
    line: str


def unspeakable(script: Script, variables: dict[str, Any]) -> list[str]:
    """One line per problem: where the script says it, the variable, the key to set."""
    return [p.line for p in problems(script, variables)]


def problems(script: Script, variables: dict[str, Any]) -> list[Problem]:
    """What `unspeakable` says, one `Problem` each (the console words them in its language)."""
    spoken = script.system.spoken(variables, script.locale) if script.system is not None else dict(variables)
    name = script.path or script.name
    out: list[Problem] = []
    seen: set[str] = set()
    for key, template in script.prompt_templates():
        for var in VAR_RX.findall(template):
            if var in script.variables or var in PER_CALL or var in seen:
                continue
            if var == "operator_line":  # "" means: no operator line (the human_callback handler)
                continue
            where = CONFIG_KEY.get(var, f"variable {var}")
            if var not in spoken:
                seen.add(var)
                out.append(Problem(key, var, "unknown", where,
                                   f"{name}: {key} says {{{var}}}, which nothing fills (unknown variable)"))
            elif not str(spoken[var]).strip():
                seen.add(var)
                out.append(Problem(key, var, "empty", where,
                                   f"{name}: {key} says {{{var}}}, but {where} is empty: set it in config.toml"))
            elif var == "agency" and script.locale.split("-")[0] != "zh" and _HAN.search(str(spoken[var])):
                seen.add(var)
                lang = script.locale.split("-")[0]
                out.append(Problem(key, var, "language", "[agency] names",
                                   f"{name}: {key} says {{agency}} in {script.locale} as {spoken[var]!r}: give the "
                                   f"desk's {lang} name in [agency] names (e.g. names = {{ \"{lang}\" = \"...\" }})"))
    return out

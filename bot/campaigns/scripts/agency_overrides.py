"""The agency's official number and badge as an admin set them in the console (audited there),
over the `[agency]` values of config.toml: every call placed after the change says them. Kept as a
small JSON file in var/ (written whole, then renamed), read when a call starts."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

FIELDS = ("callback_number", "badge")
FILE = "agency-overrides.json"
_NUMBER = re.compile(r"\+?[0-9][0-9 \-]{2,19}")
_BADGE = re.compile(r"[0-9A-Za-z\-]{1,20}")


class OverrideError(ValueError):
    """A value that cannot be spoken to residents; the message is an English msgid."""


def load(var_dir: str | Path) -> dict[str, str]:
    """The values an admin set ({} when none or unreadable: the config's values stand)."""
    try:
        data = json.loads((Path(var_dir) / FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: str(data[k]) for k in FIELDS if isinstance(data, dict) and data.get(k)}


def applied(variables: dict[str, str], var_dir: str | Path) -> dict[str, str]:
    """The desk's variables as a call placed now says them: config.toml's `[agency]` values under
    the number and badge an admin set (`veribot simulate`; the dialer reads `load` per call)."""
    return {**variables, **load(var_dir)}


def check(number: str, badge: str) -> dict[str, str]:
    number, badge = number.strip(), badge.strip()
    if not _NUMBER.fullmatch(number):
        raise OverrideError("The official number: 3 to 20 digits (a leading + and spaces or dashes allowed).")
    if not _BADGE.fullmatch(badge):
        raise OverrideError("The badge: 1 to 20 letters or digits.")
    return {"callback_number": number, "badge": badge}


def save(var_dir: str | Path, values: dict[str, str]) -> None:
    path = Path(var_dir) / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({k: values[k] for k in FIELDS}, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


class Overlaid(Mapping[str, str]):
    """`base` under `live()` (e.g. `lambda: load(var_dir)`), read again at every use: for
    sentences built once at start-up whose values an admin may change later (the callback
    verifier's prompts)."""

    def __init__(self, base: Mapping[str, str], live: Callable[[], Mapping[str, str]]) -> None:
        self.base, self.live = base, live

    def _now(self) -> dict[str, str]:
        return {**self.base, **self.live()}

    def __getitem__(self, key: str) -> str:
        return self._now()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._now())

    def __len__(self) -> int:
        return len(self._now())

"""The system's own sentences per locale: `dialogs/system.<locale>.yaml` beside the scripts.

A script says its questions; the system says the rest (the storage-fault truth, caller
verification, callback replies, the unknown-caller greeting, the resume lines, durations) and
speaks numbers the way people of the locale say them. All of it is data, loaded with the same safe
YAML loader as the scripts (bot.dialog.yamlsafe), so adding a locale is files under `dialogs/`
(a script and its `system.<locale>.yaml`) plus answer understanding for its language
(`bot.nlu.<language>`, chosen by the locale's language part: `en-GB` reuses `bot.nlu.en`).

    cat = catalogue_for("zh-CN")                      # dialogs/system.zh-CN.yaml
    cat.say("service.unknown_caller", variables)      # the sentence, variables filled and spoken
    problems = lint_catalogue(text)                   # every key present, every variable known

A script finds its catalogue beside itself first, then in the shipped `dialogs/`; a locale with
none falls back to one of the same language, then to en-US (`veribot dialogs lint` and `serve`
report the missing file).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.dialog.model import BUILTIN_VARIABLES, VAR_RX, render
from bot.dialog.yamlsafe import DocumentError, Problem, load_document

DIALOGS_DIR = Path(__file__).resolve().parents[2] / "dialogs"
FALLBACK_LOCALE = "en-US"

# Every sentence key, with the variables it may use besides BUILTIN_VARIABLES.
KEYS: dict[str, tuple[str, ...]] = {
    "storage_fault.promised": (),  # the callback case is durable: staff will call back
    "storage_fault.unpromised": (),  # it is not: no promise
    "verify.keypad": ("digits",),  # keypad_verifier's question
    "verify.code": ("digits",),  # code_verifier's question
    "verify.code_say": ("digits",),  # code_verifier's question when the caller may say the code
    "verify.code_again": ("digits",),  # a said code unclear or wrong: asked once more
    "verify.code_keys": ("digits",),  # then keyed
    "verify.locked": (),  # too many wrong codes for this number
    "callback.genuine": ("when",),  # the code proves a call of ours (with {badge})
    "callback.genuine_no_badge": ("when",),  # the same when no badge is configured
    "callback.other_number": (),  # said after it when the caller uses another phone than the one called
    "callback.wrong_code": (),
    "callback.when": ("month", "day"),  # {when} above
    "service.unknown_caller": (),  # a caller not verified: who we are, the official number
    "service.nothing_more": (),  # a verified caller with nothing to answer now
    "resume.cut_off": ("name",),  # a call resumed after the earlier one was cut off
    "resume.cut_off_unnamed": (),
    "resume.handed_back": ("name",),  # after an operator handed the case back, or on the resident's callback
    "resume.handed_back_unnamed": (),
    "durations.hours": ("hours",),  # {callback_within}
    "durations.minutes": ("minutes",),
    "durations.hours_minutes": ("hours", "minutes"),
}
TOP_KEYS = {"locale", "sentences", "numbers"}
PHONE_VARIABLES = ("callback_number", "caller_id")  # spoken in groups, digit by digit
_PHONE_RX = re.compile(r"^\+?[\d\s()\-]{3,}$")


class CatalogueError(ValueError):
    def __init__(self, problems: list[Problem], name: str = "catalogue"):
        self.problems, self.name = problems, name
        super().__init__("\n".join(f"{name}:{p.line}: {p.message}" for p in problems))


@dataclass(frozen=True)
class Catalogue:
    locale: str
    sentences: Mapping[str, str]
    digits: tuple[str, ...]  # how 0..9 are said in a phone number (Mandarin 1 is 幺 there)
    group_separator: str = ", "  # between groups of a phone number (a short pause)
    digit_separator: str = " "
    area_code_digits: tuple[str, ...] = ()  # a landline's area code, when said otherwise ("零九三一")
    path: str | None = field(default=None, compare=False)

    def spoken(self, variables: Mapping[str, Any], locale: str | None = None) -> dict[str, Any]:
        """`variables` as `locale` (default: this catalogue's) says them: {agency} in its language
        ([agency] names), and, when this catalogue is of that language (not a fallback), phone
        numbers in groups and {callback_within} in its words."""
        locale = locale or self.locale
        lang = locale.split("-")[0]
        out = dict(variables)
        name = out.get(f"agency.{locale}") or out.get(f"agency.{lang}")  # config [agency] names
        if name:
            out["agency"] = name
        minutes = str(out.get("callback_minutes", ""))
        if minutes.isdigit() and "callback_within" not in out:
            out["callback_within"] = self.duration(int(minutes))
        if self.locale.split("-")[0] != lang:
            return out
        for key in PHONE_VARIABLES:
            if isinstance(out.get(key), str) and _PHONE_RX.match(out[key]):
                out[key] = self.phone(out[key])
        return out

    def phone(self, number: str) -> str:
        """A phone number as said: "0931-8888-6666" -> "零九三一，八八八八，六六六六"."""
        groups = phone_groups(number)

        def said(group: str, i: int) -> str:
            words = self.area_code_digits if i == 0 and group.startswith("0") and self.area_code_digits else self.digits
            return self.digit_separator.join(words[int(d)] for d in group)

        return self.group_separator.join(said(g, i) for i, g in enumerate(groups))

    def duration(self, minutes: int) -> str:
        h, m = divmod(minutes, 60)
        key = "durations.hours_minutes" if h and m else "durations.hours" if h else "durations.minutes"
        return render(self.sentences[key], {"hours": h, "minutes": m})

    def text(self, key: str, variables: Mapping[str, Any]) -> str:
        """The sentence `key` with `variables` (as given: see `say` for spoken ones)."""
        return render(self.sentences[key], dict(variables))

    def say(self, key: str, variables: Mapping[str, Any], **more: Any) -> str:
        """The sentence `key`, its variables spoken the locale's way, `more` as given."""
        return self.text(key, {**self.spoken(variables), **more})


def phone_groups(number: str) -> list[str]:
    """The groups people say a number in: a Chinese mobile 3-4-4; a landline's area code (010,
    02x: 3 digits; 0xxx: 4) then its number 4-4 (or 3-4); a number written in groups
    ("0931-8888-6666") in those, longer ones split the same way; service numbers (96110) whole."""
    written = [g for g in re.split(r"[\s\-()]+", number.lstrip("+")) if g]
    if len(written) > 1:
        return [part for g in written for part in _local(re.sub(r"\D", "", g))]
    d = re.sub(r"\D", "", number)
    if len(d) == 11 and d.startswith("1"):
        return [d[:3], d[3:7], d[7:]]
    if d.startswith("0") and len(d) >= 10:
        area = 3 if d[1] in "12" else 4
        return [d[:area], *_local(d[area:])]
    return _local(d)


def _local(d: str) -> list[str]:
    """A local number: 8 digits 4-4, 7 digits 3-4; anything else whole."""
    if len(d) in (7, 8):
        return [d[: len(d) - 4], d[-4:]]
    return [d] if d else []


def parse_catalogue(text: str, name: str = "catalogue") -> Catalogue:
    """The catalogue in `text`, or CatalogueError naming every problem with its line."""
    try:
        doc = load_document(text)
    except DocumentError as exc:
        raise CatalogueError(exc.problems, name) from None
    data = doc.data
    problems: list[Problem] = []

    def err(path: tuple, message: str) -> None:
        problems.append(Problem(doc.line(path), message))

    if not isinstance(data, dict):
        raise CatalogueError([Problem(1, "a catalogue is a mapping (locale, sentences, numbers)")], name)
    for key in set(data) - TOP_KEYS:
        err((key,), f"unknown key {key!r} (known: {', '.join(sorted(TOP_KEYS))})")
    locale = data.get("locale")
    if not isinstance(locale, str) or not locale:
        err(("locale",), "locale is missing (e.g. locale: zh-CN)")
    sentences = data.get("sentences")
    flat: dict[str, str] = {}
    if not isinstance(sentences, dict):
        err(("sentences",), "sentences is missing: a mapping of groups of sentences")
    else:
        for group, items in sentences.items():
            if not isinstance(items, dict):
                err(("sentences", group), f"sentences.{group} must be a mapping of sentences")
                continue
            for k, v in items.items():
                flat[f"{group}.{k}"] = v
        for key, value in flat.items():
            path = ("sentences", *key.split(".", 1))
            if key not in KEYS:
                err(path, f"unknown sentence {key!r}")
            elif not isinstance(value, str) or not value.strip():
                err(path, f"sentence {key!r} is empty: a resident would hear nothing")
            else:
                known = set(BUILTIN_VARIABLES) | set(KEYS[key])
                for var in VAR_RX.findall(value):
                    if var not in known:
                        err(path, f"sentence {key!r} uses unknown variable {{{var}}} "
                                  f"(known here: {', '.join(sorted(known))})")
        for key in KEYS:
            if key not in flat:
                err(("sentences",), f"sentence {key!r} is missing")
    numbers = data.get("numbers")
    digits: Any = numbers.get("digits") if isinstance(numbers, dict) else None
    area: Any = numbers.get("area_code_digits", []) if isinstance(numbers, dict) else []
    for key, value in (("digits", digits), ("area_code_digits", area or [""] * 10)):
        if not (isinstance(value, list) and len(value) == 10 and all(isinstance(x, str) for x in value)
                and (key != "digits" or all(value))):
            err(("numbers", key), f"numbers.{key} must list how 0 to 9 are said in a phone number (10 words)")
    if problems:
        raise CatalogueError(sorted(problems, key=lambda p: (p.line, p.message)), name)
    assert isinstance(numbers, dict)
    return Catalogue(str(locale), flat, tuple(digits), str(numbers.get("group_separator", ", ")),
                     str(numbers.get("digit_separator", " ")), tuple(area), name)


def lint_catalogue(text: str, name: str = "catalogue") -> list[Problem]:
    try:
        parse_catalogue(text, name)
    except CatalogueError as exc:
        return exc.problems
    return []


def catalogue_path(locale: str, beside: str | Path | None = None) -> Path | None:
    """The file of `locale`'s catalogue: beside the script (a folder or a script's path) first,
    then the shipped dialogs/; None when neither has one."""
    folders = []
    if beside is not None:
        b = Path(beside)
        folders.append(b if b.is_dir() else b.parent)
    folders.append(DIALOGS_DIR)
    for folder in folders:
        path = folder / f"system.{locale}.yaml"
        if path.is_file():
            return path
    return None


@lru_cache(maxsize=64)  # the files are read once per process (keyed by path and its mtime)
def _load(path: str, mtime: float) -> Catalogue:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError([Problem(1, f"cannot read {path}: {exc}")], path) from None
    return parse_catalogue(text, path)


def load_catalogue(path: str | Path) -> Catalogue:
    p = Path(path)
    return _load(str(p), p.stat().st_mtime if p.exists() else 0.0)


def catalogue_for(locale: str, beside: str | Path | None = None) -> Catalogue:
    """`locale`'s catalogue; else one of its language; else en-US's (see the module text)."""
    path = catalogue_path(locale, beside)
    if path is None:
        lang = locale.split("-")[0]
        folders = ([Path(beside) if Path(beside).is_dir() else Path(beside).parent] if beside else []) + [DIALOGS_DIR]
        same = [p for f in folders for p in sorted(f.glob(f"system.{lang}-*.yaml"))]
        path = same[0] if same else catalogue_path(FALLBACK_LOCALE)
    if path is None:
        raise CatalogueError([Problem(1, f"no system catalogue for {locale} (dialogs/system.{locale}.yaml)")])
    return load_catalogue(path)

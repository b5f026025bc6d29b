"""Which dialog script a campaign's calls run: the active published DialogVersion of the
campaign's dialog name (console dialog editor), else the YAML file at `Campaign.dialog_path`.
Scripts are cached by content version, so a call keeps the version it started with."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlmodel import select

from storage.db import Database
from storage.models import Campaign, DialogVersion


class ScriptSource:
    def __init__(self, db: Database | None = None, root: str | Path = ".") -> None:
        self.db = db
        self.root = Path(root)
        self._by_key: dict[tuple, Any] = {}
        self._lock = threading.Lock()

    def for_campaign(self, camp: Campaign) -> Any:
        """The Script to use now (raises ScriptError / OSError when it cannot be loaded).

        A published version must have the locale of the campaign's own file: the shipped
        scripts share the name `verification` across locales."""
        from bot.dialog.script import load_script, load_script_text

        path = Path(camp.dialog_path)
        path = path if path.is_absolute() else self.root / path
        file_script = None
        if path.exists():
            file_script = self._cached(("file", str(path), path.stat().st_mtime_ns), lambda: load_script(path))
        published = None
        if self.db is not None:
            # the name the campaign's own file carries wins: a campaign made with survey.zh-CN.yaml
            # runs `survey` even when its stored dialog_name says otherwise (older rows did)
            name = file_script.name if file_script is not None else camp.dialog_name
            query = select(DialogVersion.version, DialogVersion.yaml_text).where(
                DialogVersion.name == name, DialogVersion.active == True  # noqa: E712
            )
            if file_script is not None:
                query = query.where(DialogVersion.locale == file_script.locale)
            published = self.db.run(
                lambda s: s.exec(query.order_by(DialogVersion.published_at.desc())).first(), write=False
            )
        if published is not None:
            key = ("db", name, published[0])
            return self._cached(key, lambda: load_script_text(published[1], name))
        if file_script is None:
            raise FileNotFoundError(f"dialog script not found: {path}")
        return file_script

    def recordings_for(self, script: Any) -> dict[str, bytes]:
        """The human takes of `script`'s version (text -> 8 kHz PCM; empty without a database),
        reloaded only when a take of that version was added, replaced or removed."""
        if self.db is None:
            return {}
        from bot.campaigns.scripts import prompt_recordings as pr

        name, locale, version = script.name, script.locale, script.version
        mark = self.db.run(lambda s: pr.marker(s, name, locale, version), write=False)
        if mark[2] == 0:
            return {}
        key = ("rec", name, locale, version, mark)
        with self._lock:  # forget older takes of this version
            for old in [k for k in self._by_key if k[:4] == key[:4] and k != key]:
                del self._by_key[old]
        return self._cached(key, lambda: self.db.run(lambda s: pr.recordings_for(s, name, locale, version), write=False))

    def _cached(self, key: tuple, loader: Any) -> Any:
        with self._lock:
            if key not in self._by_key:
                self._by_key[key] = loader()
            return self._by_key[key]


class ScriptChoiceError(ValueError):
    """A script name that names no usable script; the message lists the ones there are."""


def script_files(dialogs_dir: str | Path) -> dict[str, tuple[Path, Any]]:
    """"name.locale" -> (file, Script) for every script under `dialogs_dir` that loads."""
    from bot.dialog.script import ScriptError, load_script

    out: dict[str, tuple[Path, Any]] = {}
    for path in sorted(Path(dialogs_dir).glob("*.yaml")):
        try:
            script = load_script(path)
        except (ScriptError, OSError, ValueError):
            continue
        out.setdefault(f"{script.name}.{script.locale}", (path, script))
    return out


def find_script(choice: str, dialogs_dir: str | Path, locale: str = "") -> tuple[Path, Any]:
    """The script a campaign is to run, named as `survey`, `survey.zh-CN`, a file name under
    `dialogs_dir` or a path: (file, Script). A bare name takes the script of `locale` when there
    are several; ScriptChoiceError names the scripts there are."""
    from bot.dialog.script import ScriptError, load_script

    choice = choice.strip()
    files = script_files(dialogs_dir)
    if choice in files:
        return files[choice]
    by_file = {p.name: (p, s) for p, s in files.values()} | {p.stem: (p, s) for p, s in files.values()}
    if choice in by_file:
        return by_file[choice]
    named = [v for k, v in files.items() if k.rpartition(".")[0] == choice]
    if len(named) > 1:
        named = [v for v in named if v[1].locale == locale] or named
    if len(named) == 1:
        return named[0]
    path = Path(choice)
    if choice.endswith((".yaml", ".yml")) and path.is_file():
        try:
            return path, load_script(path)
        except ScriptError as exc:
            raise ScriptChoiceError(f"{choice}: the script does not load ({exc})") from None
    known = ", ".join(sorted(files)) or f"none under {dialogs_dir}"
    what = "is ambiguous" if named else "is not a script"
    raise ScriptChoiceError(f"{choice!r} {what}; the scripts are: {known}")

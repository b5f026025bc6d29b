"""The dialog script a case or a campaign's results were made with, for its labels: the
published version the call ran (by name and version), else the campaign's YAML file.
Parsed scripts are cached by content; a script that no longer loads gives no labels."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from sqlmodel import Session, select

from bot.console.labels import ScriptLabels
from bot.dialog.script import ScriptError, load_script_text
from storage.models import Campaign, DialogVersion

log = logging.getLogger("veribot.console")
_CACHE: dict[tuple, ScriptLabels] = {}
_LOCK = threading.Lock()


def script_labels(s: Session, camp: Campaign, name: str | None, version: str | None,
                  dialogs_dir: Path) -> ScriptLabels:
    if name and version:
        row = s.exec(select(DialogVersion).where(DialogVersion.name == name,
                                                 DialogVersion.version == version)).first()
        if row is not None:
            return _parsed(("db", name, version), row.yaml_text, name)
    path = Path(camp.dialog_path)
    for candidate in (path, dialogs_dir / path.name):
        try:
            if candidate.is_file():
                stat = candidate.stat()
                key = ("file", str(candidate.resolve()), stat.st_mtime_ns)
                return _parsed(key, candidate.read_text(encoding="utf-8"), camp.dialog_name)
        except OSError:
            continue
    return ScriptLabels()


def _parsed(key: tuple, text: str, name: str) -> ScriptLabels:
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    try:
        labels = ScriptLabels.of(load_script_text(text, name))
    except (ScriptError, ValueError) as exc:
        log.warning("dialog %s does not load for labels: %s", name, exc)
        labels = ScriptLabels()
    with _LOCK:
        _CACHE[key] = labels
    return labels

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
        """The Script to use now (raises ScriptError / OSError when it cannot be loaded)."""
        from bot.dialog.script import load_script, load_script_text

        published = None
        if self.db is not None:
            published = self.db.run(lambda s: s.exec(
                select(DialogVersion.version, DialogVersion.yaml_text)
                .where(DialogVersion.name == camp.dialog_name, DialogVersion.active == True)  # noqa: E712
                .order_by(DialogVersion.published_at.desc())).first(), write=False)
        if published is not None:
            key: tuple = ("db", camp.dialog_name, published[0])
            loader = lambda: load_script_text(published[1], camp.dialog_name)  # noqa: E731
        else:
            path = Path(camp.dialog_path)
            path = path if path.is_absolute() else self.root / path
            key = ("file", str(path), path.stat().st_mtime_ns)
            loader = lambda: load_script(path)  # noqa: E731
        with self._lock:
            if key not in self._by_key:
                self._by_key[key] = loader()
            return self._by_key[key]

"""Dialog scripts as the console manages them: the files under dialogs/ plus the versions
published in the database. A dialog is identified by (name, locale); at most one of its
DialogVersion rows is active. Calls record the version they ran, so publishing never
changes a call already under way (the dialer loads the script once per call)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.campaigns.scripts import prompt_recordings
from bot.console.worker import ProcessWorker
from bot.dialog.script import Script, ScriptError, load_script_text
from storage.models import DialogVersion, utcnow

LINT_TIMEOUT = 5.0  # seconds; the YAML limits keep a real draft well under a second


@dataclass(frozen=True)
class DialogEntry:
    slug: str  # "name.locale": the id used in URLs
    name: str
    locale: str
    file: str | None  # the file under dialogs/ it came from, if any
    active_version: str | None
    versions: int


def slug(name: str, locale: str) -> str:
    return f"{name}.{locale}"


def normalised(source: str) -> str:
    """The text as a file holds it: a browser posts a textarea with CRLF line ends (and may drop the
    last newline), which would give the same script a second version id."""
    return source.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n") + "\n"


def lint_errors(source: str) -> tuple[Script | None, list[dict[str, object]]]:
    """The script, or the line-numbered problems that stop it from running."""
    try:
        return load_script_text(normalised(source), name="draft"), []
    except ScriptError as exc:
        return None, [{"line": p.line, "message": p.message} for p in exc.errors]


_worker: ProcessWorker | None = None


async def lint_off_loop(source: str) -> tuple[Script | None, list[dict[str, object]]]:
    """`lint_errors` in the lint worker process; a timeout is reported as a problem."""
    global _worker
    if _worker is None:
        _worker = ProcessWorker(LINT_TIMEOUT, "dialog check")
    try:
        return await _worker.run(lint_errors, source)
    except TimeoutError:
        return None, [{"line": 1, "message": f"checking took longer than {_worker.timeout:g} s; "
                                             "the script is too large or too complex"}]


def script_files(dialogs_dir: Path) -> dict[str, tuple[Path, str]]:
    """slug -> (file, text) for every valid script file in dialogs/."""
    out: dict[str, tuple[Path, str]] = {}
    for path in sorted(dialogs_dir.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        script, _ = lint_errors(text)
        if script is not None:
            out.setdefault(slug(script.name, script.locale), (path, text))
    return out


def list_dialogs(s: Session, files: dict[str, tuple[Path, str]]) -> list[DialogEntry]:
    rows = s.exec(select(DialogVersion)).all()
    groups: dict[str, list[DialogVersion]] = {}
    for r in rows:
        groups.setdefault(slug(r.name, r.locale), []).append(r)
    entries = []
    for key in sorted(set(groups) | set(files)):
        versions = groups.get(key, [])
        active = next((v.version for v in versions if v.active), None)
        name, _, locale = key.rpartition(".")
        file = str(files[key][0]) if key in files else None
        entries.append(DialogEntry(key, name, locale, file, active, len(versions)))
    return entries


def versions(s: Session, name: str, locale: str) -> list[DialogVersion]:
    q = (select(DialogVersion).where(DialogVersion.name == name, DialogVersion.locale == locale)
         .order_by(col(DialogVersion.published_at).desc(), col(DialogVersion.id).desc()))
    return list(s.exec(q).all())


def publish(s: Session, script: Script, actor: str) -> DialogVersion:
    """Store the script as the active version of its (name, locale); re-publishing an
    earlier text makes that version active again."""
    row = s.exec(select(DialogVersion).where(DialogVersion.name == script.name,
                                             DialogVersion.version == script.version)).first()
    _deactivate(s, script.name, script.locale)
    if row is None:
        row = DialogVersion(name=script.name, locale=script.locale, version=script.version,
                            yaml_text=script.source, published_by=actor[:100])
    row.active, row.published_at = True, utcnow()
    s.add(row)
    s.flush()
    prompt_recordings.carry(s, script)  # takes of unchanged texts go with the new version
    return row


def activate(s: Session, version_id: int) -> DialogVersion:
    """Roll back (or forward) to a stored version."""
    row = s.get(DialogVersion, version_id)
    if row is None:
        raise LookupError("no such dialog version")
    _deactivate(s, row.name, row.locale)
    row.active = True
    s.add(row)
    s.flush()
    return row


def _deactivate(s: Session, name: str, locale: str) -> None:
    s.exec(update(DialogVersion)  # type: ignore[call-overload]
           .where(col(DialogVersion.name) == name, col(DialogVersion.locale) == locale)
           .values(active=False))

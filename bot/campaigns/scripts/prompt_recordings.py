"""Recorded prompts as stored: each `PromptRecording` is a human take of one fixed piece of a
dialog version's prompts (audio/recordings.py splits templates into pieces). A call of a
version speaks the takes of that version; publishing a new version carries over every take
whose text the new version still says; a changed text falls back to TTS until re-recorded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from audio.recordings import pieces
from audio.wav import CALL_RATE
from storage.models import PromptRecording


@dataclass(frozen=True)
class PromptCoverage:
    key: str  # the prompt's key in the script (step, step.reprompt, ...)
    template: str
    pieces: tuple[tuple[str, bool], ...]  # (fixed text, recorded)
    has_variables: bool

    reused: bool = False  # a take of another piece is heard inside one of this prompt's pieces

    @property
    def state(self) -> str:
        """"recorded" (every fixed piece has its take; variables by TTS), "partly" (some
        recorded audio is heard, TTS for the rest) or "tts"."""
        done = sum(r for _, r in self.pieces)
        if self.pieces and done == len(self.pieces):
            return "recorded"
        return "partly" if done or self.reused else "tts"


def script_pieces(script: Any) -> list[str]:
    """Every recordable fixed text of `script`, in script order, once each."""
    seen: dict[str, None] = {}
    for _, template in script.prompt_templates():
        for p in pieces(template):
            seen.setdefault(p, None)
    return list(seen)


def coverage(script: Any, recorded: set[str]) -> list[PromptCoverage]:
    out = []
    for key, template in script.prompt_templates():
        ps = tuple((p, p in recorded) for p in pieces(template))
        # RecordedVoice finds takes anywhere in the text: say so when one is heard inside a piece
        reused = any(t in p for p, done in ps if not done for t in recorded)
        out.append(PromptCoverage(key, template, ps, "{" in template, reused))
    return out


def recorded_texts(s: Session, name: str, locale: str, version: str) -> dict[str, tuple[int, int]]:
    """text -> (id, duration_ms) of the takes of one version (no audio loaded)."""
    q = select(PromptRecording.text, PromptRecording.id, PromptRecording.duration_ms).where(
        PromptRecording.dialog_name == name, PromptRecording.locale == locale,
        PromptRecording.dialog_version == version)
    return {t: (i or 0, d) for t, i, d in s.exec(q).all()}


def recordings_for(s: Session, name: str, locale: str, version: str) -> dict[str, bytes]:
    """text -> 8 kHz PCM of every take of one version (what its calls speak)."""
    q = select(PromptRecording.text, PromptRecording.pcm).where(
        PromptRecording.dialog_name == name, PromptRecording.locale == locale,
        PromptRecording.dialog_version == version)
    return {t: bytes(p) for t, p in s.exec(q).all()}


def marker(s: Session, name: str, locale: str, version: str) -> tuple[int, str, int]:
    """Changes whenever a take of the version is added, replaced or removed (the newest time
    too: SQLite gives a replaced take the id it had)."""
    q = select(func.max(PromptRecording.id), func.max(PromptRecording.created_at), func.count()).where(
        PromptRecording.dialog_name == name, PromptRecording.locale == locale,
        PromptRecording.dialog_version == version)
    top, newest, n = s.exec(q).one()
    return int(top or 0), str(newest), int(n)


def save(s: Session, script: Any, text: str, pcm: bytes, actor: str) -> PromptRecording:
    """Store (or replace) the take of `text` for `script`'s version; ValueError if the script
    does not say `text` as a fixed piece."""
    if text not in script_pieces(script):
        raise ValueError("this text is not a fixed part of any prompt of the script")
    remove(s, script, text)
    row = PromptRecording(dialog_name=script.name, locale=script.locale, dialog_version=script.version,
                          text=text, pcm=pcm, duration_ms=len(pcm) * 1000 // (2 * CALL_RATE),
                          recorded_by=actor[:100])
    s.add(row)
    s.flush()
    return row


def remove(s: Session, script: Any, text: str) -> int:
    result = s.exec(delete(PromptRecording).where(  # type: ignore[call-overload]
        col(PromptRecording.dialog_name) == script.name, col(PromptRecording.locale) == script.locale,
        col(PromptRecording.dialog_version) == script.version, col(PromptRecording.text) == text))
    return result.rowcount or 0


def carry(s: Session, script: Any) -> int:
    """Give `script`'s version (just published) the newest take, from any earlier version of
    the same dialog, of every piece it still says and has no take of yet (a text that changed
    has no take: TTS until re-recorded). Returns how many were carried."""
    wanted = set(script_pieces(script)) - set(recorded_texts(s, script.name, script.locale, script.version))
    if not wanted:
        return 0
    rows = s.exec(select(PromptRecording).where(
        PromptRecording.dialog_name == script.name, PromptRecording.locale == script.locale,
        PromptRecording.dialog_version != script.version)
        .order_by(col(PromptRecording.created_at).desc(), col(PromptRecording.id).desc())).all()
    n = 0
    for r in rows:
        if r.text in wanted:
            wanted.discard(r.text)
            s.add(PromptRecording(dialog_name=r.dialog_name, locale=r.locale, dialog_version=script.version,
                                  text=r.text, pcm=r.pcm, duration_ms=r.duration_ms, recorded_by=r.recorded_by))
            n += 1
    s.flush()
    return n

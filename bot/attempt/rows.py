"""The rows an attempt writes, as SQL statements on the writer's session (bot.attempt.attempt)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session

from bot.dialog.events import Turn as DialogTurn
from storage.models import Attempt as AttemptRow
from storage.models import AttemptState, Result


def is_slot(what: Any) -> bool:
    return isinstance(what, tuple)


def what_of(what: Any) -> str:
    if isinstance(what, dict):
        return f"turn {what['seq']}"
    return "a slot value" if is_slot(what) else str(what)


def store_dialog(s: Session, attempt_id: int, dialog: dict[str, Any]) -> None:
    s.execute(update(AttemptRow).where(AttemptRow.id == attempt_id).values(sip_dialog=dialog))


def put_result(s: Session, row: dict[str, Any]) -> None:
    """The attempt's value for a slot: updated if the caller changed the answer, else inserted."""
    done = s.execute(update(Result).where(Result.attempt_id == row["attempt_id"], Result.slot == row["slot"])
                     .values(value=row["value"], created_at=row["created_at"]))
    if done.rowcount == 0:
        s.execute(insert(Result), [row])


def turn_row(attempt_id: int, seq: int, turn: DialogTurn, at: Any) -> dict[str, Any]:
    return {"attempt_id": attempt_id, "seq": seq, "speaker": str(turn.speaker), "text": turn.text or "",
            "step": turn.step, "kind": turn.kind, "parse": turn.parse, "confidence": turn.confidence, "at": at,
            "audio_path": getattr(turn, "audio", None), "line_at": getattr(turn, "at", None)}


def mark_in_call(s: Session, attempt_id: int) -> None:
    s.execute(update(AttemptRow).where(AttemptRow.id == attempt_id,
                                       AttemptRow.state.in_((AttemptState.CLAIMED, AttemptState.DIALLING)))
              .values(state=AttemptState.IN_CALL))

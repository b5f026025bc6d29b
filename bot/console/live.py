"""Calls in progress, for the campaign page's live view. The database is the registry: every
worker (in this process or another) marks its attempts dialling / in_call and writes each turn as
it is said (bot/attempt/attempt.py), so the console reads the same rows whichever worker dials.

Listen-in is not offered: the call audio lives in the worker's RTP loop (8 kHz G.711 per call) and
would need a media fork to the browser (WebRTC or a websocket with an audio worklet) — the live
transcript below, updated every few seconds, is what a supervisor watches instead."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from storage.models import Attempt, AttemptState, Person, Turn, utcnow

LAST_TURNS = 4


def live_calls(s: Session, campaign_id: int, now: datetime | None = None) -> list[dict[str, Any]]:
    """Dialling and answered calls of a campaign: who, state, current step, seconds, last turns."""
    now = now or utcnow()
    rows = s.exec(
        select(Attempt, Person.name)
        .join(Person, col(Person.id) == Attempt.person_id)
        .where(Attempt.campaign_id == campaign_id,
               col(Attempt.state).in_([AttemptState.DIALLING, AttemptState.IN_CALL]))
        .order_by(col(Attempt.started_at), col(Attempt.id)).limit(200)
    ).all()
    out = []
    for att, name in rows:
        turns = list(s.exec(select(Turn).where(Turn.attempt_id == att.id).order_by(col(Turn.seq).desc())
                            .limit(LAST_TURNS)).all())[::-1]
        step = next((t.step for t in reversed(turns) if t.step), None)
        started = att.started_at or att.claimed_at or now
        out.append({"attempt_id": att.id, "name": name, "state": att.state, "step": step or "",
                    "seconds": max(0, int((now - started).total_seconds())),
                    "turns": [{"speaker": t.speaker, "text": t.text, "kind": t.kind} for t in turns]})
    return out

"""Figures for the dashboard, per campaign or overall: calls per hour, outcome rates,
health-code and escalation-reason breakdowns. Counts only: no personal data leaves here.
Counts kept in `Tally` after a retention purge are added in, so purged campaigns still
show their health-code breakdown."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from storage.models import Attempt, AttemptState, Escalation, Result, Tally, utcnow

NO_ANSWER = ("no_answer", "busy", "declined", "machine")


def dashboard(s: Session, campaign_id: int | None = None, hours: int = 24,
              now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    since = now - timedelta(hours=hours)

    def scoped(q: Any, model: Any) -> Any:
        return q.where(model.campaign_id == campaign_id) if campaign_id is not None else q

    started = s.exec(scoped(select(Attempt.started_at).where(col(Attempt.started_at) >= since), Attempt)).all()
    first_hour = since.replace(minute=0, second=0, microsecond=0)
    buckets = [first_hour + timedelta(hours=i) for i in range(hours + 1)]
    per_hour = Counter(_hour(t) for t in started if t is not None)

    ended = s.exec(scoped(select(Attempt.outcome, Attempt.network_outcome, func.count())
                          .where(Attempt.state == AttemptState.ENDED)
                          .group_by(Attempt.outcome, Attempt.network_outcome), Attempt)).all()
    outcomes: Counter[str] = Counter()
    for outcome, network, n in ended:
        if network in NO_ANSWER:
            outcomes["no_answer"] += n
        else:
            outcomes[outcome or network or "unknown"] += n
    total = sum(outcomes.values())

    health: Counter[str] = Counter()
    rows = s.exec(scoped(select(Result.value).where(Result.slot == "health_code"), Result)).all()
    health.update(str(v) for v in rows if v is not None)
    tallies = s.exec(scoped(select(Tally.value, Tally.count).where(Tally.metric == "slot:health_code"), Tally)).all()
    for value, n in tallies:
        health[value] += n

    reasons = s.exec(scoped(select(Escalation.reason, func.count()).group_by(Escalation.reason), Escalation)).all()

    def rate(key: str) -> float:
        return round(outcomes[key] / total, 3) if total else 0.0

    return {
        "hours": [b.strftime("%m-%d %H:00") for b in buckets],
        "calls_per_hour": [per_hour.get(_hour(b), 0) for b in buckets],
        "ended_calls": total,
        "rates": {"completion": rate("completed"), "escalation": rate("escalated"),
                  "no_answer": rate("no_answer")},
        "outcomes": dict(outcomes),
        "health_codes": dict(health),
        "escalation_reasons": {r: n for r, n in reasons},
    }


def _hour(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H")

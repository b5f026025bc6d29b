"""Figures for the dashboard, per campaign or overall: calls per hour (in the console's time
zone), outcome rates per call and per person, health codes (the latest value per person)
and escalation reasons. Counts only: no personal data leaves here. Counts kept in `Tally`
after a retention purge are added in, so purged campaigns still show their health codes."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from bot.campaigns.dialing.trial_call import SUFFIX as TEST_SUFFIX
from bot.console.i18n import zone
from storage.models import (
    Attempt,
    AttemptState,
    Campaign,
    Escalation,
    Person,
    PersonState,
    Result,
    Tally,
    utcnow,
)

NO_ANSWER = ("no_answer", "busy", "declined", "machine")


def dashboard(s: Session, campaign_id: int | None = None, hours: int = 24,
              now: datetime | None = None, tz: str | None = None) -> dict[str, Any]:
    now = now or utcnow()
    since = now - timedelta(hours=hours)
    local = zone(tz)

    tests = select(Campaign.id).where(col(Campaign.name).endswith(TEST_SUFFIX))  # test calls' companions

    def scoped(q: Any, model: Any) -> Any:
        if campaign_id is not None:
            return q.where(model.campaign_id == campaign_id)
        return q.where(col(model.campaign_id).not_in(tests))  # test calls are not the desk's figures

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

    health: Counter[str] = Counter(_latest_per_person(s, scoped, "health_code").values())
    tallies = s.exec(scoped(select(Tally.value, Tally.count).where(Tally.metric == "slot:health_code"), Tally)).all()
    for value, n in tallies:
        health[value] += n

    reasons = s.exec(scoped(select(Escalation.reason, func.count(func.distinct(Escalation.person_id)))
                            .group_by(Escalation.reason), Escalation)).all()
    reached = select(Attempt.person_id).where(Attempt.state == AttemptState.ENDED)
    called = s.exec(scoped(select(Person.state, func.count()).where(col(Person.id).in_(reached))
                           .group_by(Person.state), Person)).all()
    people_by_state = {state: n for state, n in called}
    people = sum(people_by_state.values())

    def rate(key: str) -> float:
        return round(outcomes[key] / total, 3) if total else 0.0

    def people_rate(*states: str) -> float:
        return round(sum(people_by_state.get(st, 0) for st in states) / people, 3) if people else 0.0

    return {
        "hours": [_label(b.astimezone(local), i == 0) for i, b in enumerate(buckets)],
        "calls_per_hour": [per_hour.get(_hour(b), 0) for b in buckets],
        "ended_calls": total,
        "rates": {"completion": rate("completed"), "escalation": rate("escalated"),
                  "no_answer": rate("no_answer")},
        "people": people,
        "people_rates": {"completion": people_rate(PersonState.COMPLETED),
                         "escalation": people_rate(PersonState.ESCALATED)},
        "outcomes": dict(outcomes),
        "health_codes": dict(health),
        "escalation_reasons": {r: n for r, n in reasons},
    }


def _latest_per_person(s: Session, scoped: Any, slot: str) -> dict[int, str]:
    """The latest value of `slot` per person (an operator's correction or a later call wins)."""
    rows = s.exec(scoped(select(Result.person_id, Result.value).where(Result.slot == slot)
                         .order_by(col(Result.id)), Result)).all()
    return {person: str(value) for person, value in rows if value is not None}


def _label(t: datetime, first: bool) -> str:
    """`15:00`; the first hour and each midnight carry the date (`12-05 00:00`)."""
    return t.strftime("%m-%d %H:00" if first or t.hour == 0 else "%H:00")


def _hour(t: datetime) -> str:
    if t.tzinfo is not None:
        t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%d %H")

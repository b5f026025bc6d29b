"""Pure scheduling rules: the calling window and the retry policy. Time is passed in, never read.

All datetimes are timezone-aware; the window is evaluated in the campaign's IANA time zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# outcomes after which the person is done (no retry), and the person state they lead to
FINAL_OUTCOMES = {
    "completed": "completed",
    "escalated": "escalated",
    "wrong_number": "wrong_number",
    "bad_number": "failed",
    "do_not_call": "do_not_call",  # the resident asked not to be called again (bot/campaigns/people/suppression.py)
}

# outcome -> delays between attempts (seconds) and the most attempts in total for that outcome
DEFAULT_RETRY: dict[str, dict[str, Any]] = {
    "no_answer": {"delays": [1800, 7200, 14400], "max_attempts": 4},
    "busy": {"delays": [600, 1800, 3600], "max_attempts": 4},
    "congestion": {"delays": [300, 900, 1800], "max_attempts": 5},  # 503: Retry-After wins if longer
    "declined": {"delays": [14400], "max_attempts": 2},
    "machine": {"delays": [7200, 14400], "max_attempts": 3},
    "failed": {"delays": [300, 1800], "max_attempts": 3},
    "hung_up": {"delays": [3600, 10800], "max_attempts": 3},  # resumes at the first unanswered ask
    "interrupted": {"delays": [900], "max_attempts": 5},  # worker died mid-call: cool-down
    # carrier announcements (bot.telephony.detection.carrier_announcements); "busy" (正在通话中) shares the SIP 486 rule above
    "powered_off": {"delays": [3600, 10800, 21600], "max_attempts": 4},  # phone off: try again in hours
    "unreachable": {"delays": [1800, 7200, 14400], "max_attempts": 5},  # no coverage / network: sooner, more
    "invalid_number": {"delays": [86400], "max_attempts": 2},  # 空号: one re-check next day (a misheard
                                                               # announcement must not drop a contact)
}


class PolicyError(ValueError):
    pass


def parse_hhmm(value: str) -> time:
    try:
        hh, mm = value.split(":")
        return time(int(hh), int(mm))
    except (ValueError, AttributeError):
        raise PolicyError(f"time of day must be HH:MM, got {value!r}") from None


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PolicyError(f"unknown IANA time zone {name!r}") from None


@dataclass(frozen=True)
class CallingWindow:
    """Local hours in which calls may start, e.g. 09:00–20:00 Asia/Shanghai. end < start spans midnight."""

    start: time
    end: time
    tz: ZoneInfo

    @classmethod
    def parse(cls, start: str, end: str, tz: str) -> CallingWindow:
        return cls(parse_hhmm(start), parse_hhmm(end), zone(tz))

    def allows(self, now: datetime) -> bool:
        t = now.astimezone(self.tz).time()
        if self.start == self.end:
            return True  # all day
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def next_open(self, now: datetime) -> datetime:
        """`now` if the window is open, else the next moment it opens (aware, in `now`'s zone)."""
        if self.allows(now):
            return now
        local = now.astimezone(self.tz)
        candidate = datetime.combine(local.date(), self.start, tzinfo=self.tz)
        if candidate <= local:
            candidate = datetime.combine(local.date() + timedelta(days=1), self.start, tzinfo=self.tz)
        return candidate.astimezone(now.tzinfo)


@dataclass(frozen=True)
class Decision:
    """What happens to a person after an attempt: a final state, or the next try at `retry_at`."""

    final_state: str | None
    retry_at: datetime | None = None


@dataclass(frozen=True)
class RetryPolicy:
    rules: dict[str, dict[str, Any]] = field(default_factory=lambda: dict(DEFAULT_RETRY))

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> RetryPolicy:
        """Campaign.retry_policy overrides the defaults outcome by outcome."""
        rules = {k: dict(v) for k, v in DEFAULT_RETRY.items()}
        for outcome, rule in (data or {}).items():
            if not isinstance(rule, dict):
                raise PolicyError(f"retry policy for {outcome!r} must be a table")
            delays = rule.get("delays", rules.get(outcome, {}).get("delays", []))
            if not isinstance(delays, list) or not all(isinstance(d, int | float) and d >= 0 for d in delays):
                raise PolicyError(f"retry policy {outcome!r}: delays must be a list of seconds ≥ 0")
            maximum = rule.get("max_attempts", rules.get(outcome, {}).get("max_attempts", 1))
            if not isinstance(maximum, int) or maximum < 1:
                raise PolicyError(f"retry policy {outcome!r}: max_attempts must be an integer ≥ 1")
            rules[outcome] = {"delays": list(delays), "max_attempts": maximum}
        return cls(rules)

    def decide(self, outcome: str, attempts: int, now: datetime, retry_after: float | None = None) -> Decision:
        """`attempts`: attempts made so far, including this one."""
        if outcome in FINAL_OUTCOMES:
            return Decision(FINAL_OUTCOMES[outcome])
        rule = self.rules.get(outcome) or self.rules["failed"]
        if attempts >= rule["max_attempts"]:
            return Decision("failed")
        delays = rule["delays"] or [0]
        delay = float(delays[min(attempts - 1, len(delays) - 1)])
        if retry_after is not None:
            delay = max(delay, float(retry_after))
        return Decision(None, now + timedelta(seconds=delay))

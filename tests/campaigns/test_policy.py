"""Calling window and retry policy: pure functions of the time they are given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.campaigns.dialing.policy import CallingWindow, PolicyError, RetryPolicy

SH = "Asia/Shanghai"


def utc(h: int, m: int = 0, day: int = 26) -> datetime:
    return datetime(2026, 11, day, h, m, tzinfo=UTC)


def test_window_in_the_campaigns_time_zone():
    w = CallingWindow.parse("09:00", "20:00", SH)  # Shanghai = UTC+8
    assert not w.allows(utc(0, 59))  # 08:59 local
    assert w.allows(utc(1, 0))  # 09:00
    assert w.allows(utc(11, 59))  # 19:59
    assert not w.allows(utc(12, 0))  # 20:00: closed
    assert w.next_open(utc(12, 0)) == utc(1, 0, day=27)
    assert w.next_open(utc(0, 30)) == utc(1, 0)
    assert w.next_open(utc(5, 0)) == utc(5, 0)


def test_window_across_midnight_and_all_day():
    night = CallingWindow.parse("22:00", "02:00", "UTC")
    assert night.allows(utc(23)) and night.allows(utc(1)) and not night.allows(utc(2)) and not night.allows(utc(12))
    assert night.next_open(utc(12)) == utc(22)
    assert CallingWindow.parse("00:00", "00:00", SH).allows(utc(17))


def test_bad_window_settings_are_refused_clearly():
    with pytest.raises(PolicyError, match="HH:MM"):
        CallingWindow.parse("9am", "20:00", SH)
    with pytest.raises(PolicyError, match="time zone"):
        CallingWindow.parse("09:00", "20:00", "Mars/Olympus")


def test_retry_delays_grow_then_give_up():
    p = RetryPolicy.from_json({"busy": {"delays": [60, 600], "max_attempts": 4}})
    now = utc(3)
    assert p.decide("busy", 1, now).retry_at == now + timedelta(seconds=60)
    assert p.decide("busy", 2, now).retry_at == now + timedelta(seconds=600)
    assert p.decide("busy", 3, now).retry_at == now + timedelta(seconds=600)  # last delay repeats
    assert p.decide("busy", 4, now).final_state == "failed"
    assert p.decide("congestion", 1, now, retry_after=7200).retry_at == now + timedelta(seconds=7200)
    assert p.decide("completed", 1, now).final_state == "completed"
    assert p.decide("wrong_number", 1, now).final_state == "wrong_number"
    assert p.decide("bad_number", 1, now).final_state == "failed"
    assert p.decide("something_new", 1, now).retry_at is not None  # unknown outcomes retry like "failed"


@pytest.mark.parametrize("bad", [{"busy": 3}, {"busy": {"delays": "soon"}}, {"busy": {"delays": [-1]}},
                                 {"busy": {"max_attempts": 0}}])
def test_bad_retry_policies_are_refused(bad):
    with pytest.raises(PolicyError):
        RetryPolicy.from_json(bad)


def test_carrier_announcements_have_their_own_retry_rules():
    from datetime import UTC, datetime, timedelta

    from bot.campaigns.dialing.policy import RetryPolicy

    now = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    p = RetryPolicy()
    assert p.decide("powered_off", 1, now).retry_at == now + timedelta(hours=1)
    assert p.decide("unreachable", 1, now).retry_at == now + timedelta(minutes=30)
    assert p.decide("invalid_number", 1, now).retry_at == now + timedelta(days=1)
    assert p.decide("invalid_number", 2, now).final_state == "failed"  # checked twice: gone
    assert p.decide("busy", 1, now).retry_at == now + timedelta(minutes=10)
    assert p.decide("unreachable", 5, now).final_state == "failed"
    custom = RetryPolicy.from_json({"powered_off": {"delays": [60], "max_attempts": 9}})
    assert custom.decide("powered_off", 3, now).retry_at == now + timedelta(seconds=60)

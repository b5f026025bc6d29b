"""[telephony] settings, secrets and phone masking."""

from __future__ import annotations

import pytest

from bot.calls import NetworkOutcome
from bot.config import from_dict, from_section
from bot.privacy import mask_phone
from bot.telephony.calls.sip_runner import outcome_for
from bot.telephony.detection.answering_machine import GreetingRule
from bot.telephony.settings import Secret, TelephonySettings


def telephony(table: dict) -> TelephonySettings:
    return from_section(TelephonySettings, "telephony", table)


def test_secret_never_shows() -> None:
    s = telephony({"auth_user": "bot", "auth_password": "hunter2"})
    assert "hunter2" not in repr(s) and "hunter2" not in str(s.auth_password)
    assert s.auth_password.reveal() == "hunter2"
    assert repr(Secret("")) == "Secret('')"


def test_masking_keeps_only_the_last_digits() -> None:
    assert mask_phone("+8613812345678") == "+86138****5678"  # the usual 138****5678
    assert mask_phone("sip:13812345678@pbx.example.org") == "sip:138****5678@pbx.example.org"
    assert "1234" not in mask_phone("1234")


def test_parsing_and_clear_errors() -> None:
    s = telephony({"listen": "0.0.0.0:5090", "rtp_ports": "40000-40100", "codecs": ["PCMU"]})
    assert (s.listen, s.rtp_ports, s.codecs) == (("0.0.0.0", 5090), (40000, 40100), ("PCMU",))
    with pytest.raises(ValueError, match="unknown key 'lissen'"):
        telephony({"lissen": "x"})
    with pytest.raises(ValueError, match="codecs must be PCMA and/or PCMU"):
        telephony({"codecs": ["G729"]})
    with pytest.raises(ValueError, match="rtp_ports"):
        telephony({"rtp_ports": "5000-4000"})
    with pytest.raises(ValueError, match="port must be a number"):
        telephony({"listen": "127.0.0.1:sip"})


def test_caller_id_defaults_to_the_agency() -> None:
    config = from_dict({"agency": {"caller_id": "12345"}, "telephony": {}})
    assert TelephonySettings.from_config(config).caller_id == "12345"
    assert from_dict({"agency": {"caller_id": "12345"}, "telephony": {"caller_id": "9"}}).telephony.caller_id == "9"


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(200, NetworkOutcome.ANSWERED), (486, NetworkOutcome.BUSY), (600, NetworkOutcome.BUSY),
     (480, NetworkOutcome.NO_ANSWER), (408, NetworkOutcome.NO_ANSWER), (404, NetworkOutcome.BAD_NUMBER),
     (484, NetworkOutcome.BAD_NUMBER), (603, NetworkOutcome.DECLINED), (503, NetworkOutcome.CONGESTION),
     (488, NetworkOutcome.FAILED), (None, NetworkOutcome.FAILED)],
)
def test_status_to_outcome(status, outcome) -> None:
    assert outcome_for(status) is outcome


def _levels(*segments: tuple[float, float]) -> list[float]:
    """(seconds, level) segments -> 20 ms levels."""
    return [level for seconds, level in segments for _ in range(round(seconds / 0.02))]


@pytest.mark.parametrize(
    ("levels", "verdict"),
    [
        (_levels((0.3, 0), (0.6, 2000), (0.7, 0)), "human"),  # "喂？" then waits
        (_levels((1.6, 0)), "human"),  # silent person
        (_levels((0.2, 0), (1.5, 2000), (0.2, 0), (1.5, 2000), (0.2, 0), (0.8, 2000)), "machine"),  # talks on
        (_levels((0.2, 0), (1.0, 2000), (0.2, 0)), None),  # not decided yet
        (_levels((1.0, 2000), (0.4, 0), (1.0, 2000), (0.6, 0)), "human"),  # two short phrases
    ],
)
def test_answering_machine_rule(levels, verdict) -> None:
    assert GreetingRule(machine_after=3.5).decide(levels) == verdict


async def test_no_phone_number_in_sip_logs(make_endpoint, caplog) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    phone = await make_endpoint(ring_timeout=0.3)
    await phone.dial("sip:+8613812345678@127.0.0.1:9")
    assert caplog.records and "13812345678" not in caplog.text and "5678" in caplog.text

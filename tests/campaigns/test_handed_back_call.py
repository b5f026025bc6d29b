"""A person an operator handed back to the bot is called with `resume_after: handed_back`, so
the resume line does not say the earlier call was cut off (issue 22 item 5)."""

from __future__ import annotations

from datetime import timedelta

from campaign_fakes import Clock, add_campaign
from sqlmodel import select

from bot.campaigns.dialing import claims as ops
from storage.models import Person


def test_a_handed_back_person_is_claimed_with_the_handed_back_resume(db):
    clock = Clock()
    cid = add_campaign(db, people=[("+8613800000001", 1), ("+8613800000002", 1)])

    def hand_back(s):
        person = s.exec(select(Person).where(Person.phone == "+8613800000001")).one()
        person.last_outcome = "returned_to_bot"  # bot.console.cases.resolve(RETURN_TO_BOT)
        s.add(person)

    db.run(hand_back)
    claims = db.run(lambda s: ops.claim_due(s, cid, 2, "w1", clock, timedelta(seconds=600)))
    by_phone = {c.phone: c.variables for c in claims}
    assert by_phone == {"+8613800000001": {"resume_after": "handed_back"}, "+8613800000002": {}}

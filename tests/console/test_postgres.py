"""The console's queries on PostgreSQL: the claim race, resolving, result filters, dashboard.
Needs VERIBOT_TEST_PG_URL (scripts/test.sh sets it; CI always does)."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from bot.console import campaigns, cases, stats
from storage.db import Database
from storage.models import EscalationStatus

from .seed import add_users, seed_cases

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not os.environ.get("VERIBOT_TEST_PG_URL"), reason="VERIBOT_TEST_PG_URL not set")]


@pytest.fixture
def pg() -> Iterator[Database]:
    url = os.environ["VERIBOT_TEST_PG_URL"]
    schema = f"console_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = Database(url, schema=schema)
    db.create_all()
    try:
        yield db
    finally:
        db.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_claim_race_has_one_winner_on_postgres(pg: Database) -> None:
    ids = add_users(pg, *[(f"op{i}", "operator") for i in range(8)])
    case_id = seed_cases(pg)["cases"][0]
    barrier = threading.Barrier(len(ids))
    outcomes: list[str] = []

    def attempt(user_id: int) -> None:
        barrier.wait()
        try:
            pg.run(lambda s: cases.claim(s, case_id, user_id, 15))
            outcomes.append("won")
        except cases.CaseError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=attempt, args=(uid,)) for uid in ids.values()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["taken"] * (len(ids) - 1) + ["won"]


def test_resolve_filters_and_dashboard_on_postgres(pg: Database) -> None:
    ids = add_users(pg, ("op1", "operator"))
    seeded = seed_cases(pg)
    case_id = seeded["cases"][0]
    pg.run(lambda s: cases.claim(s, case_id, ids["op1"], 15))
    pg.run(lambda s: cases.resolve(s, case_id, ids["op1"], {"health_code": "red"}, "", cases.Resolution.CLOSE))
    view = pg.run(lambda s: cases.load_case(s, case_id), write=False)
    assert view.escalation.status == EscalationStatus.RESOLVED and view.slots["health_code"] == "red"
    rows = pg.run(lambda s: campaigns.results(s, seeded["campaign"], campaigns.ResultFilter(health_code="red")),
                  write=False)
    assert [r["person"].id for r in rows] == [view.person.id]
    figures = pg.run(lambda s: stats.dashboard(s, seeded["campaign"]), write=False)
    assert figures["health_codes"] == {"red": 1} and figures["escalation_reasons"] == {"unresolved": 3}
    assert sum(figures["calls_per_hour"]) == 3

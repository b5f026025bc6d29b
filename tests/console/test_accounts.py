"""`veribot users`, session timeouts, and the users page."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from aiohttp.test_utils import TestClient
from sqlmodel import select

from bot.console import auth
from storage.db import Database
from storage.models import AuditEvent, User, WebSession, utcnow

from .conftest import REPO, csrf_of, login
from .seed import add_users


def veribot(config: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "users", *args, "--config", str(config)],
                          input=stdin, capture_output=True, text=True, cwd=REPO, timeout=60)


def test_users_cli_adds_lists_and_disables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    config = tmp_path / "config.toml"
    config.write_text(f'[service]\nvar_dir = "{tmp_path}"\n[database]\nurl = "{url}"\n')
    added = veribot(config, "add", "alice", "--role", "operator", "--password-stdin", stdin="a good long password\n")
    assert added.returncode == 0, added.stderr
    assert "a good long password" not in added.stdout + added.stderr
    short = veribot(config, "add", "bob", "--role", "admin", "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "at least 10" in short.stderr
    again = veribot(config, "add", "alice", "--role", "admin", "--password-stdin", stdin="a good long password\n")
    assert again.returncode == 1 and "exists" in again.stderr
    assert veribot(config, "disable", "alice").returncode == 0
    listed = veribot(config, "list")
    assert listed.stdout.split() == ["alice", "operator", "disabled"]
    db = Database(url)
    try:
        user = db.run(lambda s: s.exec(select(User)).one(), write=False)
        assert user.password_hash.startswith("$argon2id$")
        actions = db.run(lambda s: [a.action for a in s.exec(select(AuditEvent)).all()], write=False)
        assert actions == ["user.add", "user.disable"]
    finally:
        db.dispose()


def test_idle_and_absolute_timeouts_end_sessions(database: Database) -> None:
    ids = add_users(database, ("op1", "operator"))
    idle, absolute = timedelta(minutes=30), timedelta(hours=12)
    token = database.run(lambda s: auth.start_session(s, ids["op1"], "127.0.0.1"))
    assert database.run(lambda s: auth.resume_session(s, token, idle, absolute)) is not None

    def age(**kw: timedelta) -> None:
        def change(s):
            ws = s.exec(select(WebSession)).one()
            for k, v in kw.items():
                setattr(ws, k, utcnow() - v)
            s.add(ws)
        database.run(change)

    age(last_seen_at=timedelta(minutes=31))
    assert database.run(lambda s: auth.resume_session(s, token, idle, absolute)) is None
    assert database.run(lambda s: s.exec(select(WebSession)).all(), write=False) == []
    token = database.run(lambda s: auth.start_session(s, ids["op1"], "127.0.0.1"))
    age(created_at=timedelta(hours=13))
    assert database.run(lambda s: auth.resume_session(s, token, idle, absolute)) is None


def test_throttle_window_passes() -> None:
    t = auth.LoginThrottle(max_failures=2, lockout=60)
    t.failed("op1", "10.0.0.1", now=0)
    t.failed("op1", "10.0.0.2", now=1)
    assert t.blocked("op1", "10.0.0.3", now=2)  # per username, whatever the address
    assert t.blocked("OP1", "10.0.0.3", now=2)
    assert not t.blocked("op1", "10.0.0.3", now=62)


async def test_admin_adds_and_disables_users_in_the_browser_form(client: TestClient, database: Database) -> None:
    add_users(database, ("admin1", "admin"))
    await login(client, "admin1")
    token = await csrf_of(client, "/users")
    page = await (await client.get("/users")).text()
    assert '<option value="operator" selected>' in page  # the least powerful role that works cases
    typo = await client.post("/users", data={"csrf": token, "username": "carol", "role": "viewer",
                                             "password": "another long one", "password2": "another long 1"})
    assert typo.status == 400
    page = await typo.text()
    assert "The two passwords differ." in page and 'value="carol"' in page and '<option value="viewer" selected>' in page
    assert "another long" not in page
    resp = await client.post("/users", data={"csrf": token, "username": "carol", "role": "viewer",
                                             "password": "another long one", "password2": "another long one"},
                             allow_redirects=False)
    assert resp.status == 303
    carol = database.run(lambda s: s.exec(select(User).where(User.username == "carol")).one(), write=False)
    assert carol.role == "viewer"
    bad = await client.post("/users", data={"csrf": token, "username": "x y", "role": "viewer",
                                            "password": "another long one", "password2": "another long one"})
    assert bad.status == 400
    resp = await client.post(f"/users/{carol.id}/disabled", data={"csrf": token, "disabled": "1"},
                             allow_redirects=False)
    assert resp.status == 303
    assert database.run(lambda s: s.get(User, carol.id), write=False).disabled

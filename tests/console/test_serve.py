"""`veribot serve`: starts the console on the configured port, says what it runs without,
and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from storage.db import Database

from .live import Server, write_config


def test_serve_starts_reports_missing_parts_and_stops_cleanly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    config = write_config(tmp_path, url)
    # the dialer on, the SIP endpoint off: the dialer cannot place calls and says so
    config.write_text(config.read_text().replace("dialer = false", "dialer = true"))
    server = Server(config, tmp_path / "serve.log")
    try:
        with urllib.request.urlopen(server.base + "/healthz", timeout=5) as r:
            assert json.load(r) == {"ok": True}
        with urllib.request.urlopen(server.base + "/login", timeout=5) as r:
            assert r.url.endswith("/setup")  # a fresh database: first-run set-up
    finally:
        server.stop()
    assert server.proc.returncode == 0
    log = server.log()
    assert "web console on http://127.0.0.1:" in log
    assert "campaign dialer not" in log  # not available / not started: named, not silent
    assert "stopping" in log
    db = Database(url)  # serve migrated the database
    try:
        assert db.run(lambda s: s.connection().exec_driver_sql("SELECT count(*) FROM app_user").scalar(),
                      write=False) == 0
    finally:
        db.dispose()

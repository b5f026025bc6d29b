"""`veribot serve`: starts the console on the configured port, says what it runs without,
and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import urllib.request
from pathlib import Path

import pytest

from bot.cli.serve import missing_programs, serve
from bot.config import Config, from_dict
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


def test_serve_runs_the_sip_endpoint_and_dialer_when_enabled(tmp_path: Path) -> None:
    from .live import free_port

    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'all.db'}")
    text = config.read_text().replace("dialer = false", "dialer = true").replace("sip = false", "sip = true")
    text += f'\n[telephony]\nlisten = "127.0.0.1:{free_port()}"\n\n[speech]\nmodels_dir = "{tmp_path / "no-models"}"\n'
    config.write_text(text)
    server = Server(config, tmp_path / "serve.log")
    try:
        with urllib.request.urlopen(server.base + "/healthz", timeout=5) as r:
            assert r.status == 200
    finally:
        server.stop()
    log = server.log()
    assert server.proc.returncode == 0, log
    assert "SIP endpoint started" in log and "campaign dialer started" in log
    # no Vosk model for zh-CN here: how its calls are heard instead is said, not hidden
    assert "speech zh-CN: " in log and ("hearing with Whisper base" in log or "keys only" in log), log
    assert "Traceback" not in log


def test_a_part_that_fails_to_import_stops_serve_loudly(monkeypatch) -> None:
    """An ImportError is a bug in the installation, not a part to run without."""
    monkeypatch.setitem(sys.modules, "bot.telephony.calls.worker_endpoint", None)  # importing it raises ImportError
    with pytest.raises(ImportError, match="bot.telephony.calls.worker_endpoint"):
        asyncio.run(serve(Config(), "127.0.0.1", 0, stop=asyncio.Event()))


def test_a_missing_espeak_ng_is_named(monkeypatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert missing_programs(from_dict({})) == ["espeak-ng"]
    assert missing_programs(from_dict({"speech": {"tts_engine": "pyttsx3"}})) == []
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    assert missing_programs(from_dict({})) == []


def test_the_worker_entry_point_sets_the_gil_switch_interval_once(monkeypatch) -> None:
    from bot.worker import SWITCH_INTERVAL, configure_worker_process

    monkeypatch.setattr(sys, "getswitchinterval", lambda: 0.005)
    set_to = []
    monkeypatch.setattr(sys, "setswitchinterval", set_to.append)
    configure_worker_process()
    monkeypatch.setattr(sys, "getswitchinterval", lambda: 0.0001)  # someone chose lower: kept
    configure_worker_process()
    assert set_to == [SWITCH_INTERVAL, 0.0001]

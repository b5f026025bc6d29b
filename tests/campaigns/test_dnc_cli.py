"""`veribot dnc add|remove|list` through bot.cli.main: audited, masked in messages, exit 2 for a bad number."""

from __future__ import annotations

import json

from sqlmodel import select

from bot.cli import main
from storage.db import Database
from storage.models import AuditEvent


def test_add_list_remove(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[service]\nvar_dir = "var"\n', encoding="utf-8")
    assert main(["dnc", "list", "--config", str(cfg)]) == 0
    assert "empty" in capsys.readouterr().err
    assert main(["dnc", "add", "138 0013 8000", "--reason", "本人要求", "--by", "王芳", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "+86138****8000" in out and "13800138000" not in out
    assert main(["dnc", "list", "--json", "--config", str(cfg)]) == 0
    row = json.loads(capsys.readouterr().out)
    assert (row["phone"], row["kind"], row["until"], row["added_by"], row["reason"]) == (
        "+8613800138000", "manual", None, "王芳", "本人要求")
    assert main(["dnc", "add", "12", "--config", str(cfg)]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert main(["dnc", "remove", "+8613800138000", "--by", "王芳", "--config", str(cfg)]) == 0
    assert main(["dnc", "remove", "+8613800138000", "--config", str(cfg)]) == 1
    db = Database(f"sqlite:///{tmp_path / 'var' / 'veribot.db'}")
    audit = db.run(lambda s: s.exec(select(AuditEvent).where(AuditEvent.action.like("dnc.%"))).all(), write=False)
    assert [(a.actor, a.action, a.source) for a in audit] == [("王芳", "dnc.add", "cli"), ("王芳", "dnc.remove", "cli")]
    assert all("138" not in a.detail for a in audit)

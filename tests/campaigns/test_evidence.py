"""Notice evidence (issue 15 item 3): `veribot evidence export` writes a person's bundle —
attempts, the script version, turns with line times, the notice's reply clip, answers,
callbacks — hash-chained and Ed25519-signed with a key made on first use (0600);
`veribot evidence verify` exits 0 on it and non-zero, with the reason, on any changed byte."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from datetime import timedelta

import pytest

from bot.campaigns.people.evidence import BundleError, build_bundle, signing_key, verify_bundle, verify_file
from bot.cli import main
from bot.config import load_config
from storage.db import Database
from storage.models import (
    Attempt,
    AttemptState,
    Campaign,
    DialogVersion,
    InboundCall,
    Person,
    PersonState,
    Result,
    Turn,
    utcnow,
)

CLIP = b"RIFF" + bytes(range(256)) * 8  # stands for the resident's reply clip


@pytest.fixture
def setup(tmp_path, monkeypatch):
    var = tmp_path / "var"
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[service]\nvar_dir = "{var}"\n', encoding="utf-8")
    monkeypatch.setenv("VERIBOT_CONFIG", str(cfg))
    config = load_config(cfg)
    db = Database.from_config(config)
    db.upgrade()
    audio = var / "audio" / "a1"
    audio.mkdir(parents=True)
    (audio / "07-notice.wav").write_bytes(CLIP)
    t0 = utcnow() - timedelta(hours=1)

    def seed(s):
        c = Campaign(name="c1")
        s.add(c)
        s.flush()
        p = Person(campaign_id=c.id, name="张三", phone="+8613800138000", state=PersonState.COMPLETED)
        s.add(p)
        s.add(DialogVersion(name="verification", locale="zh-CN", version="v1abc", yaml_text="name: verification\n"))
        s.flush()
        a = Attempt(person_id=p.id, campaign_id=c.id, phone=p.phone, state=AttemptState.ENDED, claimed_at=t0,
                    started_at=t0, ended_at=t0 + timedelta(minutes=3), outcome="completed",
                    dialog_name="verification", dialog_version="v1abc", call_code="472109", audio_dir=str(audio))
        s.add(a)
        s.flush()
        s.add(Turn(attempt_id=a.id, seq=1, speaker="bot", step="notice", kind="prompt",
                   text="根据防控规定，请您即日起居家隔离。", at=t0))
        s.add(Turn(attempt_id=a.id, seq=2, speaker="caller", step="notice", text="好的", at=t0, line_at=96.42,
                   audio_path=str(audio / "07-notice.wav")))
        s.add(Result(attempt_id=a.id, person_id=p.id, campaign_id=c.id, slot="notice_ack", value="yes",
                     dialog_version="v1abc"))
        s.add(InboundCall(phone=p.phone, person_id=p.id, campaign_id=c.id, verified=True, outcome="genuine",
                          code_attempt_id=a.id))

    db.run(seed)
    db.dispose()
    return tmp_path, config


def _veribot(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *argv], capture_output=True, text=True, timeout=120,
                          env={**os.environ})


def test_export_then_verify_and_a_changed_byte_is_detected(setup) -> None:
    tmp, config = setup
    out = tmp / "bundle.json"
    done = _veribot("evidence", "export", "--person", "1", "-o", str(out))
    assert done.returncode == 0, done.stderr
    key = config.var_dir / "evidence" / "signing.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and (key.with_suffix(".pub")).exists()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600

    bundle = json.loads(out.read_bytes())
    kinds = [e["kind"] for e in bundle["entries"]]
    assert kinds == ["person", "attempt", "script", "turn", "turn", "result", "callback"]
    attempt, script, bot, reply = bundle["entries"][1:5]
    assert attempt["call_code"] == "472109" and attempt["dialog_version"] == "v1abc"
    assert script["yaml"] == "name: verification\n"
    assert bot["text"].startswith("根据防控规定") and bot["audio"] is None
    assert reply["line_at"] == 96.42 and base64.b64decode(reply["audio"]["data"]) == CLIP

    ok = _veribot("evidence", "verify", str(out))
    assert ok.returncode == 0 and "intact, 7 entries" in ok.stdout, ok.stderr
    ok = _veribot("evidence", "verify", str(out), "--public-key", str(key.with_suffix(".pub")))
    assert ok.returncode == 0, ok.stderr

    raw = out.read_bytes()
    i = raw.index("好的".encode())  # the resident's words
    changed = raw[:i] + "好吧".encode() + raw[i + len("好的".encode()):]
    (tmp / "changed.json").write_bytes(changed)
    bad = _veribot("evidence", "verify", str(tmp / "changed.json"))
    assert bad.returncode == 1 and "NOT INTACT" in bad.stderr and "content changed" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_every_changed_byte_is_detected(setup) -> None:
    tmp, config = setup
    key = signing_key(tmp / "k" / "signing.key")
    db = Database.from_config(config)
    try:
        bundle = db.run(lambda s: build_bundle(s, 1, key, audio_roots=[config.var_dir]), write=False)
    finally:
        db.dispose()
    from bot.campaigns.people.evidence import canonical

    raw = canonical(bundle) + b"\n"
    assert verify_file(raw)[1] == 7
    step = max(1, len(raw) // 600)
    for i in [*range(0, len(raw), step), len(raw) - 1]:
        flipped = raw[:i] + bytes([raw[i] ^ 0x01]) + raw[i + 1:]
        with pytest.raises(ValueError):  # BundleError, bad JSON or bad UTF-8: all ValueErrors
            verify_file(flipped)


def test_dropped_entries_another_key_and_a_readable_key_are_refused(setup, tmp_path) -> None:
    tmp, config = setup
    key = signing_key(tmp / "k" / "signing.key")
    other = signing_key(tmp / "k2" / "signing.key")
    db = Database.from_config(config)
    try:
        bundle = db.run(lambda s: build_bundle(s, 1, key), write=False)
    finally:
        db.dispose()
    cut = {**bundle, "entries": bundle["entries"][:-1]}
    with pytest.raises(BundleError, match="head"):
        verify_bundle(cut)
    with pytest.raises(BundleError, match="another key"):
        verify_bundle(bundle, other.public_key())
    assert verify_bundle(bundle, key.public_key()) == 7
    (tmp / "k" / "signing.key").chmod(0o644)
    from bot.campaigns.people.evidence import SigningKeyError

    with pytest.raises(SigningKeyError, match="readable by others"):
        signing_key(tmp / "k" / "signing.key")


def test_user_errors_are_one_line(setup, capsys) -> None:
    tmp, _ = setup
    assert main(["evidence", "export", "--person", "999", "-o", str(tmp / "x.json")]) == 2
    assert "no person 999" in capsys.readouterr().err
    assert main(["evidence", "verify", str(tmp / "missing.json")]) == 2
    (tmp / "junk.json").write_text("not json")
    assert main(["evidence", "verify", str(tmp / "junk.json")]) == 1
    assert "NOT INTACT" in capsys.readouterr().err


def test_verify_takes_the_config_and_checks_the_desks_key(setup, tmp_path, capsys) -> None:
    """issue 22 CLI: `evidence verify --config` was rejected; with it the bundle must be signed
    by that desk's key."""
    tmp, config = setup
    out = tmp / "bundle.json"
    assert main(["evidence", "export", "--person", "1", "-o", str(out)]) == 0
    cfg = os.environ["VERIBOT_CONFIG"]
    assert main(["evidence", "verify", str(out), "--config", cfg]) == 0
    other = tmp_path / "other.toml"
    other.write_text(f'[service]\nvar_dir = "{tmp_path / "other-var"}"\n', encoding="utf-8")
    signing_key(tmp_path / "other-var" / "evidence" / "signing.key")
    capsys.readouterr()
    assert main(["evidence", "verify", str(out), "--config", str(other)]) == 1
    assert "signed by another key" in capsys.readouterr().err

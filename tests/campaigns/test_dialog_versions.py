"""Which script a campaign's calls run: the published version of the campaign's own locale."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.campaigns.scripts.dialog_versions import ScriptSource
from storage.models import Campaign, DialogVersion

ROOT = Path(__file__).resolve().parents[2]


def _publish(db, path: Path, marker: str) -> None:
    text = path.read_text(encoding="utf-8").replace("description:", f"# {marker}\ndescription:", 1)
    from bot.dialog.script import load_script_text

    script = load_script_text(text)
    db.run(lambda s: s.add(DialogVersion(name=script.name, locale=script.locale, version=script.version,
                                         yaml_text=text, active=True)))


def test_published_version_of_the_campaigns_locale(db):
    zh, en = ROOT / "dialogs" / "verification.zh-CN.yaml", ROOT / "dialogs" / "verification.en-US.yaml"
    source = ScriptSource(db, ROOT)
    camp = Campaign(name="c", dialog_name="verification", dialog_path=str(zh))
    assert source.for_campaign(camp).source == zh.read_text(encoding="utf-8")  # nothing published: the file
    _publish(db, zh, "zh published")
    _publish(db, en, "en published later")
    script = source.for_campaign(camp)
    assert script.locale == "zh-CN" and "# zh published" in script.source
    camp_en = Campaign(name="e", dialog_name="verification", dialog_path="dialogs/verification.en-US.yaml")
    assert "# en published later" in source.for_campaign(camp_en).source


def test_missing_file_and_nothing_published_is_a_clear_error(db):
    camp = Campaign(name="c", dialog_name="nope", dialog_path="dialogs/nope.yaml")
    with pytest.raises(FileNotFoundError, match="dialogs/nope.yaml"):
        ScriptSource(db, ROOT).for_campaign(camp)


def test_calls_get_the_takes_of_the_version_they_run(db):
    """Recorded prompts: ScriptSource hands each call the takes of its script's version, and
    a replaced take is picked up without a restart."""
    from bot.campaigns.scripts import prompt_recordings

    zh = ROOT / "dialogs" / "verification.zh-CN.yaml"
    source = ScriptSource(db, ROOT)
    camp = Campaign(name="c", dialog_name="verification", dialog_path=str(zh))
    script = source.for_campaign(camp)
    assert source.recordings_for(script) == {}
    db.run(lambda s: prompt_recordings.save(s, script, "请问您是", b"\x01\x00" * 800, "admin"))
    assert source.recordings_for(script) == {"请问您是": b"\x01\x00" * 800}
    db.run(lambda s: prompt_recordings.save(s, script, "请问您是", b"\x02\x00" * 800, "admin"))
    assert source.recordings_for(script) == {"请问您是": b"\x02\x00" * 800}
    _publish(db, zh, "a new version")  # published without the console: no take carried to it
    assert source.recordings_for(source.for_campaign(camp)) == {}

"""The documentation: a README a newcomer reads in five minutes, and the MkDocs site built from
docs/ with --strict, so a broken link or a page missing from the site fails the suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_is_short_and_says_the_two_set_up_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    assert "scripts/bootstrap run" in text and "scripts/bootstrap test" in text
    for link in ("docs/guide/architecture.md", "docs/guide/telephony.md", "docs/guide/campaigns.md"):
        assert (ROOT / link).is_file() and link in text


def test_the_site_builds_strict(tmp_path: Path) -> None:
    # mkdocs is a dev dependency (pyproject.toml [dev]); a missing one fails here rather than skipping
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "site" / "guide" / "architecture" / "index.html").is_file()


def test_a_broken_link_fails_the_build(tmp_path: Path) -> None:
    """The check can fail: a copy of the docs with one dead link does not build."""
    import shutil

    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    (tmp_path / "docs" / "broken.md").write_text("# Broken\n\nSee [nowhere](no-such-page.md).\n", encoding="utf-8")
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "no-such-page.md" in done.stderr

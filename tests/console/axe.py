"""axe-core (Deque's accessibility engine) run inside chromium on a console page. The package is
project-local under var/node (scripts/install-system.sh installs it; this helper installs it with
npm when it is missing, so a fresh machine's test run gets it too)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from .live import REPO

AXE_VERSION = "4.14.1"
AXE_JS = REPO / "var" / "node" / "node_modules" / "axe-core" / "axe.min.js"


def axe_source() -> str:
    if not AXE_JS.exists():
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(REPO / "var" / "node"),
                        f"axe-core@{AXE_VERSION}"], check=True, timeout=300)
    return Path(AXE_JS).read_text(encoding="utf-8")


def violations(page: Any) -> list[dict[str, Any]]:
    """axe's WCAG 2 A/AA violations on the page as it is now: [{id, nodes: [target…]}]."""
    page.add_script_tag(content=axe_source())
    found = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}});
        return r.violations.map(v => ({id: v.id, nodes: v.nodes.map(n => n.target.join(' ') + ' ' + (n.failureSummary || ''))}));
    }""")
    return list(found)

"""Uploading a list of people into a campaign through the campaigns area's import (the same
code as `veribot people import`): every row checked, all stored or none, errors by row.
The file is parsed in the console's worker process (at most PARSE_TIMEOUT seconds), so a
large or hostile upload never stalls other users or the live queue."""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bot.campaigns.people.list_import import ImportRejected, parse_people, read_table, store_people
from bot.console.context import Console
from bot.console.worker import ProcessWorker
from storage.models import Campaign

ROW_RX = re.compile(r"^row (\d+): (.*)$", re.S)
SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
PARSE_TIMEOUT = 120.0  # a million good rows take about a minute
_worker: ProcessWorker | None = None


@dataclass(frozen=True)
class RowError:
    row: int | None  # None: about the whole file
    message: str


@dataclass(frozen=True)
class UploadReport:
    imported: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def row_errors(problems: list[str]) -> list[RowError]:
    out = []
    for p in problems:
        m = ROW_RX.match(p)
        out.append(RowError(int(m.group(1)), m.group(2)) if m else RowError(None, p))
    return out


def _parse(data: bytes, filename: str, upload_dir: Path, region: str, columns: dict | None):
    """Parse the upload via a private temporary file (read_table reads files), removed at once."""
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise ImportRejected([f"file: unsupported type {suffix or '(none)'}; use .csv or .xlsx"])
    upload_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, name = tempfile.mkstemp(suffix=suffix, dir=upload_dir)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return parse_people(read_table(Path(name)), region, columns)
    finally:
        os.unlink(name)


async def import_upload(ctx: Console, campaign: Campaign, filename: str, data: bytes, actor: str) -> UploadReport:
    global _worker
    if _worker is None:
        _worker = ProcessWorker(PARSE_TIMEOUT, "people upload check")
    section = ctx.campaigns_config
    try:
        report = await _worker.run(_parse, data, filename, ctx.var_dir / "uploads",
                                   section.get("region", "CN"), section.get("columns"))
    except ImportRejected as exc:
        return UploadReport(errors=row_errors(exc.problems))
    except TimeoutError:
        return UploadReport(errors=[RowError(None, f"checking the file took longer than {PARSE_TIMEOUT:g} s; "
                                                   "split it into smaller files")])
    assert campaign.id is not None
    stored = await ctx.database.arun(lambda s: store_people(s, campaign.id, report, actor=actor))
    return UploadReport(imported=stored.added, updated=stored.updated)

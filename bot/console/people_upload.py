"""Uploading a list of people into a campaign, through the campaigns area's import (the
same code as `veribot people import`): all rows or none, errors reported by row number."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.console.context import Console
from storage.models import Campaign


@dataclass(frozen=True)
class RowError:
    row: int
    message: str


@dataclass(frozen=True)
class UploadReport:
    imported: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


async def import_upload(ctx: Console, campaign: Campaign, filename: str, data: bytes) -> UploadReport:
    raise NotImplementedError

"""Hostile files shared by the robustness tests of several areas."""

from __future__ import annotations

import zipfile
from pathlib import Path

from openpyxl import Workbook


def bomb_xlsx(path: Path, unpacked_mb: int = 20) -> Path:
    """A real workbook whose sheet is padded with whitespace: ~1000x compression, as a zip bomb is."""
    good = path.with_suffix(".good.xlsx")
    wb = Workbook()
    wb.active.append(["姓名", "电话"])
    wb.active.append(["甲", "13800138000"])
    wb.save(good)
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * (unpacked_mb * 1024 * 1024))
            dst.writestr(item, data, zipfile.ZIP_DEFLATED)
    return path

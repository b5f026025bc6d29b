"""`veribot people import` of a generated list (Chinese headers, local-format phones, 1% duplicates).

    .venv/bin/python benchmarks/import_bench.py [--rows 100000] [--xlsx]

Times the whole command (process start to exit) into a fresh SQLite database and prints the
machine it ran on. Acceptance: 100,000 valid rows in under 10 s.
"""

from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine_info import describe

ROOT = Path(__file__).resolve().parents[1]
CATEGORIES = ["密接", "次密接", "一般接触", ""]
DISTRICTS = ["城关区", "七里河区", "西固区", "安宁区", "红古区"]



def rows(n: int, rng: random.Random):
    yield ["姓名", "手机号", "住址", "类别", "优先级", "备注"]
    for i in range(n):
        k = i if rng.random() > 0.01 else rng.randrange(max(i, 1))  # ~1% repeat an earlier number
        yield [f"测试{i}", f"1{'3589'[k % 4]}{k:09d}", f"兰州市{rng.choice(DISTRICTS)}某路{i % 500}号",
               rng.choice(CATEGORIES), "", "批量导入" if i % 10 == 0 else ""]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--xlsx", action="store_true", help="also time the same list as .xlsx")
    args = ap.parse_args()
    print(describe())
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        files = [tmpd / "people.csv"]
        with files[0].open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows(rows(args.rows, rng))
        if args.xlsx:
            from openpyxl import Workbook

            wb = Workbook(write_only=True)
            ws = wb.create_sheet()
            for r in csv.reader(files[0].open(encoding="utf-8")):
                ws.append(r)
            wb.save(tmpd / "people.xlsx")
            files.append(tmpd / "people.xlsx")
        for f in files:
            cfg = tmpd / f"{f.suffix[1:]}.toml"
            cfg.write_text(f'[service]\nvar_dir = "{tmpd / f.suffix[1:]}"\n', encoding="utf-8")
            cmd = [str(ROOT / ".venv/bin/veribot"), "people", "import", str(f), "--campaign", "bench",
                   "--config", str(cfg)]
            t = time.perf_counter()
            done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            secs = time.perf_counter() - t
            if done.returncode != 0:
                print(done.stderr, file=sys.stderr)
                return 1
            print(f"{f.suffix[1:]}: {args.rows} rows in {secs:.2f} s (whole command) -> {done.stdout.strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

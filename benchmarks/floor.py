"""The I/O floor: only the work no audit can avoid, in one process.

Reads every return in a folder with python-calamine (the form's input sheet) and writes,
per return, one plain xlsxwriter workbook holding as many cells as the tool's provider
workbook (same in-memory option as the tool). Prints one JSON line: wall seconds per
part, total, and peak memory.

    python benchmarks/floor.py INBOX OUT --cells 520
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inbox", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--cells", type=int, required=True, help="cells per provider workbook")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    from python_calamine import CalamineWorkbook
    import xlsxwriter

    files = sorted(p for p in args.inbox.rglob("*.xlsx") if p.is_file())
    t_read = time.perf_counter()
    grids = []
    for path in files:
        workbook = CalamineWorkbook.from_path(str(path))
        grids.append(workbook.get_sheet_by_name("Aanlevering").to_python(skip_empty_area=False))
    t_write = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    columns = 8
    rows = -(-args.cells // columns)
    for i, grid in enumerate(grids):
        book = xlsxwriter.Workbook(str(args.out / f"{i:05d}.xlsx"), {"in_memory": True})
        sheet = book.add_worksheet("Blad1")
        text = str(grid[0][0]) if grid and grid[0] else "x"
        written = 0
        for r in range(rows):
            for c in range(columns):
                if written == args.cells:
                    break
                sheet.write_string(r, c, f"{text} {r}.{c}")
                written += 1
        book.close()
    end = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "files": len(files),
                "read_s": round(t_write - t_read, 3),
                "write_s": round(end - t_write, 3),
                "total_s": round(end - start, 3),
                "peak_mb": round(peak_mb, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

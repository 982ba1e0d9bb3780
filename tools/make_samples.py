"""Write sample returns (not installed with the package; see tools/samples.py).

    python tools/make_samples.py sample_workbooks                     # the sample region
    python tools/make_samples.py /tmp/veel --aantal 10000 --zaad 2025 # many random returns
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from samples import BUDGET_FILE, write_returns, write_sample_region


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python tools/make_samples.py",
        description="Schrijf voorbeeldopgaven: zonder --aantal de opgaven van Regio Eemvallei, met --aantal N "
        "zoveel willekeurige ingevulde opgaven (voor metingen).",
    )
    parser.add_argument("map", type=Path, help="de map voor de opgaven")
    parser.add_argument("--aantal", type=int, help="aantal willekeurige opgaven")
    parser.add_argument("--zaad", type=int, default=0, help="startwaarde van het toeval (standaard 0)")
    parser.add_argument("--jobs", type=int, help="aantal processen (standaard: een per processorkern)")
    args = parser.parse_args(argv)
    if args.aantal is None:
        for path in write_sample_region(args.map):
            print(path.name + (" (geen opgave)" if path.name == BUDGET_FILE else ""))
        return 0
    start = time.perf_counter()
    written = write_returns(args.map, args.aantal, args.zaad, jobs=args.jobs)
    print(f"{len(written)} opgaven geschreven in {args.map} ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark the audit against the I/O floor.

    python benchmarks/bench.py --n 1000 --jobs 1 --jobs 2
    python benchmarks/bench.py --n 1000 --n 10000 --jobs 2     # also: how the time scales

1. Generates N realistic filled returns from the form (seeded, mixed statuses) into a
   cache folder (reused when it already holds the same N and seed), with
   ``tools/samples.py``: the blank form filled in with openpyxl, in one process per core.
2. Runs the audit in a fresh process per ``--jobs`` value and reports wall time per
   stage (find files, read, normalise, validate, provider workbooks, overview), the
   process's total wall time and peak memory (main process and largest worker).
3. Runs ``floor.py`` (calamine reads + one plain xlsxwriter workbook per return with as
   many cells as a provider workbook) in a fresh process, and prints audit ÷ floor.

Audits and floor are measured in ``--rounds`` interleaved rounds (default 2) and the
fastest run of each counts: the speed of a shared virtual machine drifts by up to 30%.
A second ``--n`` is audited in the same rounds (with the last ``--jobs``) and compared
with the first: time and peak memory at scale, measured beside the reference.

Both totals are whole-process wall times (interpreter start and imports included),
measured in the same run on the same files. The audit process ends as the
``kvcompliance`` program does (``kvcompliance.cli.leave``: streams flushed, no interpreter
teardown).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def generate(folder: Path, n: int, seed: int) -> None:
    """N filled-in returns in ``folder`` (tools/samples.py), unless it holds them already."""
    marker = folder / f".bench-{n}-{seed}-openpyxl"  # the returns as tools/samples.py writes them
    if marker.exists():
        return
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    sys.path.insert(0, str(HERE.parent / "tools"))
    from samples import write_returns

    start = time.perf_counter()
    write_returns(folder, n, seed)  # in one process per core
    marker.write_text("")
    print(f"  {n} opgaven gemaakt in {time.perf_counter() - start:.1f} s ({folder})", file=sys.stderr)


def measure(inbox: Path, out: Path, jobs: int) -> dict:
    """Run the audit in this process with a stopwatch (called in a fresh process)."""
    start = time.perf_counter()
    from kvcompliance.audit import Stopwatch, run_audit, write_reports

    imported = time.perf_counter()
    stopwatch = Stopwatch()
    result = run_audit(inbox, jobs=jobs, stopwatch=stopwatch)
    write_reports(result, out, jobs=jobs, stopwatch=stopwatch)
    end = time.perf_counter()
    return {
        "returns": len(result.returns),
        "rejected": len(result.rejected),
        "import_s": round(imported - start, 3),
        "stages": {k: round(v, 3) for k, v in stopwatch.times.items()},
        "in_process_s": round(end - start, 3),
        "peak_main_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_worker_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
    }


def cells_per_workbook(folder: Path, sample: int = 20) -> int:
    """Average number of cells in the tool's provider workbooks (from their sheet XML)."""
    counts = []
    for path in sorted(folder.iterdir())[:sample]:
        with zipfile.ZipFile(path) as archive:
            counts.append(
                sum(
                    len(re.findall(rb"<c ", archive.read(name)))
                    for name in archive.namelist()
                    if name.startswith("xl/worksheets/sheet")
                )
            )
    return round(sum(counts) / len(counts))


def write_register(path: Path, n: int) -> None:
    """A contract register of ``n`` contracts over all sectors (for --formulieren)."""
    sectors = ("jeugdhulp", "wmo", "onderwijs", "kinderopvang", "welzijn", "jgz", "sport", "overig")
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["contractnummer;aanbieder_naam;kvk_nummer;sector;contact_email"]
    lines += [f"EV-{i:05d};Aanbieder {i};{10_000_000 + i:08d};{sectors[i % len(sectors)]};info@aanbieder{i}.nl" for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_child(args: list[str]) -> tuple[float, dict]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    return wall, json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark kvcompliance audit tegen de I/O-vloer.")
    parser.add_argument("--n", type=int, action="append", help="aantal opgaven; een tweede --n meet ook de schaal")
    parser.add_argument("--jobs", type=int, action="append", help="aantal processen (herhaalbaar)")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--rounds", type=int, default=2, help="metingen per onderdeel; de snelste telt")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "kvcompliance-bench")
    parser.add_argument("--formulieren", action="store_true", help="meet ook template --contracten voor N contracten")
    parser.add_argument("--measure", nargs=2, type=Path, metavar=("INBOX", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.measure:
        print(json.dumps(measure(args.measure[0], args.measure[1], (args.jobs or [1])[0])))
        from kvcompliance.cli import leave

        leave(0)  # the program ends this way too (kvcompliance.cli.run)

    jobs_list = args.jobs or [1, os.cpu_count() or 1]
    n, scale_n = (args.n or [1000])[0], (args.n or [])[1:2]
    inbox = args.cache / f"opgaven-{n}-{args.seed}"
    print(f"kvcompliance benchmark: N = {', '.join(map(str, [n, *scale_n]))}, machine: {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}", file=sys.stderr)
    generate(inbox, n, args.seed)
    for big in scale_n:
        generate(args.cache / f"opgaven-{big}-{args.seed}", big, args.seed)
    scale_jobs = jobs_list[-1]
    scale_runs: list[tuple[float, dict]] = []

    runs: dict[int, list[tuple[float, dict]]] = {jobs: [] for jobs in jobs_list}
    forms: list[float] = []
    register = args.cache / f"contracten-{n}.csv"
    if args.formulieren and not register.exists():
        write_register(register, n)
    cells = None
    floors = []
    with tempfile.TemporaryDirectory(prefix="kvbench-") as tmp:

        def floor_run() -> None:
            floor_dir = Path(tmp) / "vloer"
            floors.append(run_child([str(HERE / "floor.py"), str(inbox), str(floor_dir), "--cells", str(cells)]))
            shutil.rmtree(floor_dir, ignore_errors=True)

        # Rounds of floor and audits, interleaved: this machine's speed drifts, so each is
        # measured in every round and its fastest run counts.
        for _ in range(args.rounds):
            for jobs in jobs_list:
                out = Path(tmp) / f"uit-{jobs}"
                runs[jobs].append(run_child([str(HERE / "bench.py"), "--measure", str(inbox), str(out), "--jobs", str(jobs)]))
                if cells is None:
                    cells = cells_per_workbook(out / "accountgesprek")
                shutil.rmtree(out, ignore_errors=True)
            floor_run()
            if args.formulieren:
                out = Path(tmp) / "formulieren"
                start = time.perf_counter()
                subprocess.run([sys.executable, "-m", "kvcompliance", "template", "--contracten", str(register), "-o", str(out)],
                               capture_output=True, check=True)
                forms.append(time.perf_counter() - start)
                shutil.rmtree(out, ignore_errors=True)
            for big in scale_n:
                out = Path(tmp) / "uit-schaal"
                big_inbox = args.cache / f"opgaven-{big}-{args.seed}"
                scale_runs.append(run_child([str(HERE / "bench.py"), "--measure", str(big_inbox), str(out), "--jobs", str(scale_jobs)]))
                shutil.rmtree(out, ignore_errors=True)
    floor_wall, floor = min(floors, key=lambda f: f[0])
    print(f"  vloer gemeten: {', '.join(f'{w:.2f} s' for w, _ in floors)} (de snelste telt)", file=sys.stderr)
    rows = []
    for jobs in jobs_list:
        print(f"  audit --jobs {jobs} gemeten: {', '.join(f'{w:.2f} s' for w, _ in runs[jobs])} (de snelste telt)", file=sys.stderr)
        rows.append((jobs, *min(runs[jobs], key=lambda r: r[0])))

    print(f"\nN = {n} opgaven; vloer: {floor_wall:.2f} s (lezen {floor['read_s']:.2f} s, schrijven "
          f"{floor['write_s']:.2f} s, {cells} cellen per werkboek, piek {floor['peak_mb']:.0f} MB)")
    for jobs, wall, info in rows:
        print(f"\naudit --jobs {jobs}: {wall:.2f} s totaal, audit ÷ vloer = {wall / floor_wall:.2f}")
        if len(floors) > 1:
            # The same ratio per round (audit and floor measured minutes apart at most):
            # less sensitive to a fast or slow moment of the machine than the fastest runs.
            per_round = sorted(a / f for (a, _), (f, _) in zip(runs[jobs], floors))
            print(f"  audit ÷ vloer per ronde: {', '.join(f'{r:.2f}' for r in per_round)} "
                  f"(mediaan {statistics.median(per_round):.2f})")
        print(f"  {'opstarten en importeren':<40} {info['import_s']:7.2f} s")
        for stage, seconds in info["stages"].items():
            print(f"  {stage:<40} {seconds:7.2f} s")
        print(f"  piekgeheugen: hoofdproces {info['peak_main_mb']:.0f} MB, grootste werkproces {info['peak_worker_mb']:.0f} MB")
        print(f"  {info['returns']} opgaven gecontroleerd, {info['rejected']} niet verwerkt")
    if forms:
        per_round = sorted(f / fl["write_s"] for f, (_, fl) in zip(forms, floors))
        print(f"\ntemplate --contracten, {n} contracten: {min(forms):.2f} s (gemeten: {', '.join(f'{f:.2f} s' for f in forms)});"
              f" ÷ schrijven van {n} werkboeken door de vloer ({floor['write_s']:.2f} s) = {min(forms) / floor['write_s']:.2f}"
              f" (per ronde {', '.join(f'{r:.2f}' for r in per_round)})")
    for big in scale_n:
        wall, info = min(scale_runs, key=lambda r: r[0])
        base = min(w for w, _ in runs[scale_jobs])
        print(f"\nN = {big}, audit --jobs {scale_jobs}: {wall:.2f} s totaal = {wall / base:.1f} × de snelste tijd bij "
              f"N = {n} ({base:.2f} s)")
        per_round = sorted(b / a for (b, _), (a, _) in zip(scale_runs, runs[scale_jobs]))
        print(f"  gemeten: {', '.join(f'{w:.2f} s' for w, _ in scale_runs)}; per ronde ÷ N = {n} in dezelfde ronde: "
              f"{', '.join(f'{r:.1f}' for r in per_round)}")
        print(f"  {'opstarten en importeren':<40} {info['import_s']:7.2f} s")
        for stage, seconds in info["stages"].items():
            print(f"  {stage:<40} {seconds:7.2f} s")
        print(f"  piekgeheugen: hoofdproces {info['peak_main_mb']:.0f} MB, grootste werkproces {info['peak_worker_mb']:.0f} MB")
        print(f"  {info['returns']} opgaven gecontroleerd, {info['rejected']} niet verwerkt")
    return 0


if __name__ == "__main__":
    sys.exit(main())

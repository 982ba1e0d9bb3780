"""The audit as a library call: inbox -> AuditResult -> output folder.

Only :mod:`kvcompliance.cli` prints or chooses exit codes; this module reports progress
through a small callback protocol and raises :class:`kvcompliance.errors.KvError`.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator, Protocol

from kvcompliance.catalogue import Catalogue, Status, load_catalogue
from kvcompliance.errors import KvError, OutputError
from kvcompliance.model import AuditResult, RejectedFile, ReturnRecord
from kvcompliance.outputs import FINDINGS_FILE, LOG_FILE, MAILING_FILE, OVERVIEW_FILE, PROVIDER_DIR
from kvcompliance.settings import Letterhead

log = logging.getLogger(__name__)



class Progress(Protocol):
    def stage(self, label: str, total: int) -> None: ...

    def step(self, n: int = 1) -> None: ...

    def done(self) -> None: ...


class NoProgress:
    def stage(self, label: str, total: int) -> None:
        pass

    def step(self, n: int = 1) -> None:
        pass

    def done(self) -> None:
        pass


class Stopwatch:
    """Wall time per pipeline stage (for the benchmark and ``--debug``)."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.times[name] = self.times.get(name, 0.0) + time.perf_counter() - start


@dataclass
class Collected:
    records: list[ReturnRecord] = field(default_factory=list)
    rejected: list[RejectedFile] = field(default_factory=list)


def _warm_up() -> None:
    """Import the heavy libraries of the later stages while the workers read the files."""
    import pandas  # noqa: F401
    import pandera.pandas  # noqa: F401
    import xlsxwriter  # noqa: F401

    import kvcompliance.report.overview  # noqa: F401
    import kvcompliance.validate  # noqa: F401


def collect(
    inbox: Path,
    catalogue: Catalogue,
    progress: Progress,
    jobs: int = 1,
    stopwatch: Stopwatch | None = None,
    exclude: Path | None = None,
) -> Collected:
    """Find and read every file in ``inbox``: each becomes a return or a rejected file."""
    from kvcompliance.ingest import discover
    from kvcompliance.ingest.worker import read_files

    stopwatch = stopwatch or Stopwatch()
    with stopwatch.stage("bestanden zoeken"):
        paths = discover(inbox)
        if exclude is not None:
            # an output folder inside the inbox holds our own workbooks, not returns
            skip = Path(exclude).resolve()
            paths = [p for p in paths if not p.resolve().is_relative_to(skip)]
    progress.stage("Bestanden lezen", len(paths))
    collected = Collected()
    with stopwatch.stage("lezen"):
        for outcome in read_files(paths, inbox, catalogue.rules_file, jobs, on_done=progress.step, meanwhile=_warm_up):
            if isinstance(outcome, RejectedFile):
                collected.rejected.append(outcome)
            else:
                collected.records.append(outcome)
    progress.done()
    return collected


def choose_year(frame, year: int | None, given: str = "opgegeven met --jaar") -> tuple[int, str, str]:
    """The audit year, where it came from, and a warning ('' if none) (DOMAIN §5.1.4):
    ``--jaar``, else the verslagjaar most returns state. With ``--jaar`` matching fewer
    than half of the returns, the warning says so."""
    counts = Counter(int(y) for y in frame["verslagjaar"].dropna()) if len(frame) else Counter()
    if year is not None:
        total, matching = len(frame), counts.get(year, 0)
        warning = ""
        if total and matching * 2 < total:
            warning = (
                f"LET OP: maar {matching} van de {total} opgaven {'gaat' if matching == 1 else 'gaan'} over {year}."
                f" De andere worden grijs op KV92 (verslagjaar). Klopt het controlejaar {year} ({given})?"
            )
        return year, given, warning
    if not counts:
        fallback = datetime.now().year - 1
        return fallback, f"geen verslagjaar gevonden; aangenomen: {fallback}", ""
    this_year = datetime.now().year
    # most returns; on a tie a year that is not in the future, then the latest
    best = max(counts.items(), key=lambda item: (item[1], item[0] <= this_year, item[0]))
    total = sum(counts.values())
    source = f"het verslagjaar dat de meeste opgaven noemen ({best[1]} van de {total} opgaven)"
    warning = ""
    if best[1] * 2 <= total:
        warning = f"LET OP: geen duidelijke meerderheid voor {best[0]}; geef het controlejaar zo nodig op met --jaar."
    return best[0], source, warning


def run_audit(
    inbox: Path,
    *,
    year: int | None = None,
    rules_file: str | None = None,
    register_file: Path | None = None,
    previous_dir: Path | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
    stopwatch: Stopwatch | None = None,
    exclude: Path | None = None,
    year_given: str = "opgegeven met --jaar",
) -> AuditResult:
    """Read, normalise and validate every return in ``inbox``.

    The rules file, contract register and previous audit are checked before any return
    is read, so a mistake in them costs the officer no waiting.
    """
    progress = progress or NoProgress()
    inbox = Path(inbox)
    if not inbox.is_dir():
        raise KvError(f"De map {inbox} bestaat niet of is geen map.")
    catalogue = load_catalogue(rules_file)
    register = previous = None
    if register_file is not None:
        from kvcompliance.register import load_register

        register = load_register(Path(register_file), catalogue)
    if previous_dir is not None:
        from kvcompliance.history import load_previous

        previous = load_previous(Path(previous_dir), catalogue)
    run_date = datetime.now().replace(microsecond=0)
    stopwatch = stopwatch or Stopwatch()
    collected = collect(inbox, catalogue, progress, jobs, stopwatch, exclude)
    # pandas and pandera are imported here, not above: while the workers read, this
    # process has imported them already (see _warm_up).
    from kvcompliance.normalise import normalise
    from kvcompliance.validate import evaluate

    with stopwatch.stage("normaliseren"):
        normalised = normalise(collected.records, catalogue, register)
    audit_year, year_source, year_warning = choose_year(normalised.frame, year, year_given)
    with stopwatch.stage("valideren"):
        evaluation = evaluate(normalised.frame, list(normalised.issues), catalogue, audit_year)
    trends = None
    if previous is not None:
        from kvcompliance.history import compare

        trends = compare(normalised.frame, evaluation.statuses, evaluation.overall, previous)
    return AuditResult(
        catalogue=catalogue,
        audit_year=audit_year,
        audit_year_source=year_source,
        audit_year_warning=year_warning,
        run_date=run_date,
        returns=normalised.records,
        frame=normalised.frame,
        findings=tuple(evaluation.findings),
        issues=normalised.issues,
        overall=evaluation.overall,
        verdicts=evaluation.verdicts,
        rejected=tuple(sorted(collected.rejected + list(normalised.replaced), key=lambda r: r.source.path)),
        identities=normalised.identities,
        figures=evaluation.figures,
        inbox=str(inbox),
        register=normalised.register,
        trends=trends,
        previous_dir=str(previous_dir) if previous_dir is not None else None,
    )


@dataclass
class WrittenReports:
    out_dir: Path
    overview: Path
    findings_csv: Path
    provider_files: dict[str, str]  # return_id -> file name inside accountgesprek/


def _provider_files(result: AuditResult) -> dict[str, str]:
    """A unique, safe workbook file name per return: <verslagjaar>_<naam>_<contractnummer>."""
    from kvcompliance.report.names import provider_filename

    taken: set[str] = set()
    files = {}
    for record in result.returns:
        rid = record.return_id
        who = result.identities[rid]
        filename = provider_filename(who.year if isinstance(who.year, int) else None, who.name or None, who.contract or None, taken)
        taken.add(filename.casefold())
        files[rid] = filename
    return files


def _write_provider(item) -> None:
    """Write one accountgesprek workbook (runs in a worker process when --jobs > 1)."""
    from kvcompliance.report.provider import render_provider

    view, path, rules_file = item
    render_provider(view, load_catalogue(rules_file), Path(path))


def write_reports(
    result: AuditResult,
    out_dir: Path,
    progress: Progress | None = None,
    jobs: int = 1,
    stopwatch: Stopwatch | None = None,
    letterhead: Letterhead | None = None,
) -> WrittenReports:
    """Write overview, findings CSV and one accountgesprek workbook per return.
    ``letterhead``: who sends them and when the conversations are (the settings).

    The provider folder is written next to the old one and swapped in at the end, so the
    folder never mixes workbooks of two runs.
    """
    from kvcompliance.report.compare import sector_comparisons
    from kvcompliance.report.csvout import findings_table, write_findings_csv
    from kvcompliance.report.logbook import write_mailing_list, write_processing_log
    from kvcompliance.report.overview import write_overview
    from kvcompliance.parallel import ordered_map
    from kvcompliance.report.provider import provider_view

    progress = progress or NoProgress()
    stopwatch = stopwatch or Stopwatch()
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".accountgesprek-", dir=out_dir))
    except OSError as exc:
        raise OutputError(f"De uitvoermap {out_dir} kan niet worden gemaakt of beschreven ({exc.strerror or exc}).") from None
    files = _provider_files(result)
    overview = out_dir / OVERVIEW_FILE
    findings_csv = out_dir / FINDINGS_FILE

    def officer_files() -> None:
        with stopwatch.stage("overzicht"):
            table = findings_table(result)
            write_overview(result, overview, files, table, letterhead)
            write_findings_csv(result, findings_csv, table)
            write_mailing_list(result, out_dir / MAILING_FILE, files, PROVIDER_DIR)

    try:
        rules_file = result.catalogue.rules_file
        comparisons = sector_comparisons(result)
        items = [
            (provider_view(result, r.return_id, comparisons, letterhead), str(staging / files[r.return_id]), rules_file)
            for r in result.returns
        ]
        # The officer's files are written by this process while the workers write the
        # provider workbooks; the bar starts once they are done.
        started = False

        def step(n: int) -> None:
            nonlocal started
            if not started:
                progress.stage("Werkboeken schrijven", len(items))
                started = True
            progress.step(n)

        overlap = jobs > 1
        with stopwatch.stage("werkboeken aanbieders (met overzicht)" if overlap else "werkboeken aanbieders"):
            for _ in ordered_map(_write_provider, items, jobs, on_done=step, meanwhile=officer_files if overlap else None):
                pass
        progress.done()
        if not overlap:
            officer_files()
        _swap_in(staging, out_dir / PROVIDER_DIR)
        write_processing_log(result, out_dir / LOG_FILE, files, PROVIDER_DIR)
    except OSError as exc:
        raise OutputError(f"Schrijven in {out_dir} is mislukt ({exc.strerror or exc}).") from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return WrittenReports(out_dir, overview, findings_csv, files)


def _swap_in(staging: Path, target: Path) -> None:
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}-oud-{os.getpid()}")
        target.rename(old)
    staging.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def status_counts(result: AuditResult) -> dict[Status, int]:
    counts = Counter(result.overall.values())
    return {s: counts.get(s, 0) for s in (Status.ROOD, Status.ORANJE, Status.GRIJS, Status.GROEN)}

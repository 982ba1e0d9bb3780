"""The audit as a library call: inbox -> AuditResult -> output folder.

Only :mod:`kvcompliance.cli` prints or chooses exit codes; this module reports progress
through a small callback protocol and raises :class:`kvcompliance.errors.KvError`.
"""

from __future__ import annotations

import logging
import stat
import time
from collections import Counter
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator, Mapping, Protocol

from kvcompliance.catalogue import Catalogue, Status, load_catalogue
from kvcompliance.errors import KvError, OutputError, os_reason
from kvcompliance.model import AuditResult, RejectedFile, ReturnRecord
from kvcompliance.outputs import (
    FINDINGS_FILE,
    LOG_FILE,
    MAILING_FILE,
    OVERVIEW_FILE,
    PROVIDER_DIR,
    RUN_FILES,
    OutputFolder,
)
from kvcompliance.settings import Letterhead
from kvcompliance.values import plural

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
    skipped: list[RejectedFile] = field(default_factory=list)  # not read on purpose (hidden, links, ...)


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
    dossier: Path | None = None,
    inputs: Mapping[str, Path] | None = None,
) -> Collected:
    """Find and read every file in ``inbox``: each becomes a return or a rejected file, and
    every entry skipped on purpose is listed with its reason (nothing goes unaccounted for).
    ``exclude``: this run's output folder; ``dossier``: this run's dossier file; ``inputs``:
    the other files this run was given (kind in ``INPUT_KINDS`` -> path), never read as returns."""
    from kvcompliance.catalogue.skipped import DOSSIER, EARLIER_OUTPUT, INPUT_FILE, WORK_FILE, input_kind
    from kvcompliance.ingest import survey
    from kvcompliance.ingest.inbox import Skipped
    from kvcompliance.ingest.worker import read_files

    stopwatch = stopwatch or Stopwatch()
    with stopwatch.stage("bestanden zoeken"):
        found = survey(inbox)
        paths, skipped = found.files, list(found.skipped)
        skip = Path(exclude).resolve() if exclude is not None else None
        if skip is not None and skip != inbox.resolve() and skip.is_relative_to(inbox.resolve()):
            # this run's output folder inside the inbox holds our own workbooks, not returns
            # (the inbox inside the output folder, as with -o ., is read as usual)
            ours = [p for p in paths if p.resolve().is_relative_to(skip)]
            paths = [p for p in paths if not p.resolve().is_relative_to(skip)]
            skipped += [Skipped(p, EARLIER_OUTPUT, {"naam": p.name}) for p in ours]
            # this run's own lock and staging folder there are gone when it ends: not inbox entries
            skipped = [e for e in skipped if not (e.kind == WORK_FILE and e.path.resolve().is_relative_to(skip))]
        if dossier is not None:  # the dossier (and SQLite's files beside it) kept in the inbox
            stored = Path(dossier).resolve()
            ours = [p for p in paths if p.resolve().parent == stored.parent and p.name.startswith(stored.name)]
            paths = [p for p in paths if p not in ours]
            skipped += [Skipped(p, DOSSIER, {"naam": p.name}) for p in ours]
        given = {Path(path).resolve(): kind for kind, path in (inputs or {}).items() if path is not None}
        if given:  # the contract register, rules or settings kept in the inbox
            ours = [p for p in paths if p.resolve() in given]
            paths = [p for p in paths if p not in ours]
            skipped += [Skipped(p, INPUT_FILE, {"naam": p.name, "wat": input_kind(given[p.resolve()])}) for p in ours]
    progress.stage("Bestanden lezen", len(paths))
    collected = Collected(skipped=[_skipped_file(entry, inbox) for entry in skipped])
    with stopwatch.stage("lezen"), closing(
        read_files(paths, inbox, catalogue.rules_file, jobs, on_done=progress.step, meanwhile=_warm_up)
    ) as reading:
        for outcome in reading:
            if isinstance(outcome, RejectedFile):
                collected.rejected.append(outcome)
            else:
                collected.records.append(outcome)
    progress.done()
    return collected


def _skipped_file(entry, inbox: Path) -> RejectedFile:
    """An entry skipped on purpose, as the reports list it (its size and time, no hash:
    a link, pipe or device is never opened; a folder has no size of its own)."""
    from kvcompliance.catalogue.skipped import skip_reason
    from kvcompliance.ingest.inbox import display_name, relative_path
    from kvcompliance.model import SourceFile

    try:
        info = entry.path.lstat()
        size, modified = (0 if stat.S_ISDIR(info.st_mode) else info.st_size), info.st_mtime
    except OSError:
        size, modified = 0, 0.0
    values = {key: display_name(value) for key, value in entry.values.items()}
    source = SourceFile(relative_path(entry.path, inbox), size, modified, "")
    return RejectedFile(source, skip_reason(entry.kind, **values), entry.kind)


def choose_year(frame, year: int | None, given: str = "opgegeven met --jaar", year_rule: str = "") -> tuple[int, str, str]:
    """The audit year, where it came from, and a warning ('' if none) (DOMAIN §5.1.4):
    ``--jaar``, else the verslagjaar most returns state. With ``--jaar`` matching fewer
    than half of the returns, the warning says so, and which rule (``year_rule``, e.g.
    'KV92 (verslagjaar)'; none when the region switched it off) makes the others grijs."""
    counts = Counter(int(y) for y in frame["verslagjaar"].dropna()) if len(frame) else Counter()
    if year is not None:
        total, matching = len(frame), counts.get(year, 0)
        warning = ""
        if total and matching * 2 < total:
            if total == 1:
                said, others = f"de enige opgave gaat niet over {year}.", "Die wordt"
            elif matching == 0:
                said, others = f"geen van de {total} opgaven gaat over {year}.", "Die worden alle"
            else:
                said, others = f"maar {matching} van de {total} opgaven {'gaat' if matching == 1 else 'gaan'} over {year}.", "De andere worden"
            grey = f" {others} grijs op {year_rule}." if year_rule else ""
            warning = f"LET OP: {said}{grey} Klopt het controlejaar {year} ({given})?"
        return year, given, warning
    if not counts:
        fallback = datetime.now().year - 1
        return fallback, f"geen verslagjaar gevonden; aangenomen: {fallback}", ""
    this_year = datetime.now().year
    # most returns; on a tie a year that is not in the future, then the latest
    best = max(counts.items(), key=lambda item: (item[1], item[0] <= this_year, item[0]))
    total = sum(counts.values())
    source = f"het verslagjaar dat de meeste opgaven noemen ({best[1]} van de {plural(total, 'opgave', 'opgaven')})"
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
    dossier: Path | None = None,
    year_given: str = "opgegeven met --jaar",
    settings_file: Path | None = None,
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

        previous = load_previous(Path(previous_dir), catalogue, own_output=exclude)
    run_date = datetime.now().replace(microsecond=0)
    stopwatch = stopwatch or Stopwatch()
    inputs = {"contracten": register_file, "regels": rules_file, "instellingen": settings_file}
    collected = collect(inbox, catalogue, progress, jobs, stopwatch, exclude, dossier, inputs)
    # pandas and pandera are imported here, not above: while the workers read, this
    # process has imported them already (see _warm_up).
    from kvcompliance.normalise import normalise
    from kvcompliance.validate import evaluate

    with stopwatch.stage("normaliseren"):
        year_rule = next((f"{r.id} ({r.title.lower()})" for r in catalogue.rules if r.active and r.inputs == ("verslagjaar",)), "")
        normalised = normalise(collected.records, catalogue, register,
                               lambda frame: choose_year(frame, year, year_given, year_rule))
    audit_year, year_source, year_warning = normalised.year
    if year is not None and year_warning:  # counted again without the returns set aside as another year's (not judged)
        year_warning = choose_year(normalised.frame, year, year_given, year_rule)[2]
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
        skipped=tuple(collected.skipped),
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
    #: files of the previous run changed since (kept as the officer's), each with the name
    #: the workbook of the same return got in this run ('' when there is none)
    changed: tuple[tuple[str, str], ...] = ()


def _provider_files(result: AuditResult, taken: set[str] = frozenset()) -> dict[str, str]:
    """A unique, safe workbook file name per return: <verslagjaar>_<naam>_<contractnummer>;
    never one of ``taken`` (case-folded names of an officer's own files)."""
    from kvcompliance.report.names import provider_filename

    taken = set(taken)
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
    out: Path | OutputFolder,
    progress: Progress | None = None,
    jobs: int = 1,
    stopwatch: Stopwatch | None = None,
    letterhead: Letterhead | None = None,
) -> WrittenReports:
    """Write overview, findings CSV, mailing list, processing log and one accountgesprek
    workbook per return into the output folder, as one transaction. ``letterhead``: who
    sends them and when the conversations are (the settings).

    ``out`` is the output folder, or an :class:`~kvcompliance.outputs.OutputFolder` the
    caller opened already (the CLI opens it before reading, so a second run into the same
    folder is refused at once). Everything is written into the staging folder and swapped
    in at the end: the folder holds this whole run, or, after an error or an interruption,
    the previous one.
    """
    letterhead = letterhead or Letterhead()
    if isinstance(out, OutputFolder):
        return _write_run(result, out, progress or NoProgress(), jobs, stopwatch or Stopwatch(), letterhead)
    with OutputFolder(Path(out), inbox=Path(result.inbox) if result.inbox else None) as folder:
        return _write_run(result, folder, progress or NoProgress(), jobs, stopwatch or Stopwatch(), letterhead)


def _write_run(
    result: AuditResult, folder: OutputFolder, progress: Progress, jobs: int, stopwatch: Stopwatch, letterhead: Letterhead
) -> WrittenReports:
    from kvcompliance.parallel import ordered_map
    from kvcompliance.report.compare import sector_comparisons
    from kvcompliance.report.csvout import findings_table, write_findings_csv
    from kvcompliance.report.logbook import write_mailing_list, write_processing_log
    from kvcompliance.report.overview import write_overview
    from kvcompliance.report.provider import provider_view

    staging = folder.staging
    taken = folder.foreign_names(PROVIDER_DIR)
    files = _provider_files(result, taken)
    # what the workbooks would have been called had the officer not changed them
    unchanged = _provider_files(result, taken - {c.split("/", 1)[1].casefold() for c in folder.changed if "/" in c})
    renamed = {f"{PROVIDER_DIR}/{unchanged[r]}": files[r] for r in files if unchanged[r] != files[r]}
    changed = tuple((rel, renamed.get(rel, "")) for rel in folder.changed)
    try:
        (staging / PROVIDER_DIR).mkdir()
    except OSError as exc:
        raise OutputError(f"Schrijven in {folder.path} is mislukt: {os_reason(exc)}.") from None

    def officer_files() -> None:
        with stopwatch.stage("overzicht"):
            table = findings_table(result)
            write_overview(result, staging / OVERVIEW_FILE, files, table, letterhead)
            write_findings_csv(result, staging / FINDINGS_FILE, table)
            write_mailing_list(result, staging / MAILING_FILE, files, PROVIDER_DIR)
            write_processing_log(result, staging / LOG_FILE, files, PROVIDER_DIR)

    rules_file = result.catalogue.rules_file
    comparisons = sector_comparisons(result)
    items = [
        (provider_view(result, r.return_id, comparisons, letterhead), str(staging / PROVIDER_DIR / files[r.return_id]), rules_file)
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
    try:
        with stopwatch.stage("werkboeken aanbieders (met overzicht)" if overlap else "werkboeken aanbieders"):
            with closing(ordered_map(_write_provider, items, jobs, on_done=step, meanwhile=officer_files if overlap else None)) as writing:
                for _ in writing:
                    pass
        progress.done()
        if not overlap:
            officer_files()
    except OSError as exc:
        raise OutputError(f"Schrijven in {folder.path} is mislukt: {os_reason(exc)}.") from None
    except BrokenProcessPool:
        raise OutputError(
            "Een hulpproces dat de werkboeken schreef, is onverwacht gestopt (beëindigd van buitenaf, of te weinig "
            "geheugen). De vorige uitvoer staat er nog; draai de controle opnieuw."
        ) from None
    expected = [*RUN_FILES, *(f"{PROVIDER_DIR}/{name}" for name in files.values())]
    missing = [name for name in expected if not (staging / name).is_file()]
    if missing:  # never name a file that is not there
        raise OutputError(f"Niet alle uitvoer is geschreven (ontbreekt: {', '.join(missing[:5])}); de vorige uitvoer blijft staan.")
    folder.commit()
    out_dir = folder.path
    return WrittenReports(out_dir, out_dir / OVERVIEW_FILE, out_dir / FINDINGS_FILE, files, changed)


def status_counts(result: AuditResult) -> dict[Status, int]:
    counts = Counter(result.overall.values())
    return {s: counts.get(s, 0) for s in (Status.ROOD, Status.ORANJE, Status.GRIJS, Status.GROEN)}

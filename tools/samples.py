"""Filled-in returns as a provider makes them: the blank form, filled in with openpyxl.

    python tools/make_samples.py sample_workbooks           # the committed sample returns
    python tools/make_samples.py /tmp/veel --aantal 10000   # many filled returns (benchmarks)

A provider opens the blank form, types the answers into the yellow cells and saves.
:class:`FormFiller` does the same: it loads the form that
:func:`kvcompliance.template.write_template` writes once with openpyxl, finds each answer
cell by its defined name ``kv_<field key>``, puts the answers in and saves a copy. Data
validation, protection, the other sheet and the form version stay as the form has them.

What the fictional providers type comes from :mod:`sample_answers`. The files are
deterministic: the same answers give the same bytes (with the same openpyxl; another
openpyxl version may write other bytes, never other cell values). openpyxl stamps a file
with the time of saving in two places, so both are fixed here: the document properties
``created`` and ``modified`` (written through openpyxl's ``ExcelWriter``, which is what
``Workbook.save`` uses minus setting ``modified`` to now) and the date of every zip member.

:func:`write_sample_region` writes ``sample_workbooks/``; :func:`write_returns` writes N
returns for the benchmarks, in several processes (openpyxl needs some 30 ms a file).
"""

from __future__ import annotations

import io
import multiprocessing
import os
import random
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Mapping

from sample_answers import random_answers, region_answers, slug

from kvcompliance.catalogue import Catalogue, load_catalogue

#: The moment every generated file says it was created and last saved.
FIXED_TIME = datetime(2026, 1, 15, 9, 0, 0)
#: A spreadsheet in the sample folder that is not a return (a budget sent by mistake).
BUDGET_FILE = "begroting_2026.xlsx"
#: Returns a process writes before the next process is worth starting.
PER_PROCESS = 50


def fixed_zip(data: bytes) -> bytes:
    """The zip ``data`` with every member dated :data:`FIXED_TIME` (zipfile dates a member
    with the time it is written); names, order and contents stay as they are."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(member, source.read(info.filename))
    return out.getvalue()


def saved(workbook: Any) -> bytes:
    """The bytes of an openpyxl ``workbook`` as an .xlsx file, dated :data:`FIXED_TIME`."""
    from openpyxl.writer.excel import ExcelWriter

    workbook.properties.created = workbook.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(workbook, archive).save()
    return fixed_zip(buffer.getvalue())


class FormFiller:
    """The blank form, loaded once, filled in and saved as many times as needed.

    ``keys`` are the fields whose answer cells are filled (by default every field of the
    catalogue the form has a defined name for); the cells of other fields keep what the
    form has (a pre-filled form's answers). Each :meth:`fill` sets every one of those
    cells, to the answer or to empty, so a file never shows an answer of the one before;
    the number format a cell has in the form is put back first (openpyxl gives a cell
    that receives a date a date format).
    """

    def __init__(self, form: Path, keys: Iterable[str] | None = None):
        import openpyxl

        self.workbook = openpyxl.load_workbook(form)
        if keys is None:
            keys = (f.key for f in load_catalogue().fields)
        self.cells: dict[str, Any] = {}
        self.formats: dict[str, str] = {}
        for key in keys:
            name = self.workbook.defined_names.get(f"kv_{key}")
            if name is None:
                continue  # a field this (older or changed) form does not have
            ((sheet, coordinate),) = name.destinations
            cell = self.workbook[sheet][coordinate.replace("$", "")]
            self.cells[key], self.formats[key] = cell, cell.number_format
        # openpyxl's first save of a loaded workbook leaves a mark that later saves write
        # (outlineLevelCol="0" on the sheet format): saving once here makes every file
        # written the same, whichever it is of this filler (and of which process).
        saved(self.workbook)

    def fill(self, values: Mapping[str, Any]) -> bytes:
        """The form with ``values`` (field key -> value as typed) filled in, as .xlsx bytes.

        ``None`` or a missing key leaves a cell empty. Text that starts with ``=`` stays
        text, as when a provider types it into a text cell.
        """
        unknown = set(values) - set(self.cells)
        if unknown:
            raise KeyError(f"the form has no answer cell for {', '.join(sorted(unknown))}")
        for key, cell in self.cells.items():
            value = values.get(key)
            cell.number_format = self.formats[key]
            cell.value = value
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"
        return saved(self.workbook)

    def save(self, values: Mapping[str, Any], path: Path) -> Path:
        """Write the form with ``values`` filled in to ``path``."""
        path = Path(path)
        path.write_bytes(self.fill(values))
        return path


def fill_form(form: Path, values: Mapping[str, Any], path: Path) -> Path:
    """Fill ``form`` with ``values`` (field key -> value as typed) and save it as ``path``."""
    return FormFiller(form, values.keys()).save(values, path)


def blank_form(folder: Path, catalogue: Catalogue) -> Path:
    """Write the catalogue's blank form into ``folder``; its path."""
    from kvcompliance.template import write_template

    form = Path(folder) / "uitvraag.xlsx"
    write_template(form, catalogue)
    return form


def write_budget(path: Path) -> Path:
    """A spreadsheet that is not a return: a provider's budget sent by mistake."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Begroting 2026"
    rows = [
        ("Begroting 2026", None),
        ("Post", "Bedrag (EUR)"),
        ("Personeel", 412000),
        ("Huisvesting", 38500),
        ("Training en opleiding", 9200),
        ("Overig", 12750),
        ("Totaal", "=SUM(B3:B6)"),
    ]
    for row in rows:
        sheet.append(row)
    path = Path(path)
    path.write_bytes(saved(workbook))
    return path


def write_sample_region(folder: Path, catalogue: Catalogue | None = None) -> list[Path]:
    """Write the returns of the sample region and the budget that is no return into ``folder``.

    Earlier numbered samples in the folder are removed first; nothing else is touched.
    Returns the files written, the budget last.
    """
    catalogue = catalogue or load_catalogue()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("[0-9][0-9]_*.xlsx"):
        old.unlink()
    written = []
    with tempfile.TemporaryDirectory() as scratch:
        filler = FormFiller(blank_form(Path(scratch), catalogue), [f.key for f in catalogue.fields])
        for number, answers in enumerate(region_answers(catalogue), start=1):
            written.append(filler.save(answers, folder / f"{number:02d}_{slug(answers['aanbieder_naam'])}.xlsx"))
    written.append(write_budget(folder / BUDGET_FILE))
    return written


# The form each worker process fills (set by _start_worker).
_filler: FormFiller | None = None


def _start_worker(form: str, keys: list[str]) -> None:
    global _filler
    _filler = FormFiller(Path(form), keys)


def _write_one(job: tuple[dict[str, Any], Path]) -> None:
    assert _filler is not None
    _filler.save(*job)


def write_returns(
    folder: Path, n: int, seed: int = 0, catalogue: Catalogue | None = None, jobs: int | None = None
) -> list[Path]:
    """Write ``n`` realistic, filled-in returns with mixed statuses into ``folder``.

    The answers are drawn in this process (so they depend only on ``n`` and ``seed``);
    ``jobs`` processes (default: one per core, one per :data:`PER_PROCESS` returns at
    most) fill in and save the forms. Every return has its own contract number, so none
    replaces another. The same ``n`` and ``seed`` give the same files, with any ``jobs``.
    """
    catalogue = catalogue or load_catalogue()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    width = max(5, len(str(n)))
    work = []
    rng = random.Random(seed)
    for number in range(1, n + 1):
        answers = random_answers(rng, number, catalogue)
        work.append((answers, folder / f"{number:0{width}d}_{slug(answers.get('aanbieder_naam') or 'naam-leeg')}.xlsx"))
    keys = [f.key for f in catalogue.fields]
    jobs = max(1, min(jobs or os.cpu_count() or 1, n // PER_PROCESS))
    with tempfile.TemporaryDirectory() as scratch:
        form = blank_form(Path(scratch), catalogue)
        if jobs == 1:
            filler = FormFiller(form, keys)
            for answers, path in work:
                filler.save(answers, path)
        else:
            with multiprocessing.Pool(jobs, initializer=_start_worker, initargs=(str(form), keys)) as pool:
                for _ in pool.imap_unordered(_write_one, work, chunksize=16):
                    pass
    return [path for _, path in work]

"""One return: a file read into a :class:`~kvcompliance.model.ReturnRecord`, or refused."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable, Mapping

from kvcompliance.catalogue import VERSION_NAME, Catalogue
from kvcompliance.errors import UnreadableFile
from kvcompliance.ingest.cells import Book, cell, special, values
from kvcompliance.ingest.locate import (
    MAX_SCAN_ROWS,
    LabelHit,
    csv_value,
    locate_fields,
    most_common_sheet,
    scan_labels,
    version_by_label,
    version_text,
)
from kvcompliance.ingest.names import read_names
from kvcompliance.ingest.reasons import kind_of, os_cause, refusal
from kvcompliance.ingest.references import cell_name
from kvcompliance.ingest.scans import SheetScan, SheetTooLarge, too_large
from kvcompliance.ingest.sniff import sniff
from kvcompliance.model import CellRef, ReturnRecord, SourceFile
from kvcompliance.text import quoted

#: Rust panics of python-calamine that mean memory ran out: a block too large to describe, an
#: allocation that failed, a Python object that could not be made (pyo3 gets NULL).
OUT_OF_MEMORY_PANICS = ("capacity overflow", "memory allocation", "PyObject pointer is null")

FORMAT_NAMES = {
    "xlsx": "Excel-werkmap",
    "xlsb": "binaire Excel-werkmap (.xlsb)",
    "xls": "oud Excel-bestand (.xls)",
    "ods": "OpenDocument-werkmap (.ods)",
    "csv": "CSV-bestand",
}


def read_return(path: Path, source: SourceFile, return_id: str, catalogue: Catalogue) -> ReturnRecord:
    """Read one return, or raise :class:`UnreadableFile`.

    ``values`` holds every catalogue field (None when empty or not in the file), raw as the
    spreadsheet gives it; ``cells`` says where each field was found.

    This bounds what a file may claim (size, zip container, sheet sizes stated in binary
    records) but not the memory python-calamine then takes: an .xlsx with one cell far away
    makes it allocate the whole sheet. The audit reads through
    :mod:`kvcompliance.ingest.worker`, whose processes have a memory limit.
    """
    path = Path(path)
    try:
        return _read_return(path, source, return_id, catalogue)
    except UnreadableFile:
        raise
    except SheetTooLarge:
        raise too_large() from None
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - bad input must never crash the run; python-calamine
        # reports some bad values as a Rust panic (pyo3 PanicException, a BaseException).
        raise library_refusal(exc) from None


def library_refusal(exc: BaseException) -> UnreadableFile:
    """The refusal for an unexpected error of a library while reading a file."""
    name = exc.__class__.__name__
    if name == "PasswordError":
        return refusal("beveiligd")
    if isinstance(exc, OSError):
        return refusal("niet_te_lezen", oorzaak=os_cause(exc))
    if isinstance(exc, MemoryError):
        return refusal("te_veel_geheugen")
    if name == "PanicException":
        message = str(exc)
        if any(marker in message for marker in OUT_OF_MEMORY_PANICS):
            return refusal("te_veel_geheugen")
        return refusal("onmogelijke_waarde")
    return refusal("bibliotheekfout", melding=name)


def _read_return(path: Path, source: SourceFile, return_id: str, catalogue: Catalogue) -> ReturnRecord:
    sniffed = sniff(path)
    try:
        names = sniffed.names or read_names(path, sniffed.format, sniffed.workbook_part)
    except UnreadableFile:
        raise
    except Exception:  # noqa: BLE001 - damaged or hostile XML
        raise refusal("werkmap_onleesbaar") from None
    cells = locate_fields(names, catalogue)
    book = Book(path, sniffed, names)
    try:
        book.open()
        return _read_book(book, cells, source, return_id, catalogue)
    finally:
        book.close()


def _read_book(
    book: Book, cells: dict[str, CellRef], source: SourceFile, return_id: str, catalogue: Catalogue
) -> ReturnRecord:
    fmt = book.sniffed.format
    if not book.sheet_names:
        raise refusal("geen_werkbladen")
    if fmt == "csv" and not any(any(str(v).strip() for v in row) for row in book.grids[""]):
        raise refusal("csv_leeg")
    by_label: dict[str, LabelHit] = {}
    label_sheet = ""
    too_large_sheet: UnreadableFile | None = None  # a sheet skipped while looking for labels
    version_ref = book.names.names.get(VERSION_NAME)
    form_version: str | None = version_ref if isinstance(version_ref, str) else None
    version_cells = {"__version__": version_ref} if isinstance(version_ref, CellRef) else {}

    if len(cells) < len(catalogue.fields):
        # Fields without a defined name: find them by their label. With some names, only on
        # the sheet the names point to; without any, on the sheet with the most labels.
        sheets = [most_common_sheet(cells)] if cells else book.sheet_names
        best: tuple[int, str, dict[str, LabelHit]] | None = None
        for sheet in sheets:
            try:
                grid = book.grid(sheet, MAX_SCAN_ROWS)
            except UnreadableFile as exc:
                if cells or exc.kind != kind_of("werkblad_te_groot"):
                    raise
                too_large_sheet = exc  # a huge sheet beside the form: the form may be on another sheet
                continue
            hits = scan_labels(grid, catalogue, book.merged.get(sheet, ()))
            hits = {k: v for k, v in hits.items() if k not in cells}
            if best is None or len(hits) > best[0]:
                best = (len(hits), sheet, hits)
            if form_version is None and not version_cells:
                form_version = version_by_label(grid)
        if best is not None and best[0]:
            _, label_sheet, by_label = best
            if not cells:
                _check_enough(catalogue, by_label, fmt)
    if not cells and not by_label:
        if too_large_sheet is not None:
            raise too_large_sheet
        raise refusal("geen_opgave_csv" if fmt == "csv" else "geen_opgave")

    raw, no_value = values(book, {**cells, **version_cells})
    if version_cells:
        form_version = version_text(raw.pop("__version__", None))
    located = dict(cells)
    if by_label:
        grid = book.grid(label_sheet, MAX_SCAN_ROWS)
        scan = book.scan(label_sheet) if fmt != "csv" else SheetScan()
        for key, hit in by_label.items():
            r, c = hit.value
            value = csv_value(grid, hit) if book.delimiter == "," else cell(grid, r, c)
            raw[key] = special(value, scan, r, c, key, no_value)
            located[key] = CellRef(label_sheet, cell_name(r, c))

    return ReturnRecord(
        return_id=return_id,
        source=source,
        values={fld.key: raw.get(fld.key) for fld in catalogue.fields},
        cells=located,
        form_version=form_version,
        sheet=most_common_sheet(located),
        notes=tuple(_notes(catalogue, fmt, cells, by_label, located, no_value, form_version)),
    )


def _notes(
    catalogue: Catalogue,
    fmt: str,
    cells: Mapping[str, CellRef],
    by_label: Mapping[str, LabelHit],
    located: Mapping[str, CellRef],
    no_value: list[str],
    form_version: str | None,
) -> list[str]:
    """The Dutch remarks on how a return was read."""
    notes = []
    if by_label:
        if cells:
            labels = ", ".join(catalogue.field(k).label for k in catalogue_order(catalogue, by_label))
            notes.append(f"Deze velden zijn herkend aan de tekst van de vraag, niet aan de vaste cel van het formulier: {labels}.")
        else:
            notes.append(
                f"Het bestand is een {FORMAT_NAMES.get(fmt, 'spreadsheet')} zonder de vaste cellen van het "
                "formulier; de antwoorden zijn herkend aan de tekst van de vragen."
            )
    absent = [fld.label for fld in catalogue.fields if fld.key not in located]
    if absent:
        notes.append(
            "Deze velden staan niet in het ingeleverde formulier (een ouder of aangepast formulier?): "
            + ", ".join(absent)
            + "."
        )
    for key in dict.fromkeys(no_value):
        notes.append(
            f"Bij {quoted(catalogue.field(key).label)} staat een formule zonder berekende uitkomst; dit antwoord is als leeg "
            "behandeld. Open het bestand in Excel of LibreOffice, sla het op en stuur het opnieuw."
        )
    if form_version is None:
        notes.append("De formulierversie staat niet in het bestand.")
    elif form_version != catalogue.form_version:
        notes.append(f"Formulierversie {form_version}; de huidige versie is {catalogue.form_version}.")
    return notes


def catalogue_order(catalogue: Catalogue, keys: Iterable[str]) -> list[str]:
    wanted = set(keys)
    return [f.key for f in catalogue.fields if f.key in wanted]


def _check_enough(catalogue: Catalogue, hits: Mapping[str, LabelHit], fmt: str) -> None:
    """A file found by labels only is a return when at least half of the required fields are in it."""
    required = [f for f in catalogue.fields if f.required]
    found = [f for f in required if f.key in hits]
    if not found:
        raise refusal("geen_opgave_csv" if fmt == "csv" else "geen_opgave")
    if len(found) < math.ceil(len(required) / 2):
        missing = ", ".join(f.label for f in required if f.key not in hits)
        raise refusal("onvolledig_formulier_csv" if fmt == "csv" else "onvolledig_formulier", velden=missing)

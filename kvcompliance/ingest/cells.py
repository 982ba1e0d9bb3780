"""Cell values, read with python-calamine, with what calamine shows as empty put back:
error cells (``#DEEL/0!``) get their error text, and a formula without a computed value is
noted (see :mod:`kvcompliance.ingest.scans`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from kvcompliance.ingest.containers import open_zip, read_part
from kvcompliance.ingest.names import WorkbookNames, read_names
from kvcompliance.ingest.reasons import refusal
from kvcompliance.ingest.references import cell_position
from kvcompliance.ingest.scans import MAX_CELLS, SheetScan, SheetTooLarge, scan_xlsb_sheet, scan_xlsx_sheet, too_large
from kvcompliance.ingest.sniff import Sniffed, sniff
from kvcompliance.model import CellRef


def cell(grid: list[list[Any]], row: int, col: int) -> Any:
    """The value at (row, col) of a grid; an empty or absent cell is None."""
    if 0 <= row < len(grid) and 0 <= col < len(grid[row]):
        value = grid[row][col]
        return None if value == "" else value
    return None


class Book:
    """A spreadsheet opened for reading: sheets loaded lazily with python-calamine. For .csv
    files the one 'sheet' is the table itself ('')."""

    def __init__(self, path: Path, sniffed: Sniffed, names: WorkbookNames):
        self.path = path
        self.sniffed = sniffed
        self.names = names
        self.grids: dict[str, list[list[Any]]] = {}
        self.complete: set[str] = set()  # sheets whose grid holds every row
        self.merged: dict[str, list] = {}
        self.scans: dict[str, SheetScan] = dict(sniffed.scans or names.scans or {})
        self.delimiter = ""
        self._workbook: Any = None
        self._sheet_names: dict[str, str] = {}
        self._worksheets: set[str] = set()

    def open(self) -> None:
        if self.sniffed.format == "csv":
            from kvcompliance.tabular import read_csv_table

            rows, self.delimiter = read_csv_table(self.path)
            self.grids[""] = rows
            self.complete.add("")
            self._sheet_names = {"": ""}
            self._worksheets = {""}
            return
        if self.sniffed.format == "xlsb":  # calamine may read every sheet: check their claimed size first
            self.scans = self._xlsb_scans()
        from python_calamine import CalamineWorkbook

        name = str(self.path)
        try:
            name.encode("utf-8")
            self._workbook = CalamineWorkbook.from_path(name)
        except UnicodeEncodeError:  # a name that is no UTF-8: calamine cannot open it by name
            with self.path.open("rb") as handle:
                self._workbook = CalamineWorkbook.from_filelike(handle)
        self._sheet_names = {name.lower(): name for name in self._workbook.sheet_names}
        self._worksheets = {m.name for m in self._workbook.sheets_metadata if str(m.typ).endswith("WorkSheet")}

    def close(self) -> None:
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = None

    def _xlsb_scans(self) -> dict[str, SheetScan]:
        scans = {}
        with open_zip(self.path) as archive:
            members = set(archive.namelist())
            for sheet, part in self.names.sheet_parts.items():
                if part in members:
                    try:
                        scans[sheet] = scan_xlsb_sheet(read_part(archive, part))
                    except SheetTooLarge:
                        raise too_large(sheet) from None
        return scans

    @property
    def sheet_names(self) -> list[str]:
        """The worksheets (not chart sheets), in workbook order."""
        return [name for name in self._sheet_names.values() if name in self._worksheets]

    def actual(self, sheet: str) -> str | None:
        return self._sheet_names.get(sheet.lower())

    def scan(self, sheet: str) -> SheetScan:
        """Error cells and formulas without a value of a sheet.

        .xls, .ods and .xlsb sheets were scanned when the file was sniffed or opened; an
        .xlsx sheet is scanned now, from its XML. (calamine loads every sheet of an .xls or
        .ods file when it opens it, so there a sheet the scan named differently, say by
        code page, simply has nothing special.)
        """
        if sheet not in self.scans:
            if self.sniffed.format in ("xls", "ods", "csv"):
                return SheetScan()
            part = self.names.sheet_parts.get(sheet)
            if part is None:
                raise refusal("werkblad_onleesbaar", werkblad=sheet)
            with open_zip(self.path) as archive:
                if part not in set(archive.namelist()):
                    raise refusal("werkblad_ontbreekt", werkblad=sheet)
                data = read_part(archive, part)
            try:
                self.scans[sheet] = scan_xlsx_sheet(data) if self.sniffed.format == "xlsx" else scan_xlsb_sheet(data)
            except SheetTooLarge:
                raise too_large(sheet) from None
        return self.scans[sheet]

    def grid(self, sheet: str, rows: int) -> list[list[Any]]:
        """The sheet's values from A1: at least ``rows`` rows, or all of them if it is shorter."""
        have = self.grids.get(sheet)
        if have is not None and (len(have) >= rows or sheet in self.complete):
            return have
        self.scan(sheet)
        book_sheet = self._workbook.get_sheet_by_name(sheet)
        # calamine knows the sheet's extent before it turns it into rows: a sheet that reaches
        # far is refused here, whatever its XML looks like (the reader's memory limit is the backstop)
        if book_sheet.total_height * book_sheet.total_width > MAX_CELLS:
            raise too_large(sheet)
        grid = book_sheet.to_python(skip_empty_area=False, nrows=rows)
        self.grids[sheet] = grid
        if len(grid) < rows:
            self.complete.add(sheet)
        self.merged[sheet] = list(book_sheet.merged_cell_ranges or [])
        return grid


def special(value: Any, scan: SheetScan, row: int, col: int, key: str, no_value: list[str]) -> Any:
    """An empty cell that is really an error value gets the error text (so the finding can
    quote it); an empty formula without a computed value is noted in ``no_value``."""
    if value is None and (row, col) in scan.errors:
        return scan.errors[(row, col)] or "#FOUT!"
    if value is None and (row, col) in scan.no_value:
        no_value.append(key)
    return value


def values(book: Book, cells: Mapping[str, CellRef]) -> tuple[dict[str, Any], list[str]]:
    """Raw values of ``cells`` and the keys whose cell is a formula without a computed value."""
    found: dict[str, Any] = {key: None for key in cells}
    no_value: list[str] = []
    by_sheet: dict[str, list[tuple[str, int, int]]] = {}
    for key, ref in cells.items():
        row, col = cell_position(ref.cell)
        by_sheet.setdefault(ref.sheet, []).append((key, row, col))
    for sheet_name, wanted in by_sheet.items():
        actual = book.actual(sheet_name)
        if actual is None:
            continue
        grid = book.grid(actual, max(row for _, row, _ in wanted) + 1)
        scan = book.scan(actual)
        for key, row, col in wanted:
            found[key] = special(cell(grid, row, col), scan, row, col, key, no_value)
    return found, no_value


def read_cells(path: Path, cells: Mapping[str, CellRef]) -> dict[str, Any]:
    """The raw values of ``cells`` (key -> CellRef) of a spreadsheet; empty -> None.

    Error cells give their error text (``#DIV/0!``). A convenience for tools and tests;
    :func:`kvcompliance.ingest.read_return` reads a whole return.
    """
    path = Path(path)
    sniffed = sniff(path)
    names = sniffed.names or read_names(path, sniffed.format, sniffed.workbook_part)
    book = Book(path, sniffed, names)
    book.open()
    try:
        found, _ = values(book, cells)
    finally:
        book.close()
    return found


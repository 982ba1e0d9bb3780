"""Writing output files whole or not at all.

Every writer produces its file under a temporary name in the target folder and moves it
into place with :func:`os.replace` only when it is complete, so an officer never finds a
half-written workbook or CSV (for instance after a crash or a full disk).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Any, Iterator

import xlsxwriter
from xlsxwriter.exceptions import XlsxWriterException
from xlsxwriter.utility import xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import CellBlankTuple, CellStringTuple, Worksheet

from kvcompliance.errors import OutputError

#: Options for every workbook: provider text is never turned into a formula, link or number.
WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "remove_timezone": True,
    "in_memory": True,  # no temporary part files: several times faster on slow disks
}


class FastCellsWorksheet(Worksheet):
    """xlsxwriter's worksheet, writing the cells these workbooks are made of faster.

    Writing the sheet XML is xlsxwriter's innermost loop (a third of the time of a
    workbook): for every cell it builds a list of attributes and escapes each one with a
    regular expression, the format index through a caught ``TypeError``. A formatted
    string or blank cell, nearly every cell written here, needs none of that: its
    reference and format index are plain ASCII. The XML is byte for byte the same
    (``tests/test_report.py`` compares it with xlsxwriter's own); every other cell, and
    any cell in ``constant_memory`` mode, goes through xlsxwriter's code.
    """

    def _write_cell(self, row: int, col: int, cell: Any) -> None:
        fmt = cell.format
        if fmt is not None and not self.constant_memory:
            kind = cell.__class__
            if kind is CellStringTuple:
                self.fh.write(f'<c r="{xl_rowcol_to_cell_fast(row, col)}" s="{fmt._get_xf_index()}" t="s"><v>{cell.string}</v></c>')
                return
            if kind is CellBlankTuple:
                self.fh.write(f'<c r="{xl_rowcol_to_cell_fast(row, col)}" s="{fmt._get_xf_index()}"/>')
                return
        super()._write_cell(row, col, cell)


def _fast_cells_fit() -> bool:
    """Whether this xlsxwriter stores cells the way :class:`FastCellsWorksheet` expects."""
    return (
        callable(getattr(Worksheet, "_write_cell", None))
        and CellStringTuple._fields == ("string", "format")
        and CellBlankTuple._fields == ("format",)
    )


#: The worksheet class of every workbook (xlsxwriter's own if its internals have changed).
WORKSHEET_CLASS: type = FastCellsWorksheet if _fast_cells_fit() else Worksheet


class _Workbook(xlsxwriter.Workbook):
    def add_worksheet(self, name: str | None = None, worksheet_class: Any = None) -> Any:
        return super().add_worksheet(name, worksheet_class or WORKSHEET_CLASS)


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` when the block succeeds.

    On any error the temporary file is removed and ``path`` is left as it was. OS errors
    become :class:`OutputError` with a Dutch message.
    """
    path = Path(path)
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Kan de map {folder} niet maken ({exc.strerror or exc.__class__.__name__}).") from None
    # Not created here (the writer creates it), so the file gets the usual permissions.
    tmp = folder / f".{path.stem[:40]}.{secrets.token_hex(6)}.tmp"
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"Kan {path.name} niet schrijven ({exc.strerror or exc.__class__.__name__}).") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


@contextlib.contextmanager
def new_workbook(path: Path, *, streamed: bool = False) -> Iterator[xlsxwriter.Workbook]:
    """An xlsxwriter workbook with the safe options, written atomically to ``path``.

    ``streamed``: xlsxwriter's ``constant_memory`` mode, for a workbook too big to hold in
    memory. Each row goes to a temporary file once the next row is started, so every
    sheet must be written row by row, top to bottom (a cell written above the current
    row is lost). About 1.7 times slower, and text is stored per cell instead of once.
    """
    options = {**WORKBOOK_OPTIONS, "in_memory": False, "constant_memory": True} if streamed else WORKBOOK_OPTIONS
    with atomic_path(path) as tmp:
        workbook = _Workbook(str(tmp), options)
        try:
            yield workbook
        except BaseException:
            with contextlib.suppress(Exception):
                workbook.close()
            raise
        try:
            workbook.close()
        except XlsxWriterException as exc:
            raise OutputError(f"Kan {Path(path).name} niet schrijven ({exc}).") from None

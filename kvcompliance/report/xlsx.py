"""Workbooks written safely, through xlsxwriter's public API only.

Two promises hold for every workbook the project writes (audit, overview, forms):

* **Whole or not at all.** A workbook is built under a temporary name in the target
  folder and moved into place with :func:`os.replace` only when it is complete, so an
  officer never finds a half-written file (after a crash or a full disk).
* **Text stays text.** xlsxwriter is opened with ``strings_to_formulas``,
  ``strings_to_urls`` and ``strings_to_numbers`` off, so ``=HYPERLINK(...)`` typed by a
  provider is shown, never run. One more case needs care: xlsxwriter stores a string
  that starts with ``<r>`` and ends with ``</r>`` as rich-text XML (it is how its own
  ``write_rich_string`` passes runs on), so a provider's ``<r>abc</r>`` would show as an
  empty cell and broken markup would break the file. :class:`SafeSheet` writes such a
  string as rich text of three plain runs, which xlsxwriter escapes: it shows exactly as
  typed.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
from pathlib import Path
from typing import Any, Iterator

from kvcompliance.errors import OutputError, os_reason  # os_reason lived here once; importing it from here still works

#: Options for every workbook: provider text is never turned into a formula, link or number.
WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "remove_timezone": True,
    "in_memory": True,  # no temporary part files: several times faster on slow disks
}


def looks_like_rich_text(text: str) -> bool:
    """Whether xlsxwriter would take ``text`` for rich-text XML (and lose it as text)."""
    return text.startswith("<r>") and text.endswith("</r>")


class SafeSheet:
    """An xlsxwriter worksheet whose string cells always show the text as given.

    A thin wrapper (composition, not a subclass): the string-writing methods route a
    rich-text-looking string through :meth:`write_rich_string`; everything else goes
    to the worksheet unchanged.
    """

    __slots__ = ("sheet",)

    def __init__(self, sheet: Any):
        self.sheet = sheet

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sheet, name)

    def write_string(self, row: int, col: int, text: str, cell_format: Any = None) -> int:
        if looks_like_rich_text(text):
            return self._as_plain_runs(row, col, text, cell_format)
        return self.sheet.write_string(row, col, text, cell_format)

    def write(self, row: int, col: int, value: Any, cell_format: Any = None) -> int:
        if isinstance(value, str):
            return self.write_string(row, col, value, cell_format)
        return self.sheet.write(row, col, value, cell_format)

    def merge_range(self, first_row: int, first_col: int, last_row: int, last_col: int, data: Any, cell_format: Any = None) -> int:
        result = self.sheet.merge_range(first_row, first_col, last_row, last_col, "", cell_format)
        if isinstance(data, str) and data:
            self.write_string(first_row, first_col, data, cell_format)
        elif data not in ("", None):
            self.sheet.write(first_row, first_col, data, cell_format)
        return result

    def _as_plain_runs(self, row: int, col: int, text: str, cell_format: Any) -> int:
        pieces: list[Any] = [text[:1], text[1:2], text[2:]]  # three non-empty runs: xlsxwriter needs more than two
        if cell_format is not None:
            pieces.append(cell_format)
        return self.sheet.write_rich_string(row, col, *pieces)


class SafeWorkbook:
    """An xlsxwriter workbook whose sheets are :class:`SafeSheet` (composition)."""

    __slots__ = ("book",)

    def __init__(self, book: Any):
        self.book = book

    def __getattr__(self, name: str) -> Any:
        return getattr(self.book, name)

    def add_worksheet(self, name: str | None = None) -> SafeSheet:
        return SafeSheet(self.book.add_worksheet(name))


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
        raise OutputError(f"Kan de map {folder} niet maken: {os_reason(exc)}.") from None
    # Not created here (the writer creates it), so the file gets the usual permissions.
    tmp = folder / f".{path.stem[:40]}.{secrets.token_hex(6)}.tmp"
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"Kan {path.name} niet schrijven: {os_reason(exc)}.") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


@contextlib.contextmanager
def new_workbook(path: Path, *, streamed: bool = False) -> Iterator[SafeWorkbook]:
    """An xlsxwriter workbook with the safe options, written atomically to ``path``.

    ``streamed``: xlsxwriter's ``constant_memory`` mode, for a workbook too big to hold in
    memory. Each row goes to a temporary file once the next row is started, so every
    sheet must be written row by row, top to bottom (a cell written above the current
    row is lost).
    """
    import xlsxwriter
    from xlsxwriter.exceptions import XlsxWriterException

    options = {**WORKBOOK_OPTIONS, "in_memory": False, "constant_memory": True} if streamed else WORKBOOK_OPTIONS
    with atomic_path(path) as tmp:
        # Built in memory and written to disk by us: when the disk is full, xlsxwriter's
        # zip file would otherwise stay half-open and report the same error again, with a
        # traceback, when it is collected.
        buffer = io.BytesIO()
        book = xlsxwriter.Workbook(buffer, options)
        try:
            yield SafeWorkbook(book)
        except BaseException:
            with contextlib.suppress(Exception):
                book.close()
            raise
        try:
            book.close()
        except XlsxWriterException as exc:
            cause = next((e for e in (*exc.args, exc.__context__) if isinstance(e, OSError)), None)  # FileCreateError wraps it
            why = os_reason(cause) if cause is not None else exc.__class__.__name__
            raise OutputError(f"Kan {Path(path).name} niet schrijven: {why}.") from None
        tmp.write_bytes(buffer.getbuffer())

"""Reading plain tables (CSV and the first sheet of a workbook) as rows of raw values.

Shared by the contract register and the CSV return reader. CSV files may use ``;`` or
``,`` and be UTF-8 (with or without BOM) or Windows-1252, as Dutch Excel writes them.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from kvcompliance.catalogue import load_file_reasons

CSV_MAX_BYTES = 20 * 1024 * 1024


def decode_text(data: bytes) -> str:
    """UTF-8 (BOM optional), else Windows-1252 (what Dutch Excel saves as 'CSV')."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def sniff_delimiter(text: str) -> str:
    """``;`` (Dutch Excel), ``,`` or tab: whichever splits the first lines most consistently."""
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    best, best_score = ";", -1
    for delimiter in (";", ",", "\t"):
        counts = [len(next(csv.reader([line], delimiter=delimiter))) for line in lines] or [0]
        score = min(counts) if max(counts) > 1 else 0
        if score > best_score:
            best, best_score = delimiter, score
    return best


def read_csv_table(path: Path) -> tuple[list[list[str]], str]:
    """All rows of a CSV file, and the delimiter it uses.

    Raises :class:`UnreadableFile` (with a Dutch reason) for a file that is too large, is
    not text, or is not a table that the csv module can split.
    """
    size = path.stat().st_size
    if size > CSV_MAX_BYTES:
        raise load_file_reasons().unreadable("csv_te_groot", grootte=f"{size // (1024 * 1024)} MB")
    text = decode_text(path.read_bytes())
    if "\x00" in text:
        raise load_file_reasons().unreadable("csv_geen_tekst")
    delimiter = sniff_delimiter(text)
    try:
        return [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)], delimiter
    except csv.Error:
        raise load_file_reasons().unreadable("csv_geen_kolommen") from None


def read_csv_rows(path: Path) -> list[list[str]]:
    return read_csv_table(path)[0]


def read_sheet_rows(path: Path, sheet: str | int = 0) -> list[list[Any]]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        book_sheet = workbook.get_sheet_by_index(sheet) if isinstance(sheet, int) else workbook.get_sheet_by_name(sheet)
        return [list(row) for row in book_sheet.to_python(skip_empty_area=False)]
    except Exception as exc:  # noqa: BLE001 - calamine raises several error types for bad files
        raise load_file_reasons().unreadable("werkblad_niet_te_lezen", melding=exc.__class__.__name__) from None


def read_rows(path: Path) -> list[list[Any]]:
    """All rows of a CSV file or of a workbook's first sheet."""
    if path.suffix.lower() in (".csv", ".txt"):
        return read_csv_rows(path)
    return read_sheet_rows(path)

"""Reading plain tables (CSV and the first sheet of a workbook) as rows of raw values.

Shared by the contract register, the CSV return reader and ``--vorige``. CSV files may
use ``;`` or ``,`` and be UTF-8 (with or without BOM) or Windows-1252, as Dutch Excel
writes them.

The csv module always sees the text itself (a file or a string), never lines split
beforehand: ``str.splitlines`` also splits on characters that can sit inside a quoted
answer (vertical tab and form feed from Word, U+2028, U+0085, ...), which cuts a row in
two. Fields may be as long as the file that holds them (see :func:`allow_long_fields`).
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path
from typing import Any, TextIO

from kvcompliance.catalogue import load_file_reasons

CSV_MAX_BYTES = 20 * 1024 * 1024


def allow_long_fields(limit: int) -> None:
    """Let the csv module read fields of up to ``limit`` characters.

    By default csv refuses a field longer than 131,072 characters: three answers of
    32,000 characters quoted in one finding's explanation already make such a field, and
    then a whole ``bevindingen.csv`` could not be read. Every file read through this
    module is size-capped first, so a field may be as long as that cap. The limit is
    process-wide; it is only ever raised.
    """
    if csv.field_size_limit() < limit:
        csv.field_size_limit(limit)


def _encoding_of(path: Path) -> str:
    """'utf-8-sig' (BOM optional) when the whole file is UTF-8, else 'cp1252'; read in
    pieces, so a big file is never held in memory."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        try:
            while piece := handle.read(1 << 20):
                decoder.decode(piece)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8-sig"


def open_csv_text(path: Path) -> TextIO:
    """``path`` opened as text for :mod:`csv` (``newline=''``), in the encoding it has."""
    return path.open(encoding=_encoding_of(path), errors="replace", newline="")


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
    lines = [line.rstrip("\r") for line in text[:65536].split("\n")[:20] if line.strip()]
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
    allow_long_fields(CSV_MAX_BYTES)
    try:
        return [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)], delimiter
    except csv.Error:
        raise load_file_reasons().unreadable("csv_geen_kolommen") from None


def read_csv_rows(path: Path) -> list[list[str]]:
    return read_csv_table(path)[0]


def read_sheet_rows(path: Path, sheet: str | int = 0) -> list[list[Any]]:
    from python_calamine import CalamineWorkbook

    try:
        try:
            str(path).encode("utf-8")
            workbook = CalamineWorkbook.from_path(str(path))
        except UnicodeEncodeError:  # a name that is no UTF-8: open the file itself
            with Path(path).open("rb") as handle:
                workbook = CalamineWorkbook.from_filelike(handle)
        book_sheet = workbook.get_sheet_by_index(sheet) if isinstance(sheet, int) else workbook.get_sheet_by_name(sheet)
        return [list(row) for row in book_sheet.to_python(skip_empty_area=False)]
    except Exception as exc:  # noqa: BLE001 - calamine raises several error types for bad files
        # what the officer can act on, in Dutch (not calamine's English error class)
        why = "het bestand is met een wachtwoord beveiligd" if exc.__class__.__name__ == "PasswordError" else (
            "het bestand is beschadigd of onvolledig"
        )
        raise load_file_reasons().unreadable("werkblad_niet_te_lezen", melding=why) from None


def read_rows(path: Path) -> list[list[Any]]:
    """All rows of a CSV file or of a workbook's first sheet."""
    if path.suffix.lower() in (".csv", ".txt"):
        return read_csv_rows(path)
    return read_sheet_rows(path)

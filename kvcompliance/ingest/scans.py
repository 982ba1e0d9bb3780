"""What python-calamine does not show: error cells and formulas without a computed value.

calamine gives an error cell (``#DEEL/0!``) and a formula whose result was never computed
as an empty cell. These passes over a sheet's own data find them, so that the provider's
text reaches the value parsers and the officer sees what the provider wrote.

The binary formats (.xls, .xlsb) and .ods state how large a sheet is in fixed records and
repeat counts, which calamine trusts; their passes also refuse a sheet that claims more
than :data:`MAX_CELLS`, before calamine reserves room for it. An .xlsx sheet is not sized
here: whatever its XML says, the memory limit of the reader processes bounds it
(:mod:`kvcompliance.ingest.worker`).
"""

from __future__ import annotations

import html
import re
import struct
from dataclasses import dataclass, field
from typing import Iterator

from kvcompliance.ingest.reasons import refusal
from kvcompliance.ingest.references import column_number

#: The largest sheet (rows x columns, counted from A1) that an .xls, .xlsb or .ods file may
#: claim: python-calamine holds a sheet as one dense block of cells.
MAX_CELLS = 2_000_000

#: Error values as the file formats store them (BIFF and BIFF12 error codes).
ERROR_CODES = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?", 0x24: "#NUM!",
               0x2A: "#N/A", 0x2B: "#GETTING_DATA"}


class SheetTooLarge(Exception):
    """A sheet claims more than MAX_CELLS cells (the caller names the sheet in its refusal)."""


@dataclass
class SheetScan:
    """What a pass over a sheet's own data found (error cells, formulas without a value) and,
    for the formats that state it, the extent calamine will allocate."""

    rows: int = 0  # extent from A1 (.xls, .xlsb, .ods): rows x columns
    cols: int = 0
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) -> '#DIV/0!'
    no_value: set[tuple[int, int]] = field(default_factory=set)  # formulas without a computed value

    def include(self, row: int, col: int) -> None:
        """Count a cell in the extent; raises :class:`SheetTooLarge` past MAX_CELLS."""
        if row >= self.rows:
            self.rows = row + 1
        if col >= self.cols:
            self.cols = col + 1
        if self.rows * self.cols > MAX_CELLS:
            raise SheetTooLarge()


def too_large(sheet: str | None = None):
    """The refusal of a sheet that claims more than MAX_CELLS cells."""
    millions = MAX_CELLS // 1_000_000
    if sheet is None:
        return refusal("een_werkblad_te_groot", miljoen=millions)
    return refusal("werkblad_te_groot", werkblad=sheet, miljoen=millions)


# --------------------------------------------------------------------------- .xlsx
_XLSX_TAG = re.compile(rb"<(/?)(?:[A-Za-z_][\w.-]*:)?(row|c|f|v|is)(?=[\s/>])([^>]*)>")
_XLSX_R = re.compile(rb"""(?:^|\s)r\s*=\s*["']([A-Za-z]{0,3})([0-9]{0,8})["']""")
_XLSX_T = re.compile(rb"""(?:^|\s)t\s*=\s*["']([A-Za-z]+)["']""")
#: An element f (a formula), without or with a prefix; two patterns, each found quickly by
#: its first two bytes.
_XLSX_FORMULA = (re.compile(rb"<f[\s/>]"), re.compile(rb":f[\s/>]"))


def _may_be_special(data: bytes) -> bool:
    """Whether a sheet may hold an error cell (t="e", either quote) or a formula, however
    its XML spells them; no means there is nothing to find."""
    return b'"e"' in data or b"'e'" in data or any(pattern.search(data) for pattern in _XLSX_FORMULA)


def scan_xlsx_sheet(data: bytes) -> SheetScan:
    """Error cells and formulas without a value in an OOXML worksheet part.

    A tag-level pass (no XML tree), well under a millisecond for a form; a sheet without
    formulas and error cells (most returns) costs one search.
    """
    scan = SheetScan()
    if not _may_be_special(data):
        return scan
    row, col = -1, -1
    cell: tuple[int, int] | None = None
    cell_type, has_formula, value = b"", False, None
    for match in _XLSX_TAG.finditer(data):
        closing, tag, attrs = match.group(1), match.group(2), match.group(3)
        if tag == b"row":
            if closing:
                continue
            found = _XLSX_R.search(attrs)
            row = int(found.group(2)) - 1 if found and found.group(2) else row + 1
            col = -1
        elif tag == b"c":
            if closing:
                if cell is not None:
                    _finish_xlsx_cell(scan, cell, cell_type, has_formula, value)
                cell = None
                continue
            found = _XLSX_R.search(attrs)
            if found and found.group(1):
                col = column_number(found.group(1))
                if found.group(2):
                    row = int(found.group(2)) - 1
            else:
                col += 1
            row = max(row, 0)
            typed = _XLSX_T.search(attrs)
            cell, cell_type, has_formula, value = (row, col), typed.group(1) if typed else b"", False, None
            if attrs.rstrip().endswith(b"/"):
                cell = None
        elif cell is None or closing:
            continue
        elif tag == b"f":
            has_formula = True
        elif tag == b"v":
            if attrs.rstrip().endswith(b"/"):
                continue
            end = data.find(b"<", match.end())
            value = data[match.end() : end if end >= 0 else len(data)]
        elif tag == b"is":
            value = b"inline"
    return scan


def _finish_xlsx_cell(scan: SheetScan, cell: tuple[int, int], cell_type: bytes, has_formula: bool, value: bytes | None) -> None:
    text = value.strip() if value is not None else b""
    if cell_type == b"e" and text:
        scan.errors[cell] = html.unescape(text.decode("utf-8", "replace"))
    elif has_formula and not text:
        scan.no_value.add(cell)


# --------------------------------------------------------------------------- .xls (BIFF5/8)
#: BIFF records that give calamine a cell: FORMULA, NUMBER, LABEL, BOOLERR, RK, LABELSST, MULRK.
_BIFF_CELLS = {0x0006, 0x0203, 0x0204, 0x0205, 0x027E, 0x00FD, 0x00BD}
_BIFF5_VERSIONS = (0x0200, 0x0002, 0x0007, 0x0300, 0x0400, 0x0500)


def _biff_records(data: bytes, start: int) -> Iterator[tuple[int, int, int]]:
    """(record type, body offset, body length) of a BIFF stream from ``start``; stops at a
    record that runs past the end."""
    position, end = start, len(data)
    while position + 4 <= end:
        kind, length = struct.unpack_from("<HH", data, position)
        body = position + 4
        if body + length > end:
            return
        yield kind, body, length
        position = body + length


def scan_biff(data: bytes) -> dict[str, SheetScan]:
    """Error cells and extent of each sheet of an .xls workbook stream, walked the way
    python-calamine will walk it, before it does.

    calamine reads every sheet of an .xls file when it opens it, and trusts what the file
    says: the SST count and each sheet's DIMENSIONS (room it reserves) and the position of
    every cell. A count the stream cannot hold is damage; a sheet larger than MAX_CELLS
    raises :class:`SheetTooLarge`. The walk stops at a FILEPASS record (what follows is
    encrypted; whether the file is protected is msoffcrypto-tool's answer).
    """
    unpack = struct.unpack_from
    scans: dict[str, SheetScan] = {}
    sheets: list[tuple[int, str]] = []
    biff8 = True
    for kind, body, length in _biff_records(data, 0):
        if kind == 0x002F:  # FILEPASS
            return scans
        if kind == 0x0809 and length >= 2:  # BOF: which BIFF version writes the strings
            version = unpack("<H", data, body)[0]
            sub = unpack("<H", data, body + 2)[0] if length >= 4 else 0
            biff8 = not (version in _BIFF5_VERSIONS or (version == 0 and sub == 0x1000))
        elif kind == 0x0085 and length >= 8:  # BOUNDSHEET: where the sheet starts, and its name
            offset, count = unpack("<I", data, body)[0], data[body + 6]
            if biff8:
                wide = data[body + 7] & 1
                raw = data[body + 8 : body + 8 + count * (2 if wide else 1)]
                name = raw.decode("utf-16-le" if wide else "latin-1", "replace")
            else:
                name = data[body + 7 : body + 7 + count].decode("latin-1", "replace")
            sheets.append((offset, name.replace("\x00", "")))
        elif kind == 0x00FC and length >= 8:  # SST: calamine reserves room for this many strings
            if unpack("<i", data, body + 4)[0] > len(data) // 3 + 1:
                raise refusal("beschadigd")
        elif kind == 0x000A:  # EOF of the workbook globals
            break
    for offset, name in sheets:
        _scan_biff_sheet(data, offset, scans.setdefault(name, SheetScan()))
    return scans


def _scan_biff_sheet(data: bytes, offset: int, scan: SheetScan) -> None:
    unpack = struct.unpack_from
    for kind, body, length in _biff_records(data, offset):
        if kind == 0x000A:
            break
        if kind == 0x0200 and length in (10, 14):  # DIMENSIONS, as calamine computes the room
            if length == 10:
                first_row, last_row, first_col, last_col = unpack("<HHHH", data, body)
            else:
                first_row, last_row, first_col, last_col = unpack("<IIHH", data, body)
            if last_row >= 1 and last_col >= 1:  # calamine reserves (last - first) rows x columns
                if first_row > last_row or first_col > last_col:  # ... computed without a sign
                    raise refusal("beschadigd")
                if (last_row - first_row) * (last_col - first_col) > MAX_CELLS:
                    raise SheetTooLarge()
        elif kind in _BIFF_CELLS and length >= 6:
            row, col = unpack("<HH", data, body)
            if kind == 0x00BD:  # MULRK: the last column is at the end
                col = max(col, unpack("<H", data, body + length - 2)[0])
            scan.include(row, col)
            if kind == 0x0205 and length >= 8 and data[body + 7] == 1:  # BOOLERR holding an error
                scan.errors[(row, col)] = ERROR_CODES.get(data[body + 6], "#FOUT!")
            elif kind == 0x0006 and length >= 14 and data[body + 12 : body + 14] == b"\xff\xff" and data[body + 6] == 2:
                scan.errors[(row, col)] = ERROR_CODES.get(data[body + 8], "#FOUT!")


# --------------------------------------------------------------------------- .xlsb (BIFF12)
def biff12_records(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(record type, body offset, body length) of an .xlsb part (MS-XLSB 2.1.4)."""
    position, end = 0, len(data)
    while position < end:
        byte = data[position]
        kind = byte & 0x7F
        position += 1
        if byte & 0x80:
            if position >= end:
                return
            kind |= (data[position] & 0x7F) << 7
            position += 1
        length, shift = 0, 0
        for _ in range(4):
            if position >= end:
                return
            byte = data[position]
            position += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        if position + length > end:
            return
        yield kind, position, length
        position += length


def scan_xlsb_sheet(data: bytes) -> SheetScan:
    """Extent and error cells of an .xlsb worksheet part; raises :class:`SheetTooLarge`."""
    scan = SheetScan()
    row = 0
    for kind, body, length in biff12_records(data):
        if kind == 0 and length >= 4:  # BrtRowHdr
            row = struct.unpack_from("<I", data, body)[0]
        elif (1 <= kind <= 11 or kind == 62) and length >= 8:  # cell records start with the column
            col = struct.unpack_from("<I", data, body)[0]
            scan.include(row, col)
            if kind in (3, 11) and length >= 9:  # BrtCellError, BrtFmlaError
                scan.errors[(row, col)] = ERROR_CODES.get(data[body + 8], "#FOUT!")
        elif kind == 148 and length >= 16:  # BrtWsDim: calamine reserves room for it
            first_row, last_row, first_col, last_col = struct.unpack_from("<IIII", data, body)
            if first_row > last_row or first_col > last_col:
                raise refusal("beschadigd")
            if (last_row - first_row + 1) * (last_col - first_col + 1) > MAX_CELLS:
                raise SheetTooLarge()
    return scan

"""The sheets and workbook-level defined names of a spreadsheet (``kv_<key>`` in the form).

Read straight from the file: workbook.xml of an .xlsx, workbook.bin of an .xlsb, the
named ranges and expressions of an .ods file's content.xml. .xls and .csv files give no
names (python-calamine does not show them): their fields are found by their labels.
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from kvcompliance.ingest.containers import open_zip, read_part
from kvcompliance.ingest.parts import local, parse_package_part, relationships, safe_parser
from kvcompliance.ingest.references import constant, parse_ods_reference, parse_reference
from kvcompliance.ingest.scans import SheetScan, SheetTooLarge, biff12_records, too_large
from kvcompliance.model import CellRef


@dataclass
class WorkbookNames:
    """The sheets and workbook-level defined names of a spreadsheet (names in lower case)."""

    sheets: list[str] = field(default_factory=list)
    names: dict[str, CellRef | str] = field(default_factory=dict)  # CellRef, or a constant's text
    #: for xlsx/xlsb: sheet name -> its part in the zip
    sheet_parts: dict[str, str] = field(default_factory=dict)
    #: what a pass over the file found per sheet (error cells ...): for ods, all sheets;
    #: for xlsx, the sheets the kv_ names point to
    scans: dict[str, SheetScan] = field(default_factory=dict)


def read_names(path: Path, fmt: str, workbook_part: str | None) -> WorkbookNames:
    """Sheets and defined names of a spreadsheet of format ``fmt`` ('xlsx', 'xlsb', 'ods');
    empty for formats we cannot read them from."""
    if fmt not in ("xlsx", "xlsb", "ods") or workbook_part is None:
        return WorkbookNames()
    with open_zip(path) as archive:
        if fmt == "xlsx":
            return xlsx_names(archive, workbook_part)
        if fmt == "xlsb":
            return xlsb_names(archive, workbook_part)
        return ods_names(read_part(archive, workbook_part))


# --------------------------------------------------------------------------- .xlsx
class _WorkbookPart:
    """Sheets and workbook-level defined names of an OOXML workbook part, collected in
    one pass (no tree). Defined names are kept in document order with their text (as
    ElementTree's ``text``: up to the first child element)."""

    def __init__(self, data: bytes):
        self.sheets: list[str] = []
        self.rel_ids: dict[str, str] = {}  # sheet name -> relationship id
        self.defined: list[tuple[str, list[str]]] = []  # name (lower case), pieces of its text
        self._text: list[str] | None = None  # where the text now read belongs, if anywhere
        parse_package_part(data, self)

    def close(self) -> None:
        pass

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self._text = None
        name = local(tag)
        if name == "sheet":
            sheet = attrs.get("name") or ""
            self.sheets.append(sheet)
            for key, value in attrs.items():
                if local(key) == "id":
                    self.rel_ids[sheet] = value
        elif name == "definedName" and attrs.get("localSheetId") is None:
            self._text = []
            self.defined.append(((attrs.get("name") or "").lower(), self._text))

    def end(self, tag: str) -> None:
        self._text = None

    def data(self, text: str) -> None:
        if self._text is not None:
            self._text.append(text)


def xlsx_names(archive: zipfile.ZipFile, part: str = "xl/workbook.xml", members: set[str] | None = None) -> WorkbookNames:
    """Sheets, defined names and sheet parts of an .xlsx opened as ``archive``;
    ``members`` are the names in the zip (read from it when not given)."""
    workbook = _WorkbookPart(read_part(archive, part))
    result = WorkbookNames(sheets=workbook.sheets)
    for name, text in workbook.defined:
        target = "".join(text).strip()
        ref = parse_reference(target)
        if ref is not None:
            result.names[name] = ref
        elif (value := constant(target)) is not None:
            result.names[name] = value
    targets = relationships(archive, set(archive.namelist()) if members is None else members, part)
    result.sheet_parts = {name: targets[rid] for name, rid in workbook.rel_ids.items() if rid in targets}
    return result


# --------------------------------------------------------------------------- .xlsb
def _xlsb_sheets(data: bytes) -> list[tuple[str, str]]:
    """(sheet name, relationship id) of the worksheets in an .xlsb workbook part."""
    sheets = []
    for kind, body, length in biff12_records(data):
        if kind != 156 or length < 12:  # BrtBundleSh
            continue
        position = body + 8
        count = struct.unpack_from("<I", data, position)[0]
        position += 4
        rel_id = ""
        if count != 0xFFFFFFFF:
            rel_id = data[position : position + 2 * count].decode("utf-16-le", "replace")
            position += 2 * count
        if position + 4 > body + length:
            continue
        count = struct.unpack_from("<I", data, position)[0]
        name = data[position + 4 : position + 4 + 2 * count].decode("utf-16-le", "replace")
        sheets.append((name, rel_id))
    return sheets


def xlsb_names(archive: zipfile.ZipFile, part: str) -> WorkbookNames:
    """Sheets and sheet parts of an .xlsb (python-calamine does not show its defined names)."""
    result = WorkbookNames()
    targets = relationships(archive, set(archive.namelist()), part)
    for name, rel_id in _xlsb_sheets(read_part(archive, part)):
        result.sheets.append(name)
        if rel_id in targets:
            result.sheet_parts[name] = targets[rel_id]
    return result


# --------------------------------------------------------------------------- .ods
class _OdsScanner:
    """Streaming pass over an ODS content.xml: sheets, named ranges, extents and error cells.

    Honours repeated rows and columns, so the extent of every sheet is known before
    python-calamine (which reads every sheet of an .ods when it opens it) expands a 1 kB
    file into billions of cells.
    """

    TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0 "
    OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0 "
    CALCEXT = "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0 "

    def __init__(self) -> None:
        self.names = WorkbookNames()
        self.depth = 0  # nesting of table:table
        self.scan: SheetScan | None = None
        self.row = 0
        self.row_repeat = 1
        self.col = 0
        self.row_last = -1
        self.cell: tuple[int, int, bool, bool] | None = None  # column, repeat, has a value, is an error
        self.cell_text: list[str] = []
        self.cell_children = False
        t = self.TABLE
        self._table, self._row, self._cells = t + "table", t + "table-row", (t + "table-cell", t + "covered-table-cell")
        self._value_type, self._calc_type = self.OFFICE + "value-type", self.CALCEXT + "value-type"

    def _repeat(self, attrs: dict[str, str], name: str) -> int:
        try:
            return max(1, min(int(attrs.get(self.TABLE + name) or 1), 1 << 24))
        except ValueError:
            return 1

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == self._table:
            self.depth += 1
            if self.depth == 1:
                sheet = attrs.get(self.TABLE + "name") or ""
                self.names.sheets.append(sheet)
                self.scan = self.names.scans.setdefault(sheet, SheetScan())
                self.row = 0
            return
        if self.depth != 1 or self.scan is None:
            if self.depth == 0 and name.startswith(self.TABLE):
                self._named(name[len(self.TABLE) :], attrs)
            elif self.cell is not None:
                self.cell_children = True
            return
        if name == self._row:
            self.row_repeat = self._repeat(attrs, "number-rows-repeated")
            self.col, self.row_last = 0, -1
        elif name in self._cells:
            has_value = self._value_type in attrs
            is_error = attrs.get(self._calc_type) == "error"
            self.cell = (self.col, self._repeat(attrs, "number-columns-repeated"), has_value, is_error)
            self.cell_text, self.cell_children = [], False
        elif self.cell is not None:
            self.cell_children = True

    def end(self, name: str) -> None:
        if name == self._table:
            self.depth -= 1
            if self.depth == 0:
                self.scan = None
            return
        if self.depth != 1 or self.scan is None:
            return
        if name in self._cells and self.cell is not None:
            col, repeat, has_value, is_error = self.cell
            if has_value or self.cell_children:
                self.row_last = col + repeat - 1
                if is_error and repeat == 1 and self.row_repeat == 1:
                    self.scan.errors[(self.row, col)] = "".join(self.cell_text).strip()
            self.col = col + repeat
            self.cell = None
        elif name == self._row:
            if self.row_last >= 0:
                self.scan.include(self.row + self.row_repeat - 1, self.row_last)
            self.row += self.row_repeat

    def text(self, content: str) -> None:
        if self.cell is not None and self.cell[3]:
            self.cell_text.append(content)

    def _named(self, kind: str, attrs: dict[str, str]) -> None:
        name = (attrs.get(self.TABLE + "name") or "").lower()
        if kind == "named-range":
            ref = parse_ods_reference(attrs.get(self.TABLE + "cell-range-address"))
            if ref is not None:
                self.names.names[name] = ref
        elif kind == "named-expression":
            expression = attrs.get(self.TABLE + "expression")
            if (value := constant(expression)) is not None:
                self.names.names[name] = value
            elif (ref := parse_reference((expression or "").removeprefix("of:"))) is not None:
                self.names.names[name] = ref


def ods_names(content: bytes) -> WorkbookNames:
    """Sheets, named ranges and (in ``scans``) extents and error cells of an .ods content.xml.

    Raises ValueError (or an expat error) on bad XML, the refusal of a sheet larger than
    MAX_CELLS, and refuses entity declarations as defusedxml does.
    """
    scanner = _OdsScanner()
    parser = safe_parser(" ")
    parser.StartElementHandler = scanner.start
    parser.EndElementHandler = scanner.end
    parser.CharacterDataHandler = scanner.text
    try:
        parser.Parse(content, True)
    except SheetTooLarge:
        raise too_large() from None
    return scanner.names

"""Writing output files whole or not at all.

Every writer produces its file under a temporary name in the target folder and moves it
into place with :func:`os.replace` only when it is complete, so an officer never finds a
half-written workbook or CSV (for instance after a crash or a full disk).
"""

from __future__ import annotations

import contextlib
import copy
import gc
import io
import os
import secrets
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Hashable, Iterator

import xlsxwriter
import xlsxwriter.workbook
from xlsxwriter.comments import Comments
from xlsxwriter.exceptions import XlsxWriterException
from xlsxwriter.format import Format
from xlsxwriter.packager import Packager
from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.styles import Styles as StylesPart
from xlsxwriter.utility import _preserve_whitespace, xl_rowcol_to_cell_fast
from xlsxwriter.vml import Vml
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


def looks_like_rich_text(string: str) -> bool:
    """Whether xlsxwriter would take ``string`` for rich-text XML (and lose it as text)."""
    return string.startswith("<r>") and string.endswith("</r>")


class TextSafeWorksheet(Worksheet):
    """xlsxwriter's worksheet, for when the fast writers do not fit this xlsxwriter.

    xlsxwriter puts a string that starts with ``<r>`` and ends with ``</r>`` into the file
    as XML: a provider's ``<r>abc</r>`` would show as an empty cell, and broken markup
    would break the file. Such a string is written here as rich text of three plain pieces,
    which xlsxwriter escapes, so it shows exactly as typed. ``_write_string`` is where
    ``write``, ``write_string`` and ``merge_range`` all put text.
    """

    def _write_string(self, row: int, col: int, string: str, cell_format: Any = None) -> int:
        if looks_like_rich_text(string):
            pieces = (string[:1], string[1:2], string[2:]) + ((cell_format,) if cell_format is not None else ())
            return self.write_rich_string(row, col, *pieces)
        return super()._write_string(row, col, string, cell_format)


class FastCellsWorksheet(Worksheet):
    """xlsxwriter's worksheet, writing the cells these workbooks are made of faster.

    Writing the sheet XML is xlsxwriter's innermost loop (a third of the time of a
    workbook): for every cell it builds a list of attributes and escapes each one with a
    regular expression, the format index through a caught ``TypeError``. A formatted
    string or blank cell, nearly every cell written here, needs none of that: its
    reference and format index are plain ASCII. In ``constant_memory`` mode a string is
    written in the cell itself, escaped by three regular expressions: each distinct text
    is escaped once per sheet. The XML is byte for byte the same (``tests/test_report.py``
    compares it with xlsxwriter's own); every other cell goes through xlsxwriter's code.
    """

    #: Distinct texts whose escaped cell XML a streamed sheet keeps.
    INLINE_CACHE = 50_000

    def _write_cell(self, row: int, col: int, cell: Any) -> None:
        fmt = cell.format
        kind = cell.__class__
        if kind is CellStringTuple and self.constant_memory:
            self.fh.write(f'<c r="{xl_rowcol_to_cell_fast(row, col)}"{self._style(row, col, fmt)}{self._inline_body(cell.string)}')
            return
        if fmt is not None:
            if kind is CellStringTuple:
                self.fh.write(f'<c r="{xl_rowcol_to_cell_fast(row, col)}" s="{fmt._get_xf_index()}" t="s"><v>{cell.string}</v></c>')
                return
            if kind is CellBlankTuple:
                self.fh.write(f'<c r="{xl_rowcol_to_cell_fast(row, col)}" s="{fmt._get_xf_index()}"/>')
                return
        super()._write_cell(row, col, cell)

    def _style(self, row: int, col: int, fmt: Any) -> str:
        """The cell's style attribute as xlsxwriter chooses it: its own format, else its
        row's, else its column's."""
        if fmt is None:
            row_info = self.row_info.get(row)
            if row_info is not None and row_info.row_format:
                fmt = row_info.row_format
            elif col in self.col_info:
                fmt = self.col_info[col].column_format
        return "" if fmt is None else f' s="{fmt._get_xf_index()}"'

    def _inline_body(self, string: str) -> str:
        """What follows the cell's attributes for an in-cell string, as xlsxwriter writes it
        (except for text that only looks like rich text, see :class:`FastSharedStrings`:
        a plain string cell is never rich text)."""
        bodies = self.__dict__.setdefault("_inline_bodies", {})
        body = bodies.get(string)
        if body is None:
            text = self._escape_control_characters(string)
            space = ' xml:space="preserve"' if _preserve_whitespace(text) else ""
            body = f' t="inlineStr"><is><t{space}>{self._escape_data(text)}</t></is></c>'
            if len(bodies) < self.INLINE_CACHE:
                bodies[string] = body
        return body

    def _write_rich_string(self, row: int, col: int, *args: Any) -> int:
        """xlsxwriter's, noting which shared string is rich text (see :class:`FastSharedStrings`)."""
        result = super()._write_rich_string(row, col, *args)
        if result == 0 and not self.constant_memory:
            self.str_table.__dict__.setdefault("rich_indices", set()).add(self.table[row][col].string)
        return result

    def write_string(self, row: int, col: int, string: str, cell_format: Any = None) -> int:
        """xlsxwriter's ``write_string`` for (row, col) numbers, without its A1-notation wrapper."""
        return self._write_string(row, col, string, cell_format)

    def _write_string(self, row: int, col: int, string: str, cell_format: Any = None) -> int:
        """xlsxwriter's ``_write_string`` for the common case (in bounds, not near the
        length limit, not above the row being streamed) with the bounds kept inline;
        anything else goes to xlsxwriter."""
        streamed = self.constant_memory
        if (
            not (0 <= row < self.xls_rowmax and 0 <= col < self.xls_colmax)
            or len(string) > self.xls_strmax // 2
            or self.dim_rowmin is None
            or self.dim_colmin is None
            or (streamed and row < self.previous_row)
        ):
            return super()._write_string(row, col, string, cell_format)
        if row < self.dim_rowmin:
            self.dim_rowmin = row
        elif row > self.dim_rowmax:
            self.dim_rowmax = row
        if col < self.dim_colmin:
            self.dim_colmin = col
        elif col > self.dim_colmax:
            self.dim_colmax = col
        if streamed:
            if row > self.previous_row:
                self._write_single_row(row)
            self.table[row][col] = CellStringTuple(string, cell_format)
        else:
            self.table[row][col] = CellStringTuple(self.str_table._get_shared_string_index(string), cell_format)
        return 0

    def _write_rows(self) -> None:
        """xlsxwriter's, visiting the cells a row has instead of every column of the sheet
        (the same rows and cells in the same order)."""
        self._calculate_spans()
        table, row_info, comments, spans = self.table, self.row_info, self.comments, self.row_spans
        for row_num in range(self.dim_rowmin, self.dim_rowmax + 1):
            cells = table.get(row_num)
            if cells:
                self._write_row(row_num, spans.get(row_num // 16), row_info.get(row_num))
                for col_num in sorted(cells):
                    self._write_cell(row_num, col_num, cells[col_num])
                self._xml_end_tag("row")
            elif row_num in row_info or row_num in comments:
                self._write_empty_row(row_num, spans.get(row_num // 16), row_info.get(row_num))

    def _calculate_spans(self) -> None:
        """xlsxwriter's: per block of 16 rows, the first and last column holding a cell or
        a note, from the cells each row has instead of every column of the sheet."""
        blocks: dict[int, tuple[int, int]] = {}
        for rows in (self.table, self.comments):
            for row_num, cells in rows.items():
                if not cells or not self.dim_rowmin <= row_num <= self.dim_rowmax:
                    continue
                low, high = min(cells), max(cells)
                block = row_num // 16
                known = blocks.get(block)
                blocks[block] = (low, high) if known is None else (min(known[0], low), max(known[1], high))
        self.row_spans = {block: f"{low + 1}:{high + 1}" for block, (low, high) in blocks.items()}

    def _write_sheet_data(self) -> None:
        """xlsxwriter's, or the XML of cells copied by :func:`fixed_cells` when the sheet
        still holds exactly those cells (its cells' XML is then already known)."""
        fixed = self.__dict__.get("_fixed_cells")
        if fixed is not None and fixed.matches(self):
            self.fh.write(fixed.xml)
            return
        super()._write_sheet_data()

    def _write_single_row(self, current_row_num: int = 0) -> None:
        """xlsxwriter's, streaming a row to its file in one write instead of one per cell
        (each write to the text file costs more than building the cell's XML), and visiting
        the cells the row has instead of every column of the sheet."""
        row_num, self.previous_row = self.previous_row, current_row_num
        cells, info = self.table.get(row_num), self.row_info.get(row_num)
        if cells or info is not None or row_num in self.comments:
            real = self.fh
            self.fh = buffer = io.StringIO()
            try:
                if cells:
                    self._write_row(row_num, None, info)
                    for col_num in sorted(cells):
                        self._write_cell(row_num, col_num, cells[col_num])
                    self._xml_end_tag("row")
                else:
                    self._write_empty_row(row_num, None, info)
            finally:
                self.fh = real
            real.write(buffer.getvalue())
        self.table.clear()


class FastVml(Vml):
    """xlsxwriter's VML part with each cell note's shape written in one piece.

    A note's shape is some 20 fixed elements around five values; xlsxwriter writes each
    element through its generic escaping writer, which made the notes of an Aanlevering
    sheet cost as much as all its cells. Same bytes (see ``tests/test_report.py``).
    """

    def _write_comment_shape(self, shape_id: int, z_index: int, comment: Any) -> None:
        left, top, width, height = self._pixels_to_points(comment.vertices)
        visibility = "visible" if comment.is_visible else "hidden"
        style = (
            f"position:absolute;margin-left:{left:.15g}pt;margin-top:{top:.15g}pt;"
            f"width:{width:.15g}pt;height:{height:.15g}pt;z-index:{z_index};visibility:{visibility}"
        )
        col_start, row_start, x1, y1, col_end, row_end, x2, y2 = comment.vertices[:8]
        fill = self._escape_attributes(comment.color._vml_rgb_hex_value())
        self.fh.write(
            f'<v:shape id="_x0000_s{shape_id}" type="#_x0000_t202" style="{style}" fillcolor="{fill}" o:insetmode="auto">'
            '<v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>'
            '<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div></v:textbox>'
            '<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f"<x:Anchor>{col_start}, {x1}, {row_start}, {y1}, {col_end}, {x2}, {row_end}, {y2}</x:Anchor>"
            f"<x:AutoFill>False</x:AutoFill><x:Row>{comment.row}</x:Row><x:Column>{comment.col}</x:Column>"
            f"{'<x:Visible/>' if comment.is_visible else ''}</x:ClientData></v:shape>"
        )


class FastComments(Comments):
    """xlsxwriter's comments part with each note written in one piece (same bytes)."""

    def _write_comment(self, comment: Any, author_id: int) -> None:
        author = f' authorId="{author_id}"' if author_id != -1 else ""
        space = ' xml:space="preserve"' if _preserve_whitespace(comment.text) else ""
        text = self._escape_control_characters(self._escape_data(comment.text))
        self.fh.write(
            f'<comment ref="{xl_rowcol_to_cell_fast(comment.row, comment.col)}"{author}><text><r><rPr>'
            f'<sz val="{self._escape_attributes(comment.font_size)}"/><color indexed="81"/>'
            f'<rFont val="{self._escape_attributes(comment.font_name)}"/>'
            f'<family val="{self._escape_attributes(comment.font_family)}"/></rPr>'
            f"<t{space}>{text}</t></r></text></comment>"
        )


class FastSharedStrings(SharedStrings):
    """xlsxwriter's shared strings part, each text's XML made once per process.

    Escaping a text takes three regular expressions; most texts of a provider workbook
    (labels, rule titles, norms, legend) are the same in every workbook of an audit.
    Same bytes (see ``tests/test_report.py``).
    """

    #: Texts whose XML the process keeps.
    CACHE = 50_000
    _xml: dict[str, str] = {}

    def _write_sst_strings(self) -> None:
        known = self._xml
        rich = getattr(self.string_table, "rich_indices", ())
        parts = []
        for index, string in enumerate(self.string_table.string_array):
            if looks_like_rich_text(string):  # rich text, or text that only looks like it
                parts.append(self._si_xml(string, rich=index in rich))
                continue
            xml = known.get(string)
            if xml is None:
                xml = self._si_xml(string)
                if len(known) < self.CACHE:
                    known[string] = xml
            parts.append(xml)
        self.fh.write("".join(parts))

    def _si_xml(self, string: str, rich: bool = False) -> str:
        """What xlsxwriter's ``_write_si`` writes for ``string``, except that text which
        only looks like rich text (a provider's ``<r>...</r>``) is written as text: xlsxwriter
        would put it into the file as XML, losing or breaking it."""
        text = self._escape_control_characters(string)
        if rich:
            return f"<si>{text}</si>"
        space = ' xml:space="preserve"' if _preserve_whitespace(text) else ""
        return f"<si><t{space}>{self._escape_data(text)}</t></si>"


class FastPackager(Packager):
    """xlsxwriter's packager, writing cell notes with :class:`FastVml` and :class:`FastComments`
    and the shared strings with :class:`FastSharedStrings`."""

    #: styles.xml per combination of formats (see :meth:`_Workbook.styles_key`).
    _styles_xml: dict[tuple, str] = {}

    def _write_styles_file(self) -> None:
        """The styles part, made once per process for each combination of formats: the
        provider workbooks of an audit mostly use the same formats in the same order."""
        key = self.workbook.__dict__.get("prepared_styles_key") if self.in_memory else None
        if key is None:
            super()._write_styles_file()
            return
        xml = self._styles_xml.get(key)
        if xml is None:
            workbook = self.workbook
            styles = StylesPart()
            styles._set_style_properties(
                [
                    workbook.xf_formats,
                    workbook.palette,
                    workbook.font_count,
                    workbook.num_formats,
                    workbook.border_count,
                    workbook.fill_count,
                    workbook.custom_colors,
                    workbook.dxf_formats,
                    workbook.has_comments,
                ]
            )
            buffer = io.StringIO()
            styles._set_xml_writer(buffer)
            styles._assemble_xml_file()
            xml = buffer.getvalue()
            if len(self._styles_xml) < 64:
                self._styles_xml[key] = xml
        self._filename("xl/styles.xml").write(xml)

    def _write_shared_strings_file(self) -> None:
        if not self.workbook.str_table.count:
            return
        sst = FastSharedStrings()
        sst.string_table = self.workbook.str_table
        sst._set_xml_writer(self._filename("xl/sharedStrings.xml"))
        sst._assemble_xml_file()

    def _write_vml_files(self) -> None:
        sheets = self.workbook.worksheets()
        if any(sheet.has_header_vml or sheet.buttons_list for sheet in sheets):
            super()._write_vml_files()  # header images and buttons: xlsxwriter's own way
            return
        index = 1
        for sheet in sheets:
            if sheet.has_vml:
                vml = FastVml()
                vml._set_xml_writer(self._filename(f"xl/drawings/vmlDrawing{index}.vml"))
                vml._assemble_xml_file(sheet.vml_data_id, sheet.vml_shape_id, sheet.comments_list, sheet.buttons_list)
                index += 1

    def _write_comment_files(self) -> None:
        index = 1
        for sheet in self.workbook.worksheets():
            if sheet.has_comments:
                comments = FastComments()
                comments._set_xml_writer(self._filename(f"xl/comments{index}.xml"))
                comments._assemble_xml_file(sheet.comments_list)
                index += 1


def _fast_writers_fit() -> bool:
    """Whether this xlsxwriter's internals are what the fast writers above expect."""
    try:
        probe = Format({"bold": True}, {}, {})
        return (
            callable(getattr(Worksheet, "_write_cell", None))
            and callable(getattr(Worksheet, "_write_string", None))
            and callable(getattr(Worksheet, "_write_rich_string", None))
            and callable(getattr(Worksheet, "_write_single_row", None))
            and CellStringTuple._fields == ("string", "format")
            and CellBlankTuple._fields == ("format",)
            and all(callable(getattr(Vml, name, None)) for name in ("_write_comment_shape", "_pixels_to_points"))
            and callable(getattr(Comments, "_write_comment", None))
            and callable(getattr(SharedStrings, "_write_sst_strings", None))
            and callable(getattr(Packager, "_write_shared_strings_file", None))
            and callable(getattr(Packager, "_write_styles_file", None))
            and callable(getattr(StylesPart, "_set_style_properties", None))
            and all(callable(getattr(Packager, name, None)) for name in ("_write_vml_files", "_write_comment_files", "_filename"))
            and callable(getattr(xlsxwriter.Workbook, "_get_packager", None))
            and all(callable(getattr(xlsxwriter.Workbook, name, None)) for name in ("_prepare_formats", "_prepare_format_properties"))
            and isinstance(probe._get_format_key(), str)
            and {"xf_format_indices", "dxf_format_indices", "xf_index", "dxf_index"} <= vars(probe).keys()
        )
    except Exception:  # noqa: BLE001 - any surprise: use xlsxwriter's own code
        return False


#: Whether workbooks use the fast writers (xlsxwriter's own code if its internals changed).
FAST_WRITERS: bool = _fast_writers_fit()

#: Formats made once per process, copied into each workbook: property tuple -> Format.
_PROTOTYPES: dict[tuple, Format] = {}


#: Deflate level of the parts of every workbook. The fastest level packs a provider
#: workbook (about 80 kB of XML) in a quarter less time than the default (6), for a file
#: some 15% larger (about 18 instead of 16 kB).
ZIP_LEVEL = 1


class _FastZipFile(zipfile.ZipFile):
    """The zip file xlsxwriter packs a workbook into, at :data:`ZIP_LEVEL`."""

    def writestr(self, zinfo_or_arcname: Any, data: Any, compress_type: Any = None, compresslevel: Any = None) -> None:
        super().writestr(zinfo_or_arcname, data, compress_type, ZIP_LEVEL if compresslevel is None else compresslevel)


class _PackedZipFile:
    """The zip file of an in-memory workbook, packed in one piece at :data:`ZIP_LEVEL`.

    What :class:`zipfile.ZipFile` writes for xlsxwriter's parts, byte for byte (a test
    compares them), without its per-part file handles, seeks and rewritten headers. A
    part whose bytes are the same as the last time a part of that name was packed in
    this process (the theme, styles, relationships) is not compressed again.
    """

    #: Part name -> (its bytes, CRC, compressed bytes), the last packed in this process.
    _packed: dict[str, tuple[bytes, int, bytes]] = {}

    def __init__(self, file: Any, mode: str = "w", compression: int = zipfile.ZIP_DEFLATED, allowZip64: bool = True):
        self.file = file
        self.compression = compression
        self._chunks: list[bytes] = []
        self._central: list[bytes] = []
        self._offset = 0

    def writestr(self, zinfo: zipfile.ZipInfo, data: bytes, compress_type: Any = None, compresslevel: Any = None) -> None:
        name = zinfo.filename
        if isinstance(data, str):
            data = data.encode("utf-8")
        last = self._packed.get(name)
        if last is not None and last[0] == data:
            crc, packed = last[1], last[2]
        else:
            deflate = zlib.compressobj(ZIP_LEVEL, zlib.DEFLATED, -15)
            crc, packed = zlib.crc32(data), deflate.compress(data) + deflate.flush()
            if len(data) <= 1 << 20:
                self._packed[name] = (data, crc, packed)
        # As zipfile: an ASCII name as is, any other in UTF-8 with the flag that says so.
        raw_name, flags = (name.encode("ascii"), zinfo.flag_bits) if name.isascii() else (name.encode("utf-8"), zinfo.flag_bits | 0x800)
        year, month, day, hour, minute, second = zinfo.date_time
        date, time = (year - 1980) << 9 | month << 5 | day, hour << 11 | minute << 5 | second // 2
        # zipfile (Python 3.11+) gives a part without attributes read and write rights for its owner.
        fields = (flags, zipfile.ZIP_DEFLATED, time, date, crc, len(packed), len(data), len(raw_name))
        header = struct.pack(zipfile.structFileHeader, zipfile.stringFileHeader, zinfo.extract_version, 0, *fields, 0)
        self._central.append(
            struct.pack(
                zipfile.structCentralDir, zipfile.stringCentralDir, zinfo.create_version, zinfo.create_system,
                zinfo.extract_version, 0, *fields, 0, 0, 0, zinfo.internal_attr, zinfo.external_attr or 0o600 << 16, self._offset,
            )
            + raw_name
        )
        self._chunks += (header, raw_name, packed)
        self._offset += len(header) + len(raw_name) + len(packed)

    def close(self) -> None:
        directory = b"".join(self._central)
        count = len(self._central)
        end = struct.pack(zipfile.structEndArchive, zipfile.stringEndArchive, 0, 0, count, count, len(directory), self._offset, 0)
        with open(self.file, "wb") as handle:
            handle.write(b"".join(self._chunks) + directory + end)


class _Workbook(xlsxwriter.Workbook):
    """xlsxwriter's workbook with the fast writers, when they fit this xlsxwriter."""

    def _store_workbook(self) -> None:
        """xlsxwriter's packing, with the zip file at :data:`ZIP_LEVEL` (xlsxwriter has no
        option for the level: its module's ZipFile is swapped for the call); an in-memory
        workbook is packed by :class:`_PackedZipFile`."""
        if not FAST_WRITERS or getattr(xlsxwriter.workbook, "ZipFile", None) is not zipfile.ZipFile:
            return super()._store_workbook()
        small = self.in_memory and isinstance(self.filename, str) and len(self.worksheets_objs) < 1000
        xlsxwriter.workbook.ZipFile = _PackedZipFile if small else _FastZipFile
        try:
            return super()._store_workbook()
        finally:
            xlsxwriter.workbook.ZipFile = zipfile.ZipFile

    def add_worksheet(self, name: str | None = None, worksheet_class: Any = None) -> Any:
        return super().add_worksheet(name, worksheet_class or (FastCellsWorksheet if FAST_WRITERS else TextSafeWorksheet))

    def _get_packager(self) -> Any:
        return FastPackager() if FAST_WRITERS else super()._get_packager()

    def add_format(self, properties: dict[str, Any] | None = None) -> Format:
        """A format, copied from one made earlier in this process with the same properties.

        Making a format parses every property and colour; each workbook here uses the same
        few dozen, so they are made once. A copy is registered exactly as xlsxwriter's own
        ``add_format`` registers a new one, so the file is the same. Formats are never
        changed after they are made (the key that identifies them is computed once).
        """
        if not FAST_WRITERS or not properties:
            return super().add_format(properties)
        try:
            key = (tuple(self.default_format_properties.items()), tuple(properties.items()))
            proto = _PROTOTYPES.get(key)
        except TypeError:  # an unhashable property value
            return super().add_format(properties)
        if proto is None:
            proto = Format({**self.default_format_properties, **properties}, None, None)
            proto._get_format_key()
            if len(_PROTOTYPES) < 4096:
                _PROTOTYPES[key] = proto
        fmt = copy.copy(proto)
        fmt.xf_format_indices = self.xf_format_indices
        fmt.dxf_format_indices = self.dxf_format_indices
        self.formats.append(fmt)
        self.__dict__.setdefault("_made_from", {})[id(fmt)] = key
        return fmt

    def styles_key(self) -> tuple | None:
        """What the styles part is made of, when every format of the workbook was copied
        from a prototype (else None): the prototypes of the formats in index order (their
        properties fix the font, border, fill and number format tables) and the colours."""
        made_from = self.__dict__.get("_made_from", {})
        try:
            key = (
                tuple(made_from[id(f)] for f in self.xf_formats),
                tuple(made_from[id(f)] for f in self.dxf_formats),
                tuple(self.custom_colors),
                tuple(self.palette),
                self.has_comments,
            )
            hash(key)
            return key
        except (KeyError, TypeError):
            return None

    def _prepare_format_properties(self) -> None:
        """xlsxwriter's, but when the styles part of this combination of formats was made
        before in this process (see :class:`FastPackager`) only the formats are put in index
        order: the font, border, fill and number format tables it prepares are only used
        to make the styles part."""
        if not FAST_WRITERS or not self.in_memory:
            super()._prepare_format_properties()
            return
        self._prepare_formats()
        key = self.prepared_styles_key = self.styles_key()
        if key is None or key not in FastPackager._styles_xml:
            super()._prepare_format_properties()


#: The worksheet attributes that writing cells and row heights changes.
_CELL_STATE = ("table", "dim_rowmin", "dim_rowmax", "dim_colmin", "dim_colmax", "row_info", "row_sizes", "outline_row_level")
#: What a sheet's ``<sheetData>`` is made of besides those (see ``Worksheet._write_rows``).
_SHEET_DATA_INPUTS = ("comments", "default_row_height", "original_row_height", "excel_version")


def _fresh(value: Any) -> Any:
    """A copy of ``value`` whose dicts and lists (at any depth) are new; other values shared."""
    if isinstance(value, dict):
        new = copy.copy(value)  # keeps a defaultdict's factory
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                new[key] = _fresh(item)
        return new
    if isinstance(value, list):
        return [_fresh(item) for item in value]
    return value


@dataclass(frozen=True)
class _FixedCells:
    """What :func:`fixed_cells` recorded: the sheet's cell state, the shared strings and
    format indices the cells refer to, and their ``<sheetData>`` XML."""

    state: dict[str, Any]  # _CELL_STATE attributes after writing
    inputs: dict[str, Any]  # _SHEET_DATA_INPUTS attributes after writing
    strings: dict[str, int]  # the workbook's shared strings (all written by these cells)
    string_count: int
    xf_indices: dict[str, int]  # the workbook's format indices (all fixed before writing)
    xml: str

    def matches(self, sheet: Any) -> bool:
        """Whether ``sheet`` holds exactly the recorded cells (so ``xml`` is its sheetData)."""
        return all(getattr(sheet, name) == value for name, value in self.state.items()) and all(
            getattr(sheet, name) == value for name, value in self.inputs.items()
        )


def _may_fix(workbook: Any, sheet: Any) -> bool:
    """Whether ``sheet`` is untouched and its cells would be the first in ``workbook``'s
    shared strings: then what is written to it depends on nothing else."""
    sst = workbook.str_table
    return (
        FAST_WRITERS
        and isinstance(workbook, _Workbook)
        and type(sheet) is FastCellsWorksheet
        and not sheet.constant_memory
        and sst.count == 0
        and not sst.string_table
        and "rich_indices" not in vars(sst)
        and sheet.dim_rowmin is None
        and sheet.dim_colmin is None
        and not sheet.table
        and not sheet.row_info
        and not sheet.comments
    )


def fixed_cells(workbook: Any, sheet: Any, cache: dict, key: Hashable, write: Callable[[], None]) -> None:
    """Run ``write``, which writes cells (and row heights) of ``sheet`` that are the same
    in every workbook with ``key`` — or copy what it wrote the first time.

    For a sheet that every workbook of an audit shows identically (Normen): writing its
    cells and their XML would cost a sixth of a provider workbook. The first time (in a
    process, per ``cache`` and ``key``) ``write`` runs and what it did is recorded; after
    that its cells, shared strings and XML are copied. Only when the result cannot differ:
    ``sheet`` is untouched, its cells come first in the shared strings, every format it
    uses has its index fixed beforehand (:func:`fix_format_indices`) and the workbook's
    format indices are the same as the first time; ``write`` may change nothing but cells
    and row heights. Otherwise ``write`` simply runs. The file is byte for byte the one
    ``write`` makes (``tests/test_report.py``).
    """
    if not _may_fix(workbook, sheet):
        write()
        return
    entry = cache.get(key)
    if entry is not None and entry.xf_indices == workbook.xf_format_indices:
        for name, value in entry.state.items():
            setattr(sheet, name, _fresh(value))
        sst = workbook.str_table
        sst.string_table = dict(entry.strings)
        sst.count, sst.unique_count = entry.string_count, len(entry.strings)
        sheet._fixed_cells = entry
        return
    before = {name: _fresh(value) for name, value in vars(sheet).items()}
    write()
    entry = _record_fixed(workbook, sheet, before)
    if entry is not None and len(cache) < 16:
        cache[key] = entry


def _record_fixed(workbook: Any, sheet: Any, before: dict[str, Any]) -> _FixedCells | None:
    """What ``write`` did to a sheet (see :func:`fixed_cells`), or None when it did more
    than write cells and row heights with formats whose index was fixed beforehand."""
    after = vars(sheet)
    changed = {name for name, value in after.items() if name not in before or before[name] != value}
    if not changed <= set(_CELL_STATE) or "rich_indices" in vars(workbook.str_table):
        return None
    indices = workbook.xf_format_indices

    def fixed(fmt: Any) -> bool:
        return fmt.xf_index is not None or fmt._get_format_key() in indices

    # Every cell formatted (else its row's or column's format counts), every index fixed.
    if not all(cell.format is not None and fixed(cell.format) for cells in sheet.table.values() for cell in cells.values()):
        return None
    if not all(info.row_format is None or fixed(info.row_format) for info in sheet.row_info.values()):
        return None
    state = {name: _fresh(after[name]) for name in _CELL_STATE}
    real_table, real_fh, buffer = sheet.table, sheet.fh, io.StringIO()
    sheet.table, sheet.fh = _fresh(real_table), buffer  # writing the XML adds empty rows to the table
    try:
        sheet._write_sheet_data()
    finally:
        sheet.table, sheet.fh = real_table, real_fh
    sst = workbook.str_table
    return _FixedCells(
        state=state,
        inputs={name: _fresh(after[name]) for name in _SHEET_DATA_INPUTS},
        strings=dict(sst.string_table),
        string_count=sst.count,
        xf_indices=dict(workbook.xf_format_indices),
        xml=buffer.getvalue(),
    )


def fix_format_indices(formats: Any) -> None:
    """Give ``formats`` their index in the workbook now, in this order (xlsxwriter numbers
    formats as the sheets are written out; see :func:`fixed_cells`)."""
    for fmt in formats:
        fmt._get_xf_index()


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
def no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while a workbook is built.

    A workbook holds an object per cell (some 180,000 in the overview of 1,000 returns)
    until it is written out, and none of them is part of a reference cycle. While they
    pile up the collector would scan them, and everything else in the process, again and
    again: a fifth of the time of the overview. Nothing is leaked: ordinary garbage is
    freed as always, and collection resumes (if it was on) when the block ends.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def new_workbook(path: Path, *, streamed: bool = False) -> Iterator[xlsxwriter.Workbook]:
    """An xlsxwriter workbook with the safe options, written atomically to ``path``.

    ``streamed``: xlsxwriter's ``constant_memory`` mode, for a workbook too big to hold in
    memory. Each row goes to a temporary file once the next row is started, so every
    sheet must be written row by row, top to bottom (a cell written above the current
    row is lost). About 1.7 times slower, and text is stored per cell instead of once.
    """
    options = {**WORKBOOK_OPTIONS, "in_memory": False, "constant_memory": True} if streamed else WORKBOOK_OPTIONS
    with atomic_path(path) as tmp, no_cycle_collection():
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

"""Recognising a file by its content (magic bytes) and, failing that, its name; refusing
what cannot be a return before any library unpacks it."""

from __future__ import annotations

import stat as statmod
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from kvcompliance.errors import UnreadableFile
from kvcompliance.ingest.containers import (
    OLE_MAGIC,
    ods_encrypted,
    open_zip,
    read_ole,
    read_part,
    verify_unpacked_sizes,
)
from kvcompliance.ingest.names import WorkbookNames, xlsx_names
from kvcompliance.ingest.parts import workbook_part
from kvcompliance.ingest.reasons import cannot_open, megabytes, not_spreadsheet, refusal
from kvcompliance.ingest.scans import SheetScan, SheetTooLarge, scan_biff, scan_xlsx_sheet, too_large
from kvcompliance.model import CellRef

#: No input file larger than this is read at all (a filled-in form is some 20 kB).
MAX_FILE_SIZE = 50 * 1024 * 1024

#: Magic bytes of common files that are not spreadsheets, and what they are ([wat] in the catalogue).
MAGIC = (
    (b"%PDF", "pdf"),
    (b"\x89PNG", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF8", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"BM", "bmp"),
    (b"{\\rtf", "rtf"),
    (b"Rar!", "rar"),
    (b"7z\xbc\xaf", "zevenzip"),
    (b"\x1f\x8b", "gz"),
)
#: What a file that is not a spreadsheet is, by its extension ([wat] in the catalogue).
EXTENSIONS = {
    ".pdf": "pdf",
    ".doc": "word",
    ".docx": "word",
    ".odt": "tekstdocument",
    ".txt": "tekstbestand",
    ".rtf": "rtf",
    ".msg": "email",
    ".eml": "email",
    ".png": "afbeelding",
    ".jpg": "afbeelding",
    ".jpeg": "afbeelding",
    ".heic": "afbeelding",
    ".gif": "afbeelding",
    ".tif": "afbeelding",
    ".tiff": "afbeelding",
    ".zip": "zip",
    ".ppt": "powerpoint",
    ".pptx": "powerpoint",
    ".html": "webpagina",
    ".htm": "webpagina",
}
OOXML_EXTENSIONS = {".xlsx", ".xlsm", ".xltx", ".xltm"}
SPREADSHEET_EXTENSIONS = OOXML_EXTENSIONS | {".xlsb", ".xls", ".xlt", ".ods", ".ots", ".csv"}


@dataclass(frozen=True)
class Sniffed:
    """What a file turned out to be."""

    format: str  # xlsx (also xlsm), xlsb, ods, xls, csv
    workbook_part: str | None = None  # for xlsx/xlsb/ods: the path of the workbook part in the zip
    #: for xls: what the pass over the workbook stream found per sheet (error cells)
    scans: Mapping[str, SheetScan] | None = field(default=None, compare=False, repr=False)
    #: for xlsx: sheets and defined names (and the scans of the sheets they point to), read
    #: while the container was open anyway
    names: WorkbookNames | None = field(default=None, compare=False, repr=False)


def sniff(path: Path) -> Sniffed:
    """Find out what ``path`` is by its content (magic bytes) and, failing that, its name.

    Raises :class:`UnreadableFile` for anything that cannot be a return: not a regular
    file, empty, larger than :data:`MAX_FILE_SIZE`, not a spreadsheet, protected with a
    password, damaged, or a zip container that would unpack to too much.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        info = path.stat()
    except OSError as exc:
        raise cannot_open(exc) from None
    if statmod.S_ISDIR(info.st_mode):
        raise refusal("map_onleesbaar")
    if not statmod.S_ISREG(info.st_mode):  # a pipe or device would block the run
        raise refusal("geen_gewoon_bestand")
    if info.st_size == 0:
        raise refusal("leeg")
    if info.st_size > MAX_FILE_SIZE:
        raise refusal("bestand_te_groot", grootte=megabytes(info.st_size), grens=megabytes(MAX_FILE_SIZE))
    try:
        with path.open("rb") as handle:
            head = handle.read(512)
    except OSError as exc:
        raise cannot_open(exc) from None
    if not head:
        raise refusal("leeg")
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _sniff_zip(path, suffix)
    if head.startswith(OLE_MAGIC):
        return _sniff_ole(path, suffix)
    for magic, what in MAGIC:
        if head.startswith(magic):
            raise not_spreadsheet(what)
    if head[4:8] == b"ftyp":
        raise not_spreadsheet("afbeelding_of_video")
    text_head = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text_head.startswith((b"<!doctype html", b"<html", b"<table")) or b"<html" in text_head[:200]:
        if suffix in SPREADSHEET_EXTENSIONS:
            raise refusal("webpagina", extensie=suffix)
        raise not_spreadsheet("webpagina_html")
    if text_head.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in head:
        raise refusal("xml_spreadsheet_2003")
    if suffix == ".csv":
        return Sniffed("csv")
    if suffix in SPREADSHEET_EXTENSIONS and _delimited_text(head, full=len(head) == 512):
        return Sniffed("csv")  # an 'export to Excel' (or a renamed .csv) that is a table as text
    raise _by_extension(suffix)


def _delimited_text(head: bytes, full: bool) -> bool:
    """Whether the start of a file is a table as text: printable lines that each split
    into two or more fields by one delimiter (``;``, ``,`` or tab). ``full``: the head was
    cut off, so its last line may be too."""
    import csv

    from kvcompliance.tabular import decode_text, sniff_delimiter

    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    lines = decode_text(head).splitlines()
    lines = [line for line in (lines[:-1] if full else lines) if line.strip()]
    if not lines or not all(ch.isprintable() or ch == "\t" for line in lines for ch in line):
        return False
    delimiter = sniff_delimiter("\n".join(lines))
    return all(len(next(csv.reader([line], delimiter=delimiter))) >= 2 for line in lines)


def _by_extension(suffix: str) -> UnreadableFile:
    """The refusal of a file that is no spreadsheet we know, by its extension."""
    if suffix in SPREADSHEET_EXTENSIONS:
        return refusal("geen_geldige_spreadsheet", extensie=suffix)
    if suffix in (".eml", ".msg"):
        return refusal("email")
    if suffix in EXTENSIONS:
        return not_spreadsheet(EXTENSIONS[suffix])
    return not_spreadsheet("extensie", extensie=suffix) if suffix else not_spreadsheet("zonder_extensie")


# --------------------------------------------------------------------------- zip containers
def _sniff_zip(path: Path, suffix: str) -> Sniffed:
    try:
        with open_zip(path) as archive:
            members = set(archive.namelist())
            if any(n.startswith("xl/") for n in members):
                verify_unpacked_sizes(path, archive)
                part = workbook_part(archive, members)
                if part is None:
                    raise refusal("werkmap_ontbreekt")
                if part.endswith(".bin"):
                    return Sniffed("xlsb", part)
                return _sniff_xlsx(archive, members, part)
            if "mimetype" in members:
                mimetype = read_part(archive, "mimetype")[:200].decode("ascii", "replace").strip()
                if mimetype.startswith("application/vnd.oasis.opendocument.spreadsheet"):
                    if ods_encrypted(archive, members):
                        raise refusal("beveiligd")
                    verify_unpacked_sizes(path, archive)
                    if "content.xml" not in members:
                        raise refusal("beschadigd")
                    return Sniffed("ods", "content.xml")
                if "opendocument.text" in mimetype:
                    raise not_spreadsheet("opendocument_tekst")
                raise not_spreadsheet("opendocument")
    except UnreadableFile:
        raise
    except Exception:  # noqa: BLE001 - a damaged container must never crash the run
        raise refusal("beschadigd") from None
    if any(n.startswith("word/") for n in members):
        raise not_spreadsheet("word")
    if any(n.startswith("ppt/") for n in members):
        raise not_spreadsheet("powerpoint")
    if suffix in SPREADSHEET_EXTENSIONS:
        raise refusal("geen_geldige_spreadsheet", extensie=suffix)
    raise refusal("zip_archief")


def _sniff_xlsx(archive: zipfile.ZipFile, members: set[str], part: str) -> Sniffed:
    """An .xlsx: read its names now, and scan the sheets they point to, so the container
    is opened once for both (the common case: a return made from our form)."""
    try:
        names = xlsx_names(archive, part, members)
    except UnreadableFile:
        raise
    except Exception:  # noqa: BLE001 - damaged or hostile XML: reading the names says so later
        return Sniffed("xlsx", part)
    sheets = {ref.sheet.lower() for key, ref in names.names.items() if key.startswith("kv_") and isinstance(ref, CellRef)}
    for sheet, sheet_part in names.sheet_parts.items():
        if sheet.lower() in sheets and sheet_part in members:
            names.scans[sheet] = scan_xlsx_sheet(read_part(archive, sheet_part))
    return Sniffed("xlsx", part, names=names)


# --------------------------------------------------------------------------- OLE2 (old Office) files
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")


def _sniff_ole(path: Path, suffix: str) -> Sniffed:
    try:
        ole = read_ole(path)
    except OSError as exc:
        raise cannot_open(exc) from None
    except ValueError:
        # Not a well-formed compound file: a protected .xlsx still names its encryption stream.
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise cannot_open(exc) from None
        raise refusal("beveiligd" if _ENCRYPTION_INFO in raw else "beschadigd") from None
    if ole.encrypted:
        raise refusal("beveiligd")
    if ole.workbook is not None:
        try:
            return Sniffed("xls", scans=scan_biff(ole.workbook))
        except SheetTooLarge:
            raise too_large() from None
    names = ole.names
    if "worddocument" in names:
        raise not_spreadsheet("word_oud")
    if "powerpoint document" in names:
        raise not_spreadsheet("powerpoint_oud")
    if any(name.startswith("__substg1.0_") for name in names) or suffix == ".msg":
        raise refusal("email")
    if suffix in (".xls", ".xlt"):
        raise refusal("xls_beschadigd")
    if suffix in EXTENSIONS:
        raise not_spreadsheet(EXTENSIONS[suffix])
    raise not_spreadsheet("office_oud")

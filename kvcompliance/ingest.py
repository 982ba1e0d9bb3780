"""Finding input files and reading returns made from the form.

The reader is built for speed (thousands of files) and for files as providers really send
them. Reading happens in steps:

1. :func:`sniff` — what kind of file is this; refuse what is no spreadsheet, what is
   protected with a password, too large or a zip bomb — *before* any library unpacks it;
2. :func:`locate_fields` — where is each field, by the form's workbook-level defined names
   (``kv_<key>``, read straight from the file's XML); when names are missing (.xls, .xlsb,
   .csv, a copy-paste into another workbook, an older form) :func:`scan_labels` finds the
   fields by their key or Dutch label and takes the answer next to it;
3. the raw values of those cells, read with python-calamine. Error cells (``#DEEL/0!``)
   and formulas without a computed value, which calamine shows as empty, are found in the
   file itself so that the provider's text reaches the value parsers.

Every problem with a file becomes :class:`UnreadableFile` with a plain Dutch reason and a
short ``kind``; no other exception escapes :func:`read_return` for bad input. Before
python-calamine sees a file its size, its zip container and the size of each sheet are
checked, because calamine allocates a sheet as one dense block: a 5 kB file with a cell in
XFD1048576 would otherwise take the whole process down.
"""

from __future__ import annotations

import functools
import hashlib
import html
import math
import os
import posixpath
import re
import stat as statmod
import struct
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping
from xml.parsers import expat

from kvcompliance.catalogue import VERSION_NAME, Catalogue
from kvcompliance.errors import KvError, UnreadableFile
from kvcompliance.model import CellRef, ReturnRecord, SourceFile
from kvcompliance.text import squash


#: No input file larger than this is read at all (a filled-in form is some 20 kB).
MAX_FILE_SIZE = 50 * 1024 * 1024
#: Zip-bomb guard: refuse a spreadsheet that unpacks to more than this many bytes ...
MAX_UNCOMPRESSED = 200 * 1024 * 1024
#: ... or that holds more than this many parts ...
MAX_MEMBERS = 10_000
#: ... or one part larger than this (also the largest XML part we parse ourselves) ...
MAX_XML_PART = 50 * 1024 * 1024
#: ... or a part larger than RATIO_FLOOR that is packed more than MAX_RATIO times.
MAX_RATIO = 200
RATIO_FLOOR = 1024 * 1024
#: A part that unpacks to more than this beyond its claimed size is a zip bomb (less: damaged).
BOMB_MARGIN = 1024 * 1024
#: The largest sheet (rows x columns, counted from A1) handed to python-calamine, which
#: holds a sheet as one dense block of cells.
MAX_CELLS = 2_000_000
#: Where the label scan looks for the fields of the form (rows, columns from A1).
MAX_SCAN_ROWS = 1000
MAX_SCAN_COLS = 100
#: Longest cell text that can be a field's label.
MAX_LABEL_CHARS = 200

HASH_CHUNK = 1024 * 1024

# Short kinds of unreadable files (RejectedFile.kind).
KIND_UNREADABLE = "onleesbaar"
KIND_PROTECTED = "beveiligd"
KIND_NO_FORM = "geen opgave"
KIND_EMPTY = "leeg"
KIND_NOT_SPREADSHEET = "geen spreadsheet"
KIND_TOO_LARGE = "te groot"

#: Files that operating systems leave in shared folders; never a return.
SYSTEM_FILES = {"thumbs.db", "desktop.ini", "ehthumbs.db"}

ASK_XLSX = "Vraag de aanbieder het ingevulde Excel-formulier (.xlsx) te sturen."
ASK_WITHOUT_PASSWORD = "Vraag de aanbieder het formulier zonder wachtwoord opnieuw te sturen."
PROTECTED_REASON = f"Het bestand is met een wachtwoord beveiligd en kan daarom niet worden gelezen. {ASK_WITHOUT_PASSWORD}"

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


# --------------------------------------------------------------------------- discovery
def _skipped(name: str) -> bool:
    return name.startswith(".") or name.startswith("~$") or name.lower() in SYSTEM_FILES


def discover(inbox: Path) -> list[Path]:
    """Every file below ``inbox`` (recursively), sorted by relative path.

    Skips Office lock files (``~$…``), hidden files and folders (``.…``) and system files
    such as ``Thumbs.db``. Symbolic links are followed only when they point to a regular
    file inside the inbox; linked folders are not entered. A sub-folder that cannot be
    read is listed itself, so that it is reported as unreadable instead of disappearing.
    """
    inbox = Path(inbox)
    if not inbox.is_dir():
        raise KvError(f"De map {inbox} bestaat niet of is geen map.")
    root = inbox.resolve()
    found: list[tuple[str, Path]] = []
    errors: list[OSError] = []
    for folder, dirs, files in os.walk(inbox, onerror=errors.append, followlinks=False):
        dirs[:] = [d for d in dirs if not _skipped(d) and not os.path.islink(os.path.join(folder, d))]
        for name in files:
            if _skipped(name):
                continue
            path = Path(folder) / name
            try:
                if path.is_symlink():
                    target = path.resolve(strict=True)
                    if not target.is_relative_to(root) or not target.is_file():
                        continue
                elif not path.is_file():  # sockets, pipes, devices: never read them
                    continue
            except (OSError, RuntimeError):  # a broken or looping link
                continue
            found.append((path.relative_to(inbox).as_posix(), path))
    for error in errors:
        folder = Path(error.filename) if error.filename else None
        if folder is not None and folder != inbox and folder.is_relative_to(inbox):
            found.append((folder.relative_to(inbox).as_posix(), folder))
    found.sort(key=lambda item: item[0])
    return [path for _, path in found]


def source_file(path: Path, inbox: Path) -> SourceFile:
    """Provenance of an input file: relative path, size, modification time and SHA-256.

    The hash is computed in chunks, so large files do not fill memory. Raises
    ``OSError`` when the file cannot be read (the caller turns that into a rejected file).
    Only regular files are opened: a pipe or device would block or never end.
    """
    path = Path(path)
    try:
        relative = path.relative_to(inbox).as_posix()
    except ValueError:
        relative = path.name
    stat = path.stat()
    if not statmod.S_ISREG(stat.st_mode):  # an unreadable sub-folder listed by discover(), a pipe
        return SourceFile(relative, 0, stat.st_mtime, "")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return SourceFile(relative, stat.st_size, stat.st_mtime, digest.hexdigest())


# --------------------------------------------------------------------------- sniffing
@dataclass(frozen=True)
class Sniffed:
    """What a file turned out to be."""

    format: str  # xlsx (also xlsm), xlsb, ods, xls, csv
    workbook_part: str | None = None  # for xlsx/xlsb/ods: the path of the workbook part in the zip
    #: for xls: what the scan of the workbook stream found (:class:`SheetScan` per sheet);
    #: for xlsx: the scans of the sheets the defined names point to
    scans: Mapping[str, "SheetScan"] | None = field(default=None, compare=False, repr=False)
    #: for xlsx: sheets and defined names, read while the container was open anyway
    names: "WorkbookNames | None" = field(default=None, compare=False, repr=False)


def _unreadable(reason: str, kind: str = KIND_UNREADABLE) -> UnreadableFile:
    return UnreadableFile(reason, kind)


def _not_spreadsheet(what: str) -> UnreadableFile:
    return _unreadable(f"Het bestand is {what}, geen spreadsheet. {ASK_XLSX}", KIND_NOT_SPREADSHEET)


def _email() -> UnreadableFile:
    return _unreadable(
        "Het bestand is een e-mailbericht, geen spreadsheet. Zit het formulier als bijlage in de e-mail, "
        "sla die bijlage dan apart op in de map.",
        KIND_NOT_SPREADSHEET,
    )


def _too_large(reason: str) -> UnreadableFile:
    return _unreadable(reason, KIND_TOO_LARGE)


def _zip_bomb() -> UnreadableFile:
    return _too_large(
        "Het bestand zou na uitpakken onredelijk groot worden (mogelijk een 'zip-bom'); het is voor de veiligheid "
        f"niet geopend. {ASK_XLSX}"
    )


def _damaged() -> UnreadableFile:
    return _unreadable(f"Het bestand is beschadigd of onvolledig en kan niet worden geopend. {ASK_XLSX}")


def _megabytes(size: int) -> str:
    return f"{math.ceil(size / (1024 * 1024))} MB"


# Magic bytes of common files that are not spreadsheets, and how to name them in Dutch.
MAGIC = (
    (b"%PDF", "een pdf-document"),
    (b"\x89PNG", "een afbeelding (png)"),
    (b"\xff\xd8\xff", "een afbeelding (jpg)"),
    (b"GIF8", "een afbeelding (gif)"),
    (b"II*\x00", "een afbeelding (tiff)"),
    (b"MM\x00*", "een afbeelding (tiff)"),
    (b"BM", "een afbeelding (bmp)"),
    (b"{\\rtf", "een tekstdocument (rtf)"),
    (b"Rar!", "een rar-archief"),
    (b"7z\xbc\xaf", "een 7-zip-archief"),
    (b"\x1f\x8b", "een gz-archief"),
)
EXTENSION_NAMES = {
    ".pdf": "een pdf-document",
    ".doc": "een Word-document",
    ".docx": "een Word-document",
    ".odt": "een tekstdocument",
    ".txt": "een tekstbestand",
    ".rtf": "een tekstdocument (rtf)",
    ".msg": "een e-mailbericht",
    ".eml": "een e-mailbericht",
    ".png": "een afbeelding",
    ".jpg": "een afbeelding",
    ".jpeg": "een afbeelding",
    ".heic": "een afbeelding",
    ".gif": "een afbeelding",
    ".tif": "een afbeelding",
    ".tiff": "een afbeelding",
    ".zip": "een zip-archief",
    ".ppt": "een PowerPoint-presentatie",
    ".pptx": "een PowerPoint-presentatie",
    ".html": "een webpagina",
    ".htm": "een webpagina",
}
OOXML_EXTENSIONS = {".xlsx", ".xlsm", ".xltx", ".xltm"}
SPREADSHEET_EXTENSIONS = OOXML_EXTENSIONS | {".xlsb", ".xls", ".xlt", ".ods", ".ots", ".csv"}


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
        raise _unreadable(f"Het bestand kan niet worden geopend ({_os_reason(exc)}).") from None
    if statmod.S_ISDIR(info.st_mode):
        raise _unreadable(
            "Deze map kan niet worden gelezen (geen leesrechten); de bestanden erin zijn niet gecontroleerd."
        )
    if not statmod.S_ISREG(info.st_mode):  # a pipe or device would block the run
        raise _unreadable("Dit is geen gewoon bestand (maar bijvoorbeeld een koppeling naar een apparaat); het is niet gelezen.")
    if info.st_size == 0:
        raise _unreadable("Het bestand is leeg (0 bytes). Vraag de aanbieder het opnieuw te sturen.", KIND_EMPTY)
    if info.st_size > MAX_FILE_SIZE:
        raise _too_large(
            f"Het bestand is {_megabytes(info.st_size)} groot (de grens is {_megabytes(MAX_FILE_SIZE)}); een ingevuld "
            f"formulier is hooguit enkele honderden kB. Het is niet gelezen. {ASK_XLSX}"
        )
    try:
        with path.open("rb") as handle:
            head = handle.read(512)
    except OSError as exc:
        raise _unreadable(f"Het bestand kan niet worden geopend ({_os_reason(exc)}).") from None
    if not head:
        raise _unreadable("Het bestand is leeg (0 bytes). Vraag de aanbieder het opnieuw te sturen.", KIND_EMPTY)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _sniff_zip(path, suffix)
    if head.startswith(OLE_MAGIC):
        return _sniff_ole(path, suffix)
    for magic, what in MAGIC:
        if head.startswith(magic):
            raise _not_spreadsheet(what)
    if head[4:8] == b"ftyp":
        raise _not_spreadsheet("een afbeelding of video")
    text_head = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text_head.startswith((b"<!doctype html", b"<html", b"<table")) or b"<html" in text_head[:200]:
        if suffix in SPREADSHEET_EXTENSIONS:
            raise _unreadable(
                f"Het bestand heet {suffix}, maar is een webpagina (HTML), geen echte spreadsheet; vaak is dat een "
                "export uit een webapplicatie. Vraag de aanbieder het ingevulde formulier van de gemeente te sturen "
                "als Excel-werkmap (.xlsx).",
                KIND_NOT_SPREADSHEET,
            )
        raise _not_spreadsheet("een webpagina (HTML)")
    if text_head.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in head:
        raise _unreadable(
            "Het bestand is opgeslagen als 'XML-spreadsheet 2003', een verouderd formaat dat niet kan worden gelezen. "
            "Vraag de aanbieder het formulier op te slaan als Excel-werkmap (.xlsx)."
        )
    if suffix == ".csv":
        return Sniffed("csv")
    if suffix in SPREADSHEET_EXTENSIONS:
        raise _unreadable(
            f"Het bestand heeft de extensie {suffix}, maar is geen geldige spreadsheet: het is beschadigd, "
            f"onvolledig of van een ander type. {ASK_XLSX}"
        )
    if suffix in (".eml", ".msg"):
        raise _email()
    if suffix in EXTENSION_NAMES:
        raise _not_spreadsheet(EXTENSION_NAMES[suffix])
    what = f"een {suffix}-bestand" if suffix else "een bestand zonder extensie"
    raise _not_spreadsheet(what)


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "geen leesrechten"
    if isinstance(exc, FileNotFoundError):
        return "het bestand bestaat niet meer"
    if isinstance(exc, IsADirectoryError):
        return "het is een map"
    return exc.strerror or exc.__class__.__name__


# --------------------------------------------------------------------------- zip containers
def _central_directory_size(path: Path) -> tuple[int, int] | None:
    """(number of entries, size of the central directory) from the end record, or None.

    Read before :mod:`zipfile` parses the directory, so a container with millions of
    entries is refused without building millions of objects.
    """
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        handle.seek(max(0, size - 65_557))
        tail = handle.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or at + 22 > len(tail):
            return None
        entries, cd_size = struct.unpack_from("<HI", tail, at + 10)
        if entries == 0xFFFF or cd_size == 0xFFFFFFFF:  # zip64: see the zip64 end record
            locator = at - 20
            if locator < 0 or tail[locator : locator + 4] != b"PK\x06\x07":
                return None
            (offset,) = struct.unpack_from("<Q", tail, locator + 8)
            if offset + 56 > size:
                return None
            handle.seek(offset)
            record = handle.read(56)
            if record[:4] != b"PK\x06\x06":
                return None
            entries, cd_size = struct.unpack_from("<QQ", record, 32)
        return entries, cd_size


def _open_zip(path: Path) -> zipfile.ZipFile:
    """Open a zip container, refusing damaged files and zip bombs (by what the directory says)."""
    try:
        directory = _central_directory_size(path)
    except OSError as exc:
        raise _unreadable(f"Het bestand kan niet worden geopend ({_os_reason(exc)}).") from None
    if directory is not None and (directory[0] > MAX_MEMBERS or directory[1] > MAX_MEMBERS * 1024):
        raise _too_large(
            "Het bestand bestaat uit veel te veel onderdelen voor een ingevuld formulier; het is niet gelezen. "
            f"{ASK_XLSX}"
        )
    try:
        archive = zipfile.ZipFile(path)
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError, struct.error):
        raise _damaged() from None
    except OSError as exc:
        raise _unreadable(f"Het bestand kan niet worden geopend ({_os_reason(exc)}).") from None
    try:
        if len(infos) > MAX_MEMBERS:
            raise _too_large(
                "Het bestand bestaat uit veel te veel onderdelen voor een ingevuld formulier; het is niet gelezen. "
                f"{ASK_XLSX}"
            )
        if sum(info.file_size for info in infos) > MAX_UNCOMPRESSED:
            raise _too_large(
                f"Het bestand is uitgepakt groter dan {MAX_UNCOMPRESSED // (1024 * 1024)} MB; "
                f"zo groot is een ingevuld formulier nooit. Het is niet gelezen. {ASK_XLSX}"
            )
        for info in infos:
            if info.file_size > MAX_XML_PART:
                raise _too_large(
                    f"Een onderdeel van het bestand is uitgepakt groter dan {MAX_XML_PART // (1024 * 1024)} MB; "
                    "zo groot is een ingevuld formulier nooit. Het is niet gelezen."
                )
            if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(1, info.compress_size):
                raise _zip_bomb()
    except UnreadableFile:
        archive.close()
        raise
    return archive


#: Deflate cannot expand data more than about 1032 times, so a part whose packed size
#: times this is below SAFE_UNPACKED needs no check of its unpacked size.
DEFLATE_MAX_RATIO = 1032
SAFE_UNPACKED = 16 * 1024 * 1024


def _verify_unpacked_sizes(path: Path, archive: zipfile.ZipFile) -> None:
    """Unpack every part (in bounded chunks, nothing kept) and check it is no larger than
    the directory says.

    The directory of a zip file can lie: a part that claims 1 kB may unpack to gigabytes.
    :mod:`zipfile` would stop at the claimed size, but python-calamine unpacks until the
    data ends, so this is checked before calamine is given the file. Unpacking stops a
    little past the claimed size (damaged data may come out a little longer): far past it
    is a zip bomb. Parts that are encrypted or packed with an unusual method are refused.
    """
    with path.open("rb") as handle:
        for info in archive.infolist():
            if info.flag_bits & 0x1:
                raise _unreadable(PROTECTED_REASON, KIND_PROTECTED)
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise _unreadable(
                    "Het bestand is op een ongebruikelijke manier ingepakt en kan niet worden gelezen. "
                    f"{ASK_XLSX}"
                )
            handle.seek(info.header_offset)
            header = handle.read(30)
            if len(header) < 30 or header[:4] != b"PK\x03\x04":
                raise _damaged()
            name_length, extra_length = struct.unpack_from("<HH", header, 26)
            handle.seek(info.header_offset + 30 + name_length + extra_length)
            if info.compress_type == zipfile.ZIP_STORED:
                if info.compress_size != info.file_size:
                    raise _damaged()
                continue
            if info.compress_size * DEFLATE_MAX_RATIO <= SAFE_UNPACKED:
                continue  # too small to unpack to anything harmful, whatever it claims
            limit = info.file_size + BOMB_MARGIN
            remaining, produced = info.compress_size, 0
            inflater = zlib.decompressobj(-15)
            try:
                while remaining > 0 and not inflater.eof:
                    chunk = handle.read(min(256 * 1024, remaining))
                    if not chunk:
                        raise _damaged()
                    remaining -= len(chunk)
                    data = chunk
                    while data and not inflater.eof:
                        produced += len(inflater.decompress(data, 1024 * 1024))
                        if produced > limit:
                            raise _zip_bomb()
                        data = inflater.unconsumed_tail
            except zlib.error:
                # Damaged data in a part: python-calamine says so if it is a part it needs.
                continue


def _read_part(archive: zipfile.ZipFile, name: str) -> bytes:
    """One part of a zip container, at most MAX_XML_PART bytes (whatever its header claims)."""
    with archive.open(name) as handle:
        data = handle.read(MAX_XML_PART + 1)
    if len(data) > MAX_XML_PART:
        raise _too_large("Een onderdeel van het bestand is te groot om te lezen.")
    return data


def _local(tag: str) -> str:
    """The local part of a namespaced name (``{uri}local``)."""
    return tag[tag.rfind("}") + 1 :]


def _refuse_entities(*args: Any) -> None:
    raise ValueError("entities are not allowed")


def _safe_parser(namespace_separator: str) -> Any:
    """An expat parser for a large XML part of a provider's file (an .ods file's
    content.xml), used with handlers (no tree); small parts go through defusedxml
    (:func:`_parse_package_part`).

    As defusedxml does, it refuses entity declarations (billion laughs) and external
    entities; an entity reference it cannot resolve is refused too, as ElementTree does.
    Raises ValueError (or an expat error) on such or otherwise bad XML.
    """
    parser = expat.ParserCreate(namespace_separator=namespace_separator)
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = _refuse_entities
    parser.UnparsedEntityDeclHandler = _refuse_entities
    parser.ExternalEntityRefHandler = _refuse_entities
    parser.SkippedEntityHandler = _refuse_entities
    parser.buffer_text = True
    return parser


def _parse_package_part(data: bytes, target: Any) -> None:
    """Feed a small XML part of a provider's file (.rels, workbook.xml) to ``target``
    (``start(tag, attrib)``, ``end(tag)``, ``data(text)``), without building a tree.

    defusedxml's parser refuses entity declarations (billion laughs) and external
    entities; an undefined entity is a parse error. Raises on such or otherwise bad XML.
    Elements go from its expat parser straight to ``target`` (tags as ``uri}local``):
    ElementTree's own layer in between took most of the time of reading a return's names.
    """
    from defusedxml.ElementTree import DefusedXMLParser

    parser = DefusedXMLParser(target=target).parser  # the expat parser, defusedxml's refusals installed
    parser.ordered_attributes = False
    parser.StartElementHandler = target.start
    parser.EndElementHandler = target.end
    parser.Parse(data, True)


class _RelationshipElements:
    """Collects the attributes of each Relationship element (a child of the root) of a .rels part."""

    def __init__(self, data: bytes):
        self.found: list[dict[str, str]] = []
        self._depth = 0
        _parse_package_part(data, self)

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self._depth += 1
        if self._depth == 2 and _local(tag) == "Relationship":
            self.found.append(attrs)

    def end(self, tag: str) -> None:
        self._depth -= 1

    def data(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def _relationship_elements(data: bytes) -> list[dict[str, str]]:
    """The attributes of each Relationship element (a child of the root) of a .rels part."""
    return _RelationshipElements(data).found


def _relationships(archive: zipfile.ZipFile, names: set[str], part: str) -> dict[str, str]:
    """Relationship id -> target part (resolved to a path in the zip) of ``part``."""
    folder, base = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", base + ".rels")
    if rels not in names:
        return {}
    targets = {}
    for rel in _relationship_elements(_read_part(archive, rels)):
        if rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target") or ""
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        targets[rel.get("Id") or ""] = resolved
    return targets


def _workbook_part(archive: zipfile.ZipFile, names: set[str]) -> str | None:
    """The workbook part of an OOXML spreadsheet, via the package relationships."""
    if "_rels/.rels" in names:
        for rel in _relationship_elements(_read_part(archive, "_rels/.rels")):
            if (rel.get("Type") or "").endswith("/officeDocument"):
                target = (rel.get("Target") or "").lstrip("/")
                if target in names:
                    return target
    for candidate in ("xl/workbook.xml", "xl/workbook.bin"):
        if candidate in names:
            return candidate
    return None


def _sniff_zip(path: Path, suffix: str) -> Sniffed:
    try:
        with _open_zip(path) as archive:
            names = set(archive.namelist())
            if any(n.startswith("xl/") for n in names):
                _verify_unpacked_sizes(path, archive)
                part = _workbook_part(archive, names)
                if part is None:
                    raise _unreadable(f"Het bestand is een beschadigde Excel-werkmap: de werkmap zelf ontbreekt. {ASK_XLSX}")
                if part.endswith(".bin"):
                    return Sniffed("xlsb", part)
                return _sniff_xlsx(archive, names, part)
            if "mimetype" in names:
                mimetype = _read_part(archive, "mimetype")[:200].decode("ascii", "replace").strip()
                if mimetype.startswith("application/vnd.oasis.opendocument.spreadsheet"):
                    manifest = "META-INF/manifest.xml"
                    if manifest in names and b"encryption-data" in _read_part(archive, manifest):
                        raise _unreadable(PROTECTED_REASON, KIND_PROTECTED)
                    _verify_unpacked_sizes(path, archive)
                    if "content.xml" not in names:
                        raise _damaged()
                    return Sniffed("ods", "content.xml")
                if "opendocument.text" in mimetype:
                    raise _not_spreadsheet("een tekstdocument (OpenDocument)")
                raise _not_spreadsheet("een OpenDocument-bestand")
    except UnreadableFile:
        raise
    except Exception:  # noqa: BLE001 - a damaged container must never crash the run
        raise _unreadable(f"Het bestand is beschadigd en kan niet worden geopend. {ASK_XLSX}") from None
    if any(n.startswith("word/") for n in names):
        raise _not_spreadsheet("een Word-document")
    if any(n.startswith("ppt/") for n in names):
        raise _not_spreadsheet("een PowerPoint-presentatie")
    if suffix in SPREADSHEET_EXTENSIONS:
        raise _unreadable(
            f"Het bestand heeft de extensie {suffix}, maar is geen geldige spreadsheet: het is beschadigd "
            f"of van een ander type. {ASK_XLSX}"
        )
    raise _unreadable(
        "Het bestand is een zip-archief, geen spreadsheet. Pak het uit en zet de spreadsheets los in de map.",
        KIND_NOT_SPREADSHEET,
    )


def _sniff_xlsx(archive: zipfile.ZipFile, members: set[str], part: str) -> Sniffed:
    """An .xlsx: read its names now, and scan the sheets they point to, so the container
    is opened once for both (the common case: a return made from our form)."""
    try:
        names = _xlsx_names(archive, part, members)
    except UnreadableFile:
        raise
    except Exception:  # noqa: BLE001 - damaged or hostile XML: read_names says so later
        return Sniffed("xlsx", part)
    scans: dict[str, SheetScan] = {}
    sheets = {ref.sheet.lower() for key, ref in names.names.items() if key.startswith("kv_") and isinstance(ref, CellRef)}
    for sheet, sheet_part in names.sheet_parts.items():
        if sheet.lower() in sheets and sheet_part in members:
            try:
                scans[sheet] = scan_xlsx_sheet(_read_part(archive, sheet_part))
            except _SheetTooLarge:
                raise _sheet_too_large(sheet) from None
    names.scans = scans
    return Sniffed("xlsx", part, scans, names)


# --------------------------------------------------------------------------- OLE2 (old Office) files
_FREE = 0xFFFFFFFA  # sector numbers from here up are markers (end of chain, free, ...)


class _OleFile:
    """A small reader of OLE2 compound files (MS-CFB): the directory and stream contents.

    Every sector number is checked and every chain is guarded against loops, so a damaged
    or hostile file raises ``ValueError`` instead of hanging or reading out of bounds.
    """

    def __init__(self, handle: Any):
        self.handle = handle
        header = handle.read(512)
        if len(header) < 512 or not header.startswith(OLE_MAGIC):
            raise ValueError("no compound file header")
        shift, mini_shift = struct.unpack_from("<HH", header, 0x1E)
        if shift not in (9, 12) or mini_shift != 6:
            raise ValueError("bad sector size")
        self.size = 1 << shift
        self.mini_size = 1 << mini_shift
        dir_sectors, n_fat, first_dir = struct.unpack_from("<III", header, 0x28)
        self.mini_cutoff, self.first_minifat, self.n_minifat = struct.unpack_from("<III", header, 0x38)
        first_difat, n_difat = struct.unpack_from("<II", header, 0x44)
        self.file_size = os.fstat(handle.fileno()).st_size
        self.max_sectors = self.file_size // self.size + 1
        # Readers size their buffers by these counts: a damaged header must not make them huge.
        if max(dir_sectors, n_fat, self.n_minifat, n_difat) > self.max_sectors:
            raise ValueError("sector counts larger than the file")
        fat_sectors = [s for s in struct.unpack_from("<109I", header, 0x4C) if s < _FREE]
        difat, seen = first_difat, set()
        while difat < _FREE and len(seen) < n_difat + 1:
            if difat in seen:
                raise ValueError("difat loop")
            seen.add(difat)
            entries = struct.unpack(f"<{self.size // 4}I", self._sector(difat))
            fat_sectors.extend(s for s in entries[:-1] if s < _FREE)
            difat = entries[-1]
        self.fat_sectors = fat_sectors[:n_fat]
        self.per_sector = self.size // 4
        self._fat_cache: dict[int, tuple[int, ...]] = {}
        self.entries: list[tuple[str, int, int, int]] = []  # name (lower case), type, start, size
        for data in self._chain_data(first_dir, self.max_sectors * self.size):
            for offset in range(0, len(data) - 127, 128):
                length = struct.unpack_from("<H", data, offset + 64)[0]
                kind = data[offset + 66]
                if kind in (1, 2, 5) and 2 <= length <= 64:
                    name = data[offset : offset + length - 2].decode("utf-16-le", "replace").lower()
                    start, size = struct.unpack_from("<IQ", data, offset + 116)
                    if self.size == 512:
                        size &= 0xFFFFFFFF  # version 3 files use 32 bits; the high half may hold junk
                    if kind != 1 and size > self.file_size:
                        raise ValueError("stream larger than the file")
                    self.entries.append((name, kind, start, size))

    def _sector(self, number: int) -> bytes:
        if number >= self.max_sectors:
            raise ValueError("sector out of range")
        self.handle.seek((number + 1) * self.size)
        data = self.handle.read(self.size)
        if len(data) < self.size:
            raise ValueError("truncated sector")
        return data

    def _next(self, number: int) -> int:
        index = number // self.per_sector
        if index >= len(self.fat_sectors):
            raise ValueError("fat out of range")
        if index not in self._fat_cache:
            self._fat_cache[index] = struct.unpack(f"<{self.per_sector}I", self._sector(self.fat_sectors[index]))
        return self._fat_cache[index][number % self.per_sector]

    def _chain_data(self, start: int, limit: int) -> Iterator[bytes]:
        current, seen, total = start, set(), 0
        while current < _FREE and total < limit:
            if current in seen or len(seen) > self.max_sectors:
                raise ValueError("sector loop")
            seen.add(current)
            data = self._sector(current)
            total += len(data)
            yield data
            current = self._next(current)

    @property
    def names(self) -> set[str]:
        return {name for name, _, _, _ in self.entries}

    def read_stream(self, name: str, limit: int) -> bytes | None:
        """The content of stream ``name`` (lower case), at most ``limit`` bytes; None if absent."""
        for entry_name, kind, start, size in self.entries:
            if entry_name == name and kind == 2:
                break
        else:
            return None
        wanted = min(size, limit)
        if size < self.mini_cutoff:
            return self._read_mini(start, wanted)
        out = bytearray()
        for data in self._chain_data(start, wanted):
            out += data
        return bytes(out[:wanted])

    def _read_mini(self, start: int, wanted: int) -> bytes:
        root = next((e for e in self.entries if e[1] == 5), None)
        if root is None:
            raise ValueError("no root entry")
        container = b"".join(self._chain_data(root[2], self.max_sectors * self.size))
        minifat = b"".join(self._chain_data(self.first_minifat, self.n_minifat * self.size))
        table = struct.unpack(f"<{len(minifat) // 4}I", minifat[: len(minifat) // 4 * 4])
        out, current, seen = bytearray(), start, set()
        while current < _FREE and len(out) < wanted:
            if current in seen or current >= len(table):
                raise ValueError("mini chain")
            seen.add(current)
            offset = current * self.mini_size
            if offset + self.mini_size > len(container):
                raise ValueError("mini sector out of range")
            out += container[offset : offset + self.mini_size]
            current = table[current]
        return bytes(out[:wanted])


def ole_stream_names(path: Path) -> set[str]:
    """The names of the streams and storages in an OLE2 compound file (lower case).

    Raises ``ValueError`` when the file is not a well-formed compound file.
    """
    with Path(path).open("rb") as handle:
        return _OleFile(handle).names


def _sniff_ole(path: Path, suffix: str) -> Sniffed:
    try:
        with path.open("rb") as handle:
            ole = _OleFile(handle)
            names = ole.names
            stream_name = "workbook" if "workbook" in names else "book" if "book" in names else None
            stream = ole.read_stream(stream_name, MAX_FILE_SIZE) if stream_name else None
    except (ValueError, OSError, struct.error):
        # Not a well-formed compound file: fall back to looking for the stream name.
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise _unreadable(f"Het bestand kan niet worden geopend ({_os_reason(exc)}).") from None
        if "EncryptionInfo".encode("utf-16-le") in raw:
            raise _unreadable(PROTECTED_REASON, KIND_PROTECTED) from None
        raise _unreadable(f"Het bestand is beschadigd en kan niet worden geopend. {ASK_XLSX}") from None
    if "encryptioninfo" in names or "encryptedpackage" in names:
        raise _unreadable(PROTECTED_REASON, KIND_PROTECTED)
    if stream_name is not None:
        try:
            scan = _scan_biff(stream or b"")
        except _SheetTooLarge:
            raise _too_large(_LARGE_SHEET) from None
        if scan.encrypted:
            raise _unreadable(PROTECTED_REASON, KIND_PROTECTED)
        return Sniffed("xls", scans=scan.sheets)
    if "worddocument" in names:
        raise _not_spreadsheet("een Word-document (oud formaat)")
    if "powerpoint document" in names:
        raise _not_spreadsheet("een PowerPoint-presentatie (oud formaat)")
    if any(name.startswith("__substg1.0_") for name in names) or suffix == ".msg":
        raise _email()
    if suffix in (".xls", ".xlt"):
        raise _unreadable(f"Het bestand is een beschadigd Excel-bestand (.xls) en kan niet worden gelezen. {ASK_XLSX}")
    if suffix in EXTENSION_NAMES:
        raise _not_spreadsheet(EXTENSION_NAMES[suffix])
    raise _not_spreadsheet("een ouder Office-bestand")


# --------------------------------------------------------------------------- sheet scans
#: Error values as the file formats store them (BIFF and BIFF12 error codes).
ERROR_CODES = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?", 0x24: "#NUM!",
               0x2A: "#N/A", 0x2B: "#GETTING_DATA"}


@dataclass
class SheetScan:
    """What a cheap pass over a sheet's own data found (before python-calamine reads it)."""

    rows: int = 0  # extent from A1: rows x columns that calamine will allocate
    cols: int = 0
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) -> '#DIV/0!'
    no_value: set[tuple[int, int]] = field(default_factory=set)  # formulas without a computed value

    def include(self, row: int, col: int) -> None:
        if row >= self.rows:
            self.rows = row + 1
        if col >= self.cols:
            self.cols = col + 1
        if self.rows * self.cols > MAX_CELLS:
            raise _SheetTooLarge()

    @property
    def cells(self) -> int:
        return self.rows * self.cols


class _SheetTooLarge(Exception):
    pass


_LARGE_SHEET = (
    f"Een werkblad in het bestand is te groot om te lezen (meer dan {MAX_CELLS // 1_000_000} miljoen cellen); "
    f"een ingevuld formulier is veel kleiner. {ASK_XLSX}"
)


def _sheet_too_large(sheet: str) -> UnreadableFile:
    return _too_large(
        f"Het werkblad '{sheet}' is te groot om te lezen (meer dan {MAX_CELLS // 1_000_000} miljoen cellen); "
        f"een ingevuld formulier is veel kleiner. {ASK_XLSX}"
    )


_XLSX_TAG = re.compile(rb"<(/?)(?:[A-Za-z_][\w.-]*:)?(row|c|f|v|is)(?=[\s/>])([^>]*)>")
_XLSX_R = re.compile(rb'(?:^|\s)r="([A-Za-z]{0,3})([0-9]{0,8})"')
_XLSX_T = re.compile(rb'(?:^|\s)t="([A-Za-z]+)"')


def _column_number(letters: bytes | str) -> int:
    """'A' -> 0, 'AB' -> 27."""
    number = 0
    for letter in letters.upper() if isinstance(letters, str) else letters.upper().decode("ascii"):
        number = number * 26 + (ord(letter) - 64)
    return number - 1


_XLSX_CELL_REF = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,8})"')  # how Excel, LibreOffice and xlsxwriter write it


def scan_xlsx_sheet(data: bytes) -> SheetScan:
    """Extent, error cells and formulas without a value in an OOXML worksheet part.

    A tag-level pass (no XML tree), so it costs well under a millisecond for a form and
    stays bounded for hostile input. Raises :class:`_SheetTooLarge` as soon as the sheet
    would be larger than :data:`MAX_CELLS`.
    """
    fast = _scan_xlsx_sheet_fast(data)
    if fast is not None:
        return fast
    return _scan_xlsx_sheet_full(data)


def _scan_xlsx_sheet_fast(data: bytes) -> SheetScan | None:
    """The common case, done with C-level passes: every cell carries its own reference
    (as Excel, LibreOffice and xlsxwriter write them), and the sheet has no error cells
    and no formulas. Returns None when the full pass is needed."""
    if b't="e"' in data or b"<f>" in data or b"<f " in data:
        return None
    if b":c" in data:
        return None  # perhaps namespace-prefixed cells: rare, leave them to the full pass
    refs = _XLSX_CELL_REF.findall(data)
    # Every '<c' other than '<co' (<col>, <conditionalFormatting>) must be a '<c r="B7"': a cell
    # written otherwise ('<c\nr="B7"', '<c>'), which python-calamine reads too, needs the full pass.
    if len(refs) != data.count(b"<c") - data.count(b"<co"):
        return None
    scan = SheetScan()
    if refs:
        cols, rows = zip(*refs)
        widest = max(set(cols), key=lambda c: (len(c), c))
        scan.include(max(map(int, rows)) - 1, _column_number(widest))
    return scan


def _scan_xlsx_sheet_full(data: bytes) -> SheetScan:
    scan = SheetScan()
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
                col = _column_number(found.group(1))
                if found.group(2):
                    row = int(found.group(2)) - 1
            else:
                col += 1
            if row < 0:
                row = 0
            scan.include(row, col)
            typed = _XLSX_T.search(attrs)
            cell, cell_type, has_formula, value = (row, col), typed.group(1) if typed else b"", False, None
            if attrs.endswith(b"/"):
                cell = None
        elif cell is None or closing:
            continue
        elif tag == b"f":
            has_formula = True
        elif tag == b"v":
            if attrs.endswith(b"/"):
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


def _scan_biff(data: bytes) -> "_BiffScan":
    """Walk an .xls workbook stream (BIFF5/8) the way python-calamine will, before it does.

    calamine reads every sheet of an .xls file when it opens it, and trusts what the file
    says: a FILEPASS record (encrypted), the SST count and each sheet's DIMENSIONS (room it
    reserves) and the position of every cell (it holds a sheet as one dense block). This
    pass finds what is encrypted, damaged or too large, the extent of each sheet and its
    error cells. Raises :class:`UnreadableFile` (damaged) or :class:`_SheetTooLarge`.
    """
    result = _BiffScan()
    unpack = struct.unpack_from
    sheets: list[tuple[int, str]] = []
    biff8 = True
    for kind, body, length in _biff_records(data, 0):
        if kind == 0x002F and length >= 2 and data[body : body + 2] != b"\x00\x00":  # FILEPASS
            result.encrypted = True
            return result
        if kind == 0x0809 and length >= 2:  # BOF: which BIFF version writes the strings
            version = unpack("<H", data, body)[0]
            sub = unpack("<H", data, body + 2)[0] if length >= 4 else 0
            biff8 = not (version in (0x0200, 0x0002, 0x0007, 0x0300, 0x0400, 0x0500) or (version == 0 and sub == 0x1000))
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
                raise _damaged()
        elif kind == 0x000A:  # EOF of the workbook globals
            break
    for offset, name in sheets:
        scan = result.sheets.setdefault(name, SheetScan())
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
                        raise _damaged()
                    if (last_row - first_row) * (last_col - first_col) > MAX_CELLS:
                        raise _SheetTooLarge()
            elif kind in _BIFF_CELLS and length >= 6:
                row, col = unpack("<HH", data, body)
                if kind == 0x00BD:  # MULRK: the last column is at the end
                    col = max(col, unpack("<H", data, body + length - 2)[0])
                scan.include(row, col)
                if kind == 0x0205 and length >= 8 and data[body + 7] == 1:  # BOOLERR holding an error
                    scan.errors[(row, col)] = ERROR_CODES.get(data[body + 6], "#FOUT!")
                elif kind == 0x0006 and length >= 14 and data[body + 12 : body + 14] == b"\xff\xff" and data[body + 6] == 2:
                    scan.errors[(row, col)] = ERROR_CODES.get(data[body + 8], "#FOUT!")
    return result


#: BIFF records that give calamine a cell: FORMULA, NUMBER, LABEL, BOOLERR, RK, LABELSST, MULRK.
_BIFF_CELLS = {0x0006, 0x0203, 0x0204, 0x0205, 0x027E, 0x00FD, 0x00BD}


@dataclass
class _BiffScan:
    encrypted: bool = False
    sheets: dict[str, SheetScan] = field(default_factory=dict)


def _biff12_records(data: bytes) -> Iterator[tuple[int, int, int]]:
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
    """Extent and error cells of an .xlsb worksheet part."""
    scan = SheetScan()
    row = 0
    for kind, body, length in _biff12_records(data):
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
                raise _damaged()
            if (last_row - first_row + 1) * (last_col - first_col + 1) > MAX_CELLS:
                raise _SheetTooLarge()
    return scan


def _xlsb_sheets(data: bytes) -> list[tuple[str, str]]:
    """(sheet name, relationship id) of the worksheets in an .xlsb workbook part."""
    sheets = []
    for kind, body, length in _biff12_records(data):
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


class _OdsScanner:
    """Streaming pass over an ODS content.xml: sheets, named ranges, extents and error cells.

    Honours repeated rows and columns, so the extent of every sheet is known before
    python-calamine (which reads every sheet of an .ods when it opens it) expands a 1 kB
    file into billions of cells. Uses expat directly (no tree kept) with entity
    declarations refused, as defusedxml does.
    """

    TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0 "
    OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0 "
    CALCEXT = "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0 "

    def __init__(self) -> None:
        self.names = WorkbookNames()
        self.scans: dict[str, SheetScan] = {}
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
                self.scan = self.scans.setdefault(sheet, SheetScan())
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

    def _named(self, local: str, attrs: dict[str, str]) -> None:
        name = (attrs.get(self.TABLE + "name") or "").lower()
        if local == "named-range":
            ref = _parse_ods_reference(attrs.get(self.TABLE + "cell-range-address"))
            if ref is not None:
                self.names.names[name] = ref
        elif local == "named-expression":
            expression = attrs.get(self.TABLE + "expression")
            if (constant := _constant(expression)) is not None:
                self.names.names[name] = constant
            elif (ref := parse_reference((expression or "").removeprefix("of:"))) is not None:
                self.names.names[name] = ref


def _scan_ods(data: bytes) -> _OdsScanner:
    """Run :class:`_OdsScanner` over content.xml. Raises ValueError (or an expat error) on bad XML."""
    scanner = _OdsScanner()
    parser = _safe_parser(" ")
    parser.StartElementHandler = scanner.start
    parser.EndElementHandler = scanner.end
    parser.CharacterDataHandler = scanner.text
    parser.Parse(data, True)
    return scanner


# --------------------------------------------------------------------------- defined names
_REFERENCE = re.compile(
    r"""^=?\s*(?:'(?P<quoted>(?:[^']|'')+)'|(?P<plain>[^'!\[\]]+))!
        \$?(?P<col>[A-Za-z]{1,3})\$?(?P<row>[0-9]{1,7})
        (?::\$?[A-Za-z]{1,3}\$?[0-9]{1,7})?\s*$""",
    re.VERBOSE,
)
_ODS_REFERENCE = re.compile(
    r"""^\$?(?:'(?P<quoted>(?:[^']|'')+)'|(?P<plain>[^'.]+))\.
        \$?(?P<col>[A-Za-z]{1,3})\$?(?P<row>[0-9]{1,7})
        (?::.*)?$""",
    re.VERBOSE,
)


@functools.lru_cache(maxsize=4096)  # every return names the same cells
def parse_reference(target: str | None) -> CellRef | None:
    """``Aanlevering!$B$7`` or ``'My sheet'!$B$7`` -> CellRef; anything else -> None.

    A range gives its top-left cell. ``#REF!``, external references (``[1]Sheet!A1``) and
    formulas give None.
    """
    if not target or "#REF!" in target.upper():
        return None
    match = _REFERENCE.match(target.strip())
    if not match:
        return None
    return _cellref(match)


def _cellref(match: re.Match[str]) -> CellRef:
    sheet = match.group("quoted").replace("''", "'") if match.group("quoted") else match.group("plain").strip()
    return CellRef(sheet, f"{match.group('col').upper()}{int(match.group('row'))}")


def _parse_ods_reference(target: str | None) -> CellRef | None:
    if not target or "#REF" in target.upper():
        return None
    match = _ODS_REFERENCE.match(target.strip())
    return _cellref(match) if match else None


def _constant(target: str | None) -> str | None:
    """The text of a constant defined name such as ``="2026.1"`` or ``2026.1``."""
    if target is None:
        return None
    text = target.strip()
    if text.startswith("of:"):
        text = text[3:]
    text = text.lstrip("=").strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1].replace('""', '"')
    if re.fullmatch(r"[0-9]+(\.[0-9]+)*", text):
        return text
    return None


@dataclass
class WorkbookNames:
    """The sheets and workbook-level defined names of a spreadsheet (names in lower case)."""

    sheets: list[str] = field(default_factory=list)
    names: dict[str, CellRef | str] = field(default_factory=dict)  # CellRef, or a constant's text
    #: for xlsx/xlsb: sheet name -> its part in the zip
    sheet_parts: dict[str, str] = field(default_factory=dict)
    #: for ods: what the pass over content.xml found per sheet (extent, error cells)
    scans: dict[str, "SheetScan"] = field(default_factory=dict)


class _WorkbookPart:
    """Sheets and workbook-level defined names of an OOXML workbook part, collected in
    one pass (no tree). Defined names are kept in document order with their text (as
    ElementTree's ``text``: up to the first child element)."""

    def __init__(self, data: bytes):
        self.sheets: list[str] = []
        self.rel_ids: dict[str, str] = {}  # sheet name -> relationship id
        self.defined: list[tuple[str, list[str]]] = []  # name (lower case), pieces of its text
        self._text: list[str] | None = None  # where the text now read belongs, if anywhere
        _parse_package_part(data, self)

    def close(self) -> None:
        pass

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self._text = None
        local = _local(tag)
        if local == "sheet":
            name = attrs.get("name") or ""
            self.sheets.append(name)
            for key, value in attrs.items():
                if _local(key) == "id":
                    self.rel_ids[name] = value
        elif local == "definedName" and attrs.get("localSheetId") is None:
            self._text = []
            self.defined.append(((attrs.get("name") or "").lower(), self._text))

    def end(self, tag: str) -> None:
        self._text = None

    def data(self, text: str) -> None:
        if self._text is not None:
            self._text.append(text)


def _xlsx_names(archive: zipfile.ZipFile, part: str, members: set[str] | None = None) -> WorkbookNames:
    """Sheets, defined names and sheet parts of an .xlsx; ``members`` are the names in the zip."""
    workbook = _WorkbookPart(_read_part(archive, part))
    result = WorkbookNames(sheets=workbook.sheets)
    for name, text in workbook.defined:
        target = "".join(text).strip()
        ref = parse_reference(target)
        if ref is not None:
            result.names[name] = ref
        elif (constant := _constant(target)) is not None:
            result.names[name] = constant
    targets = _relationships(archive, set(archive.namelist()) if members is None else members, part)
    result.sheet_parts = {name: targets[rid] for name, rid in workbook.rel_ids.items() if rid in targets}
    return result


def _xlsb_names(archive: zipfile.ZipFile, part: str) -> WorkbookNames:
    result = WorkbookNames()
    targets = _relationships(archive, set(archive.namelist()), part)
    for name, rel_id in _xlsb_sheets(_read_part(archive, part)):
        result.sheets.append(name)
        if rel_id in targets:
            result.sheet_parts[name] = targets[rel_id]
    return result


def read_names(path: Path, sniffed: Sniffed) -> WorkbookNames:
    """Sheets and defined names of a spreadsheet; empty for formats we cannot read them from.

    .xls, .xlsb and .csv files give no names (python-calamine does not show them): their
    fields are found by :func:`scan_labels`.
    """
    if sniffed.format not in ("xlsx", "xlsb", "ods") or sniffed.workbook_part is None:
        return WorkbookNames()
    if sniffed.names is not None:
        return sniffed.names
    with _open_zip(path) as archive:
        if sniffed.format == "xlsx":
            return _xlsx_names(archive, sniffed.workbook_part)
        if sniffed.format == "xlsb":
            return _xlsb_names(archive, sniffed.workbook_part)
        try:
            scanner = _scan_ods(_read_part(archive, sniffed.workbook_part))
        except _SheetTooLarge:
            raise _too_large(_LARGE_SHEET) from None
        scanner.names.scans = scanner.scans
        return scanner.names


# --------------------------------------------------------------------------- locating
def locate_fields(names: WorkbookNames, catalogue: Catalogue) -> dict[str, CellRef]:
    """Where each field of the catalogue is: field key -> cell, by the ``kv_<key>`` names.

    Names that point to a sheet that does not exist are ignored. Fields not found are
    simply absent from the result.
    """
    sheets = {s.lower(): s for s in names.sheets}
    cells: dict[str, CellRef] = {}
    for fld in catalogue.fields:
        ref = names.names.get(fld.defined_name.lower())
        if isinstance(ref, CellRef) and (sheet := sheets.get(ref.sheet.lower())) is not None:
            cells[fld.key] = ref if ref.sheet == sheet else CellRef(sheet, ref.cell)
    return cells


@dataclass(frozen=True)
class LabelIndex:
    """How the fields of the form can be recognised in a sheet without defined names."""

    fields: Mapping[str, str]  # squashed key or label -> field key
    form_texts: frozenset[str]  # squashed texts of the form itself (labels, help) — never an answer

    @classmethod
    def of(cls, catalogue: Catalogue) -> "LabelIndex":
        fields: dict[str, str] = {}
        texts: set[str] = set()
        for fld in catalogue.fields:
            for text in (fld.key, fld.label):
                fields.setdefault(squash(text), fld.key)
            texts.update(squash(t) for t in (fld.key, fld.label, fld.help) if t)
        texts.discard("")
        fields.pop("", None)
        return cls(fields, frozenset(texts))


_LABEL_INDEXES: dict[int, tuple[Catalogue, LabelIndex]] = {}


def _label_index(catalogue: Catalogue) -> LabelIndex:
    cached = _LABEL_INDEXES.get(id(catalogue))
    if cached is None or cached[0] is not catalogue:
        cached = _LABEL_INDEXES[id(catalogue)] = (catalogue, LabelIndex.of(catalogue))
    return cached[1]


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _cell(grid: list[list[Any]], row: int, col: int) -> Any:
    if 0 <= row < len(grid) and 0 <= col < len(grid[row]):
        value = grid[row][col]
        return None if value == "" else value
    return None


@dataclass(frozen=True)
class LabelHit:
    """A field found by its label: where the label is and where its answer is (row, column)."""

    label: tuple[int, int]
    value: tuple[int, int]
    header: bool = False  # the label is in a header row, the answer below it


def scan_labels(
    grid: list[list[Any]],
    catalogue: Catalogue,
    merged: Iterable[tuple[tuple[int, int], tuple[int, int]]] = (),
) -> dict[str, LabelHit]:
    """Find the fields of the form in a sheet by their key (``kvk_nummer``) or Dutch label.

    A label matches without regard to case, accents, spacing and punctuation, with or
    without the form's trailing " *". The answer is the first non-empty cell in the two
    columns right of the label (right of the label's merged cells), unless that cell is
    text of the form itself (the help column): then the answer is empty. A row holding
    three or more labels is a header row (one return per row): the answers are in the row
    below.
    """
    index = _label_index(catalogue)
    label_ends = {start: end[1] for start, end in merged if end[1] > start[1]}
    hits: dict[str, tuple[int, int]] = {}
    per_row: Counter[int] = Counter()
    for r, row in enumerate(grid[:MAX_SCAN_ROWS]):
        for c, value in enumerate(row[:MAX_SCAN_COLS]):
            if not isinstance(value, str) or not value or len(value) > MAX_LABEL_CHARS:
                continue
            key = index.fields.get(squash(value))
            if key is not None and key not in hits:
                hits[key] = (r, c)
                per_row[r] += 1
    found: dict[str, LabelHit] = {}
    for key, (r, c) in hits.items():
        if per_row[r] >= 3:  # a header row: the return is in the row below it
            found[key] = LabelHit((r, c), (r + 1, c), header=True)
            continue
        start = label_ends.get((r, c), c) + 1
        target = (r, start)
        for col in (start, start + 1):
            value = _cell(grid, r, col)
            if _is_empty(value):
                continue
            if not (isinstance(value, str) and squash(value) in index.form_texts):
                target = (r, col)
            break  # an answer, or the form's own text (its help column): no answer given
        found[key] = LabelHit((r, c), target)
    return found


def _csv_value(grid: list[list[Any]], hit: LabelHit) -> Any:
    """The answer in a ``,``-separated CSV row: an unquoted Dutch decimal (``fte,12,5``) is
    split over two cells; joined back it is what the provider typed."""
    r, c = hit.value
    value = _cell(grid, r, c)
    if hit.header or not isinstance(value, str):
        return value
    rest = grid[r][c + 1 :] if r < len(grid) else []
    if rest and re.fullmatch(r"\s*[+-]?\d+\s*", value) and re.fullmatch(r"\d+", rest[0].strip() or "x"):
        if not any(v.strip() for v in rest[1:]):
            return f"{value.strip()},{rest[0].strip()}"
    return value


# --------------------------------------------------------------------------- reading cells
_CELL = re.compile(r"^([A-Z]{1,3})([0-9]+)$")


@functools.lru_cache(maxsize=4096)
def cell_position(cell: str) -> tuple[int, int]:
    """'B7' -> (6, 1): zero-based row and column."""
    match = _CELL.match(cell.upper())
    if not match:
        raise ValueError(cell)
    return int(match.group(2)) - 1, _column_number(match.group(1))


def cell_name(row: int, col: int) -> str:
    """(6, 1) -> 'B7'."""
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"


class _Book:
    """A spreadsheet opened for reading: sheets loaded lazily, each one checked before
    python-calamine allocates it. For .csv files the one 'sheet' is the table itself ('')."""

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
        if self.sniffed.format == "xlsb":  # calamine may read every sheet: check them all first
            self.scans = self._xlsb_scans()
        from python_calamine import CalamineWorkbook

        self._workbook = CalamineWorkbook.from_path(str(self.path))
        self._sheet_names = {name.lower(): name for name in self._workbook.sheet_names}
        self._worksheets = {m.name for m in self._workbook.sheets_metadata if str(m.typ).endswith("WorkSheet")}

    def close(self) -> None:
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = None

    def _xlsb_scans(self) -> dict[str, SheetScan]:
        scans = {}
        with _open_zip(self.path) as archive:
            names = set(archive.namelist())
            for sheet, part in self.names.sheet_parts.items():
                if part in names:
                    try:
                        scans[sheet] = scan_xlsb_sheet(_read_part(archive, part))
                    except _SheetTooLarge:
                        raise _sheet_too_large(sheet) from None
        return scans

    @property
    def sheet_names(self) -> list[str]:
        """The worksheets (not chart sheets), in workbook order."""
        return [name for name in self._sheet_names.values() if name in self._worksheets]

    def actual(self, sheet: str) -> str | None:
        return self._sheet_names.get(sheet.lower())

    def scan(self, sheet: str) -> SheetScan:
        """Extent and special cells of a sheet, known before calamine loads it.

        .xls, .ods and .xlsb sheets were scanned when the file was sniffed or opened; an
        .xlsx sheet is scanned now, from its XML. An .xlsx or .xlsb sheet we could not scan
        is not loaded. (calamine loads every sheet of an .xls or .ods file when it opens
        it, so there a sheet the scan named differently, say by code page, is harmless.)
        """
        if sheet not in self.scans:
            part = self.names.sheet_parts.get(sheet)
            if self.sniffed.format in ("xls", "ods"):
                return SheetScan()
            if part is None:
                raise _unreadable(f"Het bestand is beschadigd: het werkblad '{sheet}' kan niet worden gelezen. {ASK_XLSX}")
            with _open_zip(self.path) as archive:
                if part not in set(archive.namelist()):
                    raise _unreadable(f"Het bestand is beschadigd: het werkblad '{sheet}' ontbreekt. {ASK_XLSX}")
                scan = scan_xlsx_sheet if self.sniffed.format == "xlsx" else scan_xlsb_sheet
                try:
                    self.scans[sheet] = scan(_read_part(archive, part))
                except _SheetTooLarge:
                    raise _sheet_too_large(sheet) from None
        return self.scans[sheet]

    def grid(self, sheet: str, rows: int) -> list[list[Any]]:
        """The sheet's values from A1: at least ``rows`` rows, or all of them if it is shorter."""
        have = self.grids.get(sheet)
        if have is not None and (len(have) >= rows or sheet in self.complete):
            return have
        self.scan(sheet)
        book_sheet = self._workbook.get_sheet_by_name(sheet)
        grid = book_sheet.to_python(skip_empty_area=False, nrows=rows)
        self.grids[sheet] = grid
        if len(grid) < rows:
            self.complete.add(sheet)
        self.merged[sheet] = list(book_sheet.merged_cell_ranges or [])
        return grid


# --------------------------------------------------------------------------- a return
def _missing_required_text(catalogue: Catalogue, found: Iterable[str]) -> str:
    found = set(found)
    labels = [f.label for f in catalogue.fields if f.required and f.key not in found]
    return ", ".join(labels)


def read_cells(path: Path, cells: Mapping[str, CellRef]) -> dict[str, Any]:
    """The raw values of ``cells`` (key -> CellRef) of an .xlsx/.ods file; empty -> None.

    Error cells give their error text (``#DIV/0!``). A convenience for tools and tests;
    :func:`read_return` reads a whole return.
    """
    path = Path(path)
    sniffed = sniff(path)
    book = _Book(path, sniffed, read_names(path, sniffed))
    book.open()
    try:
        values, _ = _values(book, cells)
    finally:
        book.close()
    return values


def _special_cell(value: Any, scan: SheetScan, row: int, col: int, key: str, no_value: list[str]) -> Any:
    """An empty cell that is really an error value gets the error text (so the finding can
    quote it); an empty formula without a computed value is noted in ``no_value``."""
    if value is None and (row, col) in scan.errors:
        return scan.errors[(row, col)] or "#FOUT!"
    if value is None and (row, col) in scan.no_value:
        no_value.append(key)
    return value


def _values(book: _Book, cells: Mapping[str, CellRef]) -> tuple[dict[str, Any], list[str]]:
    """Raw values of ``cells`` and the keys whose cell is a formula without a computed value."""
    values: dict[str, Any] = {key: None for key in cells}
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
            values[key] = _special_cell(_cell(grid, row, col), scan, row, col, key, no_value)
    return values, no_value


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
    """
    path = Path(path)
    try:
        return _read_return(path, source, return_id, catalogue)
    except UnreadableFile:
        raise
    except _SheetTooLarge:
        raise _too_large(_LARGE_SHEET) from None
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - bad input must never crash the run; python-calamine
        # reports some bad values as a Rust panic (pyo3 PanicException, a BaseException).
        kind = KIND_PROTECTED if exc.__class__.__name__ == "PasswordError" else KIND_UNREADABLE
        raise _unreadable(_library_reason(exc), kind) from None


def _library_reason(exc: Exception) -> str:
    """A plain Dutch reason for an unexpected error of a library while reading a file."""
    name = exc.__class__.__name__
    if name == "PasswordError":
        return PROTECTED_REASON
    if isinstance(exc, OSError):
        return f"Het bestand kan niet worden gelezen ({_os_reason(exc)})."
    if isinstance(exc, MemoryError):
        return "Het bestand is te groot om te lezen."
    if name == "PanicException":
        return (
            "Het bestand bevat een cel met een waarde die niet kan worden gelezen (bijvoorbeeld een onmogelijke "
            "datum). Vraag de aanbieder de ingevulde waarden te controleren en het bestand opnieuw te sturen."
        )
    return f"Het bestand is beschadigd of bevat iets wat niet kan worden gelezen (technische melding: {name}). {ASK_XLSX}"


def _read_return(path: Path, source: SourceFile, return_id: str, catalogue: Catalogue) -> ReturnRecord:
    sniffed = sniff(path)
    try:
        names = read_names(path, sniffed)
    except UnreadableFile:
        raise
    except Exception:  # noqa: BLE001 - damaged or hostile XML
        raise _unreadable(f"Het bestand is beschadigd: de werkmap kan niet worden gelezen. {ASK_XLSX}") from None
    cells = locate_fields(names, catalogue)
    book = _Book(path, sniffed, names)
    try:
        book.open()
        return _read_book(book, cells, source, return_id, catalogue)
    finally:
        book.close()


def _read_book(
    book: _Book, cells: dict[str, CellRef], source: SourceFile, return_id: str, catalogue: Catalogue
) -> ReturnRecord:
    if not book.sheet_names:
        raise _unreadable(f"Het bestand bevat geen werkbladen: het is beschadigd of onvolledig. {ASK_XLSX}")
    if book.sniffed.format == "csv" and not any(any(str(v).strip() for v in row) for row in book.grids[""]):
        raise _unreadable("Het CSV-bestand bevat geen gegevens. Vraag de aanbieder het ingevulde formulier te sturen.", KIND_EMPTY)
    by_label: dict[str, LabelHit] = {}
    label_sheet = ""
    too_large: UnreadableFile | None = None  # a sheet skipped while looking for labels
    version_ref = book.names.names.get(VERSION_NAME)
    form_version: str | None = version_ref if isinstance(version_ref, str) else None
    version_cells = {"__version__": version_ref} if isinstance(version_ref, CellRef) else {}

    if len(cells) < len(catalogue.fields):
        # Fields without a defined name: find them by their label. With some names, only on
        # the sheet the names point to; without any, on the sheet with the most labels.
        if cells:
            sheets = [Counter(ref.sheet for ref in cells.values()).most_common(1)[0][0]]
        else:
            sheets = book.sheet_names
        best: tuple[int, str, dict[str, LabelHit]] | None = None
        for sheet in sheets:
            try:
                grid = book.grid(sheet, MAX_SCAN_ROWS)
            except UnreadableFile as exc:
                if cells or exc.kind != KIND_TOO_LARGE:
                    raise
                too_large = exc  # a huge sheet beside the form: the form may be on another sheet
                continue
            hits = scan_labels(grid, catalogue, book.merged.get(sheet, ()))
            hits = {k: v for k, v in hits.items() if k not in cells}
            if best is None or len(hits) > best[0]:
                best = (len(hits), sheet, hits)
            if form_version is None and not version_cells:
                form_version = _version_by_label(grid)
        if best is not None and best[0]:
            _, label_sheet, by_label = best
            if not cells:
                _check_enough(catalogue, by_label, book.sniffed.format)
    if not cells and not by_label:
        if too_large is not None:
            raise too_large
        raise _unreadable(_no_form_reason(book.sniffed.format), KIND_NO_FORM)

    raw, no_value = _values(book, {**cells, **version_cells})
    if version_cells:
        form_version = _version_text(raw.pop("__version__", None))
    located = dict(cells)
    if by_label:
        grid = book.grid(label_sheet, MAX_SCAN_ROWS)
        scan = book.scan(label_sheet) if book.sniffed.format != "csv" else SheetScan()
        for key, hit in by_label.items():
            r, c = hit.value
            if book.delimiter == ",":
                value = _csv_value(grid, hit)
            else:
                value = _cell(grid, r, c)
            raw[key] = _special_cell(value, scan, r, c, key, no_value)
            located[key] = CellRef(label_sheet, cell_name(r, c))

    values = {fld.key: raw.get(fld.key) for fld in catalogue.fields}
    notes = []
    if by_label:
        if cells:
            labels = ", ".join(catalogue.field(k).label for k in catalogue_order(catalogue, by_label))
            notes.append(f"Deze velden zijn herkend aan de tekst van de vraag, niet aan de vaste cel van het formulier: {labels}.")
        else:
            notes.append(
                f"Het bestand is een {FORMAT_NAMES.get(book.sniffed.format, 'spreadsheet')} zonder de vaste cellen van het "
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
            f"Bij '{catalogue.field(key).label}' staat een formule zonder berekende uitkomst; dit antwoord is als leeg "
            "behandeld. Open het bestand in Excel of LibreOffice, sla het op en stuur het opnieuw."
        )
    if form_version is None:
        notes.append("De formulierversie staat niet in het bestand.")
    elif form_version != catalogue.form_version:
        notes.append(f"Formulierversie {form_version}; de huidige versie is {catalogue.form_version}.")
    sheet = Counter(ref.sheet for ref in located.values()).most_common(1)[0][0]
    return ReturnRecord(
        return_id=return_id,
        source=source,
        values=values,
        cells=located,
        form_version=form_version,
        sheet=sheet,
        notes=tuple(notes),
    )


def catalogue_order(catalogue: Catalogue, keys: Iterable[str]) -> list[str]:
    wanted = set(keys)
    return [f.key for f in catalogue.fields if f.key in wanted]


def _no_form_reason(fmt: str) -> str:
    what = "Dit CSV-bestand" if fmt == "csv" else "Deze spreadsheet"
    return (
        f"{what} is geen ingevuld uitvraagformulier: geen van de velden van het uitvraagformulier gevonden. "
        "Vraag de aanbieder het formulier van de gemeente in te vullen."
    )


def _check_enough(catalogue: Catalogue, hits: Mapping[str, LabelHit], fmt: str) -> None:
    """A file found by labels only is a return when at least half of the required fields are in it."""
    required = [f for f in catalogue.fields if f.required]
    found = [f for f in required if f.key in hits]
    if not found:
        raise _unreadable(_no_form_reason(fmt), KIND_NO_FORM)
    if len(found) < math.ceil(len(required) / 2):
        what = "Dit CSV-bestand" if fmt == "csv" else "Deze spreadsheet"
        raise _unreadable(
            f"{what} lijkt op het uitvraagformulier, maar deze verplichte velden zijn niet gevonden: "
            f"{_missing_required_text(catalogue, hits)}. Vraag de aanbieder het formulier van de gemeente te gebruiken, "
            "zonder het na te maken of over te typen.",
            KIND_NO_FORM,
        )


_VERSION_IN_TEXT = re.compile(r"formulierversie\s*:?\s*([0-9]+(?:\.[0-9]+)+)", re.IGNORECASE)


def _version_by_label(grid: list[list[Any]]) -> str | None:
    """The form version in a sheet without defined names: next to 'Formulierversie', or in a sentence."""
    for r, row in enumerate(grid[:MAX_SCAN_ROWS]):
        for c, value in enumerate(row[:MAX_SCAN_COLS]):
            if not isinstance(value, str) or "ersie" not in value:
                continue
            if squash(value) == "formulierversie":
                found = _version_text(_cell(grid, r, c + 1))
                if found:
                    return found
            elif match := _VERSION_IN_TEXT.search(value):
                return match.group(1)
    return None


def _version_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None

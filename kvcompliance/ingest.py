"""Finding input files and reading returns made from the form.

The reader is built for speed (thousands of files): it finds the answers through the
form's workbook-level defined names (``kv_<key>``), read straight from the file's XML,
and reads only those cells with python-calamine. Reading happens in three steps, so a
later fallback (finding fields by their labels) slots in at :func:`locate_fields`:

1. :func:`sniff` — what kind of file is this (and refuse what is no return);
2. :func:`locate_fields` — where is each field (key -> :class:`CellRef`);
3. :func:`read_cells` — the raw values of those cells.

Every problem with a file becomes :class:`UnreadableFile` with a plain Dutch reason and a
short ``kind``; no other exception escapes :func:`read_return` for bad input.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import struct
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from kvcompliance.catalogue import Catalogue
from kvcompliance.errors import KvError, UnreadableFile
from kvcompliance.model import CellRef, ReturnRecord, SourceFile

#: Defined name holding the form version (see :mod:`kvcompliance.template`).
VERSION_NAME = "kv_formulierversie"

#: Zip-bomb guard: refuse a spreadsheet that unpacks to more than this many bytes ...
MAX_UNCOMPRESSED = 200 * 1024 * 1024
#: ... or that holds more than this many parts.
MAX_MEMBERS = 10_000
#: The largest workbook part (workbook.xml, content.xml) we parse for defined names.
MAX_XML_PART = 50 * 1024 * 1024

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
    """
    path = Path(path)
    try:
        relative = path.relative_to(inbox).as_posix()
    except ValueError:
        relative = path.name
    stat = path.stat()
    if path.is_dir():  # an unreadable sub-folder listed by discover(): nothing to hash
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
    workbook_part: str | None = None  # for xlsx: the path of the workbook part in the zip


def _unreadable(reason: str, kind: str = KIND_UNREADABLE) -> UnreadableFile:
    return UnreadableFile(reason, kind)


def _not_spreadsheet(what: str) -> UnreadableFile:
    return _unreadable(f"Het bestand is {what}, geen spreadsheet. {ASK_XLSX}", KIND_NOT_SPREADSHEET)


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

    Raises :class:`UnreadableFile` for anything that cannot be a return.
    """
    suffix = path.suffix.lower()
    if path.is_dir():
        raise _unreadable(
            "Deze map kan niet worden gelezen (geen leesrechten); de bestanden erin zijn niet gecontroleerd."
        )
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
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
    if suffix == ".csv":
        return Sniffed("csv")
    if suffix in SPREADSHEET_EXTENSIONS:
        raise _unreadable(
            f"Het bestand heeft de extensie {suffix}, maar is geen geldige spreadsheet: het is beschadigd, "
            f"onvolledig of van een ander type. {ASK_XLSX}"
        )
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


def _open_zip(path: Path) -> zipfile.ZipFile:
    """Open a zip container, refusing damaged files and (minimally) zip bombs."""
    try:
        archive = zipfile.ZipFile(path)
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError):
        raise _unreadable(
            f"Het bestand is beschadigd of onvolledig en kan niet worden geopend. {ASK_XLSX}"
        ) from None
    except OSError as exc:
        raise _unreadable(f"Het bestand kan niet worden geopend ({_os_reason(exc)}).") from None
    if len(infos) > MAX_MEMBERS or sum(info.file_size for info in infos) > MAX_UNCOMPRESSED:
        archive.close()
        raise _unreadable(
            f"Het bestand is uitgepakt groter dan {MAX_UNCOMPRESSED // (1024 * 1024)} MB; "
            "zo groot is een ingevuld formulier nooit. Het is niet gelezen.",
            KIND_TOO_LARGE,
        )
    return archive


def _read_part(archive: zipfile.ZipFile, name: str) -> bytes:
    """One part of a zip container, at most MAX_XML_PART bytes (whatever its header claims)."""
    with archive.open(name) as handle:
        data = handle.read(MAX_XML_PART + 1)
    if len(data) > MAX_XML_PART:
        raise _unreadable("Een onderdeel van het bestand is te groot om te lezen.", KIND_TOO_LARGE)
    return data


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _workbook_part(archive: zipfile.ZipFile, names: set[str]) -> str | None:
    """The workbook part of an OOXML spreadsheet, via the package relationships."""
    from defusedxml import ElementTree

    if "_rels/.rels" in names:
        root = ElementTree.fromstring(_read_part(archive, "_rels/.rels"))
        for rel in root:
            if _local(rel.tag) == "Relationship" and (rel.get("Type") or "").endswith("/officeDocument"):
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
                part = _workbook_part(archive, names)
                if part is None:
                    raise _unreadable(f"Het bestand is een beschadigde Excel-werkmap: de werkmap zelf ontbreekt. {ASK_XLSX}")
                return Sniffed("xlsb" if part.endswith(".bin") else "xlsx", part)
            if "mimetype" in names:
                mimetype = _read_part(archive, "mimetype")[:200].decode("ascii", "replace").strip()
                if mimetype.startswith("application/vnd.oasis.opendocument.spreadsheet"):
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


def ole_stream_names(path: Path) -> set[str]:
    """The names of the streams and storages in an OLE2 compound file (lower case).

    A small reader of the directory only (MS-CFB). Raises ``ValueError`` when the file is
    not a well-formed compound file.
    """
    with path.open("rb") as handle:
        header = handle.read(512)
        if len(header) < 512 or not header.startswith(OLE_MAGIC):
            raise ValueError("no compound file header")
        shift = struct.unpack_from("<H", header, 0x1E)[0]
        if shift not in (9, 12):
            raise ValueError("bad sector size")
        size = 1 << shift
        n_fat, first_dir = struct.unpack_from("<II", header, 0x2C)
        first_difat, n_difat = struct.unpack_from("<II", header, 0x44)
        file_size = os.fstat(handle.fileno()).st_size
        max_sectors = file_size // size + 1

        def sector(number: int) -> bytes:
            if number >= max_sectors:
                raise ValueError("sector out of range")
            handle.seek((number + 1) * size)
            data = handle.read(size)
            if len(data) < size:
                raise ValueError("truncated sector")
            return data

        fat_sectors = [s for s in struct.unpack_from("<109I", header, 0x4C) if s < 0xFFFFFFFA]
        difat, seen = first_difat, set()
        while difat < 0xFFFFFFFA and len(seen) < n_difat + 1:
            if difat in seen:
                raise ValueError("difat loop")
            seen.add(difat)
            entries = struct.unpack(f"<{size // 4}I", sector(difat))
            fat_sectors.extend(s for s in entries[:-1] if s < 0xFFFFFFFA)
            difat = entries[-1]
        fat_sectors = fat_sectors[:n_fat]
        per_sector = size // 4
        fat_cache: dict[int, tuple[int, ...]] = {}

        def next_sector(number: int) -> int:
            index = number // per_sector
            if index >= len(fat_sectors):
                raise ValueError("fat out of range")
            if index not in fat_cache:
                fat_cache[index] = struct.unpack(f"<{per_sector}I", sector(fat_sectors[index]))
            return fat_cache[index][number % per_sector]

        names: set[str] = set()
        current, visited = first_dir, set()
        while current < 0xFFFFFFFA:
            if current in visited or len(visited) > 10_000:
                raise ValueError("directory loop")
            visited.add(current)
            data = sector(current)
            for offset in range(0, size, 128):
                length = struct.unpack_from("<H", data, offset + 64)[0]
                kind = data[offset + 66]
                if kind in (1, 2, 5) and 2 <= length <= 64:
                    names.add(data[offset : offset + length - 2].decode("utf-16-le", "replace").lower())
            current = next_sector(current)
        return names


def _sniff_ole(path: Path, suffix: str) -> Sniffed:
    try:
        names = ole_stream_names(path)
    except (ValueError, OSError, struct.error):
        # Not a well-formed compound file: fall back to looking for the stream name.
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise _unreadable(f"Het bestand kan niet worden geopend ({_os_reason(exc)}).") from None
        names = {"encryptioninfo"} if "EncryptionInfo".encode("utf-16-le") in raw else set()
        if not names and suffix not in (".xls", ".xlt"):
            raise _unreadable(f"Het bestand is beschadigd en kan niet worden geopend. {ASK_XLSX}") from None
    if "encryptioninfo" in names or "encryptedpackage" in names:
        raise _unreadable(
            "Het bestand is met een wachtwoord beveiligd en kan daarom niet worden gelezen. "
            "Vraag de aanbieder het formulier zonder wachtwoord opnieuw te sturen.",
            KIND_PROTECTED,
        )
    if "workbook" in names or "book" in names or (not names and suffix in (".xls", ".xlt")):
        return Sniffed("xls")
    if "worddocument" in names:
        raise _not_spreadsheet("een Word-document (oud formaat)")
    if "powerpoint document" in names:
        raise _not_spreadsheet("een PowerPoint-presentatie (oud formaat)")
    raise _not_spreadsheet("een ouder Office-bestand")


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


def _xlsx_names(archive: zipfile.ZipFile, part: str) -> WorkbookNames:
    from defusedxml import ElementTree

    result = WorkbookNames()
    root = ElementTree.fromstring(_read_part(archive, part))
    for element in root.iter():
        tag = _local(element.tag)
        if tag == "sheet":
            result.sheets.append(element.get("name") or "")
        elif tag == "definedName" and element.get("localSheetId") is None:
            name = (element.get("name") or "").lower()
            target = (element.text or "").strip()
            ref = parse_reference(target)
            if ref is not None:
                result.names[name] = ref
            elif (constant := _constant(target)) is not None:
                result.names[name] = constant
    return result


_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"


def _ods_names(archive: zipfile.ZipFile, part: str) -> WorkbookNames:
    """Sheets and workbook-level named ranges/expressions from an ODS content.xml."""
    from defusedxml import ElementTree

    result = WorkbookNames()
    depth_in_table = 0
    data = _read_part(archive, part)
    for event, element in ElementTree.iterparse(io.BytesIO(data), events=("start", "end")):
        tag = element.tag
        if tag == f"{{{_TABLE}}}table":
            if event == "start":
                depth_in_table += 1
                result.sheets.append(element.get(f"{{{_TABLE}}}name") or "")
            else:
                depth_in_table -= 1
                element.clear()
            continue
        if event != "end" or depth_in_table:  # names inside a table are local to that sheet
            continue
        if tag == f"{{{_TABLE}}}named-range":
            ref = _parse_ods_reference(element.get(f"{{{_TABLE}}}cell-range-address"))
            if ref is not None:
                result.names[(element.get(f"{{{_TABLE}}}name") or "").lower()] = ref
        elif tag == f"{{{_TABLE}}}named-expression":
            expression = element.get(f"{{{_TABLE}}}expression")
            name = (element.get(f"{{{_TABLE}}}name") or "").lower()
            if (constant := _constant(expression)) is not None:
                result.names[name] = constant
            elif (ref := parse_reference((expression or "").removeprefix("of:"))) is not None:
                result.names[name] = ref
    return result


def read_names(path: Path, sniffed: Sniffed) -> WorkbookNames:
    """Sheets and defined names of a spreadsheet; empty for formats we cannot read them from."""
    if sniffed.format not in ("xlsx", "ods") or sniffed.workbook_part is None:
        return WorkbookNames()
    with _open_zip(path) as archive:
        if sniffed.format == "xlsx":
            return _xlsx_names(archive, sniffed.workbook_part)
        return _ods_names(archive, sniffed.workbook_part)


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
        if isinstance(ref, CellRef) and ref.sheet.lower() in sheets:
            cells[fld.key] = CellRef(sheets[ref.sheet.lower()], ref.cell)
    return cells


# --------------------------------------------------------------------------- reading cells
_CELL = re.compile(r"^([A-Z]{1,3})([0-9]+)$")


def cell_position(cell: str) -> tuple[int, int]:
    """'B7' -> (6, 1): zero-based row and column."""
    match = _CELL.match(cell.upper())
    if not match:
        raise ValueError(cell)
    column = 0
    for letter in match.group(1):
        column = column * 26 + (ord(letter) - 64)
    return int(match.group(2)) - 1, column - 1


def read_cells(path: Path, cells: Mapping[str, CellRef]) -> dict[str, Any]:
    """The raw values of ``cells`` (key -> CellRef) with python-calamine; empty -> None."""
    from python_calamine import CalamineWorkbook

    values: dict[str, Any] = {key: None for key in cells}
    if not cells:
        return values
    by_sheet: dict[str, list[tuple[str, int, int]]] = {}
    for key, ref in cells.items():
        row, col = cell_position(ref.cell)
        by_sheet.setdefault(ref.sheet, []).append((key, row, col))
    with CalamineWorkbook.from_path(str(path)) as workbook:
        sheet_names = {name.lower(): name for name in workbook.sheet_names}
        for sheet_name, wanted in by_sheet.items():
            actual = sheet_names.get(sheet_name.lower())
            if actual is None:
                continue
            sheet = workbook.get_sheet_by_name(actual)
            # skip_empty_area=False: the grid starts at A1, whatever the first filled cell.
            grid = sheet.to_python(skip_empty_area=False, nrows=max(row for _, row, _ in wanted) + 1)
            for key, row, col in wanted:
                value = grid[row][col] if row < len(grid) and col < len(grid[row]) else None
                values[key] = None if value == "" else value
    return values


# --------------------------------------------------------------------------- a return
def _missing_required_text(catalogue: Catalogue, found: Iterable[str]) -> str:
    found = set(found)
    labels = [f.label for f in catalogue.fields if f.required and f.key not in found]
    return ", ".join(labels)


FORMAT_HINTS = {
    "xls": "Het bestand is opgeslagen in het oude Excel-formaat (.xls); daarin herkent kvcompliance het formulier niet. "
    "Vraag de aanbieder het formulier op te slaan als Excel-werkmap (.xlsx).",
    "xlsb": "Het bestand is opgeslagen als binaire Excel-werkmap (.xlsb); daarin herkent kvcompliance het formulier niet. "
    "Vraag de aanbieder het formulier op te slaan als Excel-werkmap (.xlsx).",
    "csv": "Het bestand is een CSV-bestand; daarin staat het formulier niet. "
    "Vraag de aanbieder het ingevulde Excel-formulier (.xlsx) te sturen.",
}


def read_return(path: Path, source: SourceFile, return_id: str, catalogue: Catalogue) -> ReturnRecord:
    """Read one return made from the form, or raise :class:`UnreadableFile`.

    ``values`` holds every catalogue field (None when empty or not in the file), raw as the
    spreadsheet gives it; ``cells`` says where each field was found.
    """
    path = Path(path)
    try:
        return _read_return(path, source, return_id, catalogue)
    except UnreadableFile:
        raise
    except Exception as exc:  # noqa: BLE001 - bad input must never crash the run
        raise _unreadable(_library_reason(exc)) from None


def _library_reason(exc: Exception) -> str:
    """A plain Dutch reason for an unexpected error of a library while reading a file."""
    name = exc.__class__.__name__
    if name == "PasswordError":
        return "Het bestand is met een wachtwoord beveiligd en kan daarom niet worden gelezen."
    if isinstance(exc, OSError):
        return f"Het bestand kan niet worden gelezen ({_os_reason(exc)})."
    if isinstance(exc, MemoryError):
        return "Het bestand is te groot om te lezen."
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
    if not cells:
        missing = _missing_required_text(catalogue, ())
        hint = FORMAT_HINTS.get(sniffed.format)
        if hint:
            raise _unreadable(hint, KIND_NO_FORM)
        raise _unreadable(
            "Dit is een spreadsheet, maar niet het uitvraagformulier van de gemeente: "
            f"de verplichte velden {missing} zijn niet gevonden. "
            "Vraag de aanbieder het formulier van de gemeente in te vullen, zonder het na te maken of over te typen.",
            KIND_NO_FORM,
        )

    version_ref = names.names.get(VERSION_NAME)
    version_cell = {"__version__": version_ref} if isinstance(version_ref, CellRef) else {}
    try:
        raw = read_cells(path, {**cells, **version_cell})
    except Exception as exc:  # noqa: BLE001
        if exc.__class__.__name__ == "PasswordError":
            raise _unreadable(_library_reason(exc), KIND_PROTECTED) from None
        raise _unreadable(_library_reason(exc)) from None
    if isinstance(version_ref, str):
        form_version: str | None = version_ref
    elif version_cell:
        value = raw.pop("__version__", None)
        form_version = _version_text(value)
    else:
        form_version = None

    values = {fld.key: raw.get(fld.key) for fld in catalogue.fields}
    notes = []
    absent = [fld.label for fld in catalogue.fields if fld.key not in cells]
    if absent:
        notes.append(
            "Deze velden staan niet in het ingeleverde formulier (een ouder of aangepast formulier?): "
            + ", ".join(absent)
            + "."
        )
    if form_version is None:
        notes.append("De formulierversie staat niet in het bestand.")
    elif form_version != catalogue.form_version:
        notes.append(f"Formulierversie {form_version}; de huidige versie is {catalogue.form_version}.")
    sheet = Counter(ref.sheet for ref in cells.values()).most_common(1)[0][0]
    return ReturnRecord(
        return_id=return_id,
        source=source,
        values=values,
        cells=dict(cells),
        form_version=form_version,
        sheet=sheet,
        notes=tuple(notes),
    )


def _version_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


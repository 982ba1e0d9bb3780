"""The containers spreadsheets come in, and their guards.

Zip (.xlsx, .xlsb, .ods): refused by what its directory says before anything is unpacked
(too many parts, too large, packed too tightly), and every part is checked to unpack to no
more than it claims, because python-calamine unpacks until the data ends. OLE2 (.xls, and
an encrypted .xlsx): read with olefile; whether it is protected with a password is
msoffcrypto-tool's answer.

These are cheap checks that refuse a file before a library unpacks it. What a library then
does with a well-formed file (python-calamine holds a sheet as one dense block of cells) is
bounded by the memory limit of the reader processes (:mod:`kvcompliance.ingest.worker`).
"""

from __future__ import annotations

import os
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from kvcompliance.errors import UnreadableFile
from kvcompliance.ingest.reasons import cannot_open, refusal

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
#: Deflate cannot expand data more than about 1032 times, so a part whose packed size
#: times this is below SAFE_UNPACKED needs no check of its unpacked size.
DEFLATE_MAX_RATIO = 1032
SAFE_UNPACKED = 16 * 1024 * 1024

#: The first bytes of every OLE2 compound file.
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: Streams of an OLE2 file that holds an encrypted OOXML package (MS-OFFCRYPTO 2.3.4).
ENCRYPTED_PACKAGE_STREAMS = frozenset({"encryptioninfo", "encryptedpackage"})


def _mb(size: int) -> str:
    return f"{size // (1024 * 1024)} MB"


# --------------------------------------------------------------------------- zip
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


def open_zip(path: Path) -> zipfile.ZipFile:
    """Open a zip container, refusing damaged files and zip bombs (by what the directory says)."""
    try:
        directory = _central_directory_size(path)
    except OSError as exc:
        raise cannot_open(exc) from None
    if directory is not None and (directory[0] > MAX_MEMBERS or directory[1] > MAX_MEMBERS * 1024):
        raise refusal("te_veel_onderdelen")
    try:
        archive = zipfile.ZipFile(path)
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError, struct.error):
        raise refusal("beschadigd") from None
    except OSError as exc:
        raise cannot_open(exc) from None
    try:
        if len(infos) > MAX_MEMBERS:
            raise refusal("te_veel_onderdelen")
        if sum(info.file_size for info in infos) > MAX_UNCOMPRESSED:
            raise refusal("uitgepakt_te_groot", grens=_mb(MAX_UNCOMPRESSED))
        for info in infos:
            if info.file_size > MAX_XML_PART:
                raise refusal("onderdeel_te_groot", grens=_mb(MAX_XML_PART))
            if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(1, info.compress_size):
                raise refusal("zip_bom")
    except UnreadableFile:
        archive.close()
        raise
    return archive


def verify_unpacked_sizes(path: Path, archive: zipfile.ZipFile) -> None:
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
                raise refusal("beveiligd")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise refusal("ongebruikelijk_ingepakt")
            handle.seek(info.header_offset)
            header = handle.read(30)
            if len(header) < 30 or header[:4] != b"PK\x03\x04":
                raise refusal("beschadigd")
            name_length, extra_length = struct.unpack_from("<HH", header, 26)
            handle.seek(info.header_offset + 30 + name_length + extra_length)
            if info.compress_type == zipfile.ZIP_STORED:
                if info.compress_size != info.file_size:
                    raise refusal("beschadigd")
                continue
            if info.compress_size * DEFLATE_MAX_RATIO <= SAFE_UNPACKED:
                continue  # too small to unpack to anything harmful, whatever it claims
            _inflate_within(handle, info)


def _inflate_within(handle, info: zipfile.ZipInfo) -> None:
    """Inflate one part from ``handle`` (at its data), refusing it once it passes its claimed size."""
    limit = info.file_size + BOMB_MARGIN
    remaining, produced = info.compress_size, 0
    inflater = zlib.decompressobj(-15)
    try:
        while remaining > 0 and not inflater.eof:
            chunk = handle.read(min(256 * 1024, remaining))
            if not chunk:
                raise refusal("beschadigd")
            remaining -= len(chunk)
            data = chunk
            while data and not inflater.eof:
                produced += len(inflater.decompress(data, 1024 * 1024))
                if produced > limit:
                    raise refusal("zip_bom")
                data = inflater.unconsumed_tail
    except zlib.error:
        return  # damaged data in a part: python-calamine says so if it is a part it needs


def read_part(archive: zipfile.ZipFile, name: str) -> bytes:
    """One part of a zip container, at most MAX_XML_PART bytes (whatever its header claims)."""
    with archive.open(name) as handle:
        data = handle.read(MAX_XML_PART + 1)
    if len(data) > MAX_XML_PART:
        raise refusal("onderdeel_te_groot", grens=_mb(MAX_XML_PART))
    return data


def ods_encrypted(archive: zipfile.ZipFile, members: set[str]) -> bool:
    """Whether an .ods file is protected with a password: its manifest describes encrypted parts."""
    manifest = "META-INF/manifest.xml"
    return manifest in members and b"encryption-data" in read_part(archive, manifest)


# --------------------------------------------------------------------------- OLE2
@dataclass(frozen=True)
class OleContents:
    """What an OLE2 compound file holds, as far as recognising it needs."""

    names: frozenset[str]  # every stream and storage name, lower case
    workbook: bytes | None  # the Workbook (BIFF8) or Book (BIFF5) stream of an .xls file
    encrypted: bool  # protected with a password (an encrypted .xlsx, or an .xls with FILEPASS)


def read_ole(path: Path) -> OleContents:
    """Read an OLE2 compound file with olefile. Raises ``ValueError`` when it is not a
    well-formed compound file (or olefile cannot read it)."""
    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            names = frozenset(part.lower() for entry in ole.listdir(streams=True, storages=True) for part in entry)
            stream = "workbook" if ole.exists("workbook") else "book" if ole.exists("book") else None
            workbook = ole.openstream(stream).read() if stream is not None else None
    except OSError as exc:
        if isinstance(exc, PermissionError):
            raise
        raise ValueError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - olefile raises many kinds of error for a damaged file
        raise ValueError(f"{exc.__class__.__name__}: {exc}") from None
    encrypted = bool(names & ENCRYPTED_PACKAGE_STREAMS) or (workbook is not None and _xls_encrypted(path))
    return OleContents(names, workbook, encrypted)


def ole_stream_names(path: Path) -> set[str]:
    """The names of the streams and storages in an OLE2 compound file (lower case).

    Raises ``ValueError`` when the file is not a well-formed compound file.
    """
    return set(read_ole(path).names)


def _xls_encrypted(path: Path) -> bool:
    """msoffcrypto-tool's answer for an .xls workbook (a FILEPASS record). A file it cannot
    make sense of is not called protected here: python-calamine then says what is wrong."""
    import msoffcrypto

    with Path(path).open("rb") as handle:
        try:
            return bool(msoffcrypto.OfficeFile(handle).is_encrypted())
        except Exception:  # noqa: BLE001 - a damaged stream; AssertionError on a bad BOF record
            return False

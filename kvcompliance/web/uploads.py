"""What the browser sends, stored under names the server chooses.

The browser's file name is only a hint: :func:`safe_name` keeps its last part, made safe
on every system (no path, no ``..``, no control or reserved characters, no device names),
and :func:`place` makes it unique in the folder. A file arrives as the raw body of one
request, or with other small files in one bundle (:func:`receive_bundle`: a line of JSON
per file, then its bytes); there is no multipart parsing. It is written to a hidden file
in the target folder while its size is counted, and refused once it passes the limit. A zip file is unpacked with
the reader's container guards (:func:`kvcompliance.ingest.containers.open_zip`: too many
parts, too large, packed too tightly), every member's path is checked (no zip-slip) and
only its last part is used, each member is read no further than the size it claims.

The times a file was last changed are kept (the browser's ``lastModified``, a zip
member's date): when two returns are for the same contract, the audit keeps the newest.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
import time
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import AsyncIterator

from kvcompliance.errors import KvError, UnreadableFile
from kvcompliance.ingest.containers import MAX_MEMBERS, MAX_UNCOMPRESSED, open_zip
from kvcompliance.ingest.inbox import SYSTEM_FILES
from kvcompliance.ingest.sniff import MAX_FILE_SIZE
from kvcompliance.values import format_number, plural

#: Longest name (characters) a stored file gets; its suffix is kept.
MAX_NAME = 150
_FORBIDDEN = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {f"{b}{n}" for b in ("COM", "LPT") for n in "123456789"}
_CHUNK = 256 * 1024
_PLACING = threading.Lock()


@dataclass(frozen=True)
class Limits:
    """How much one upload and one audit may hold."""

    file_bytes: int = MAX_FILE_SIZE  # a return: the reader refuses larger files anyway
    zip_bytes: int = MAX_UNCOMPRESSED  # a zip of returns, packed
    files: int = MAX_MEMBERS  # returns in one audit
    input_bytes: int = 20 * 1024 * 1024  # settings, rules, register, previous findings
    dossier_bytes: int = 2 * 1024 * 1024 * 1024


class UploadRefused(KvError):
    """An upload that is not stored; the message is the Dutch reason, for the page."""


def megabytes(size: int) -> str:
    """'50 MB' (or '49 kB' below a megabyte)."""
    if size < 1024 * 1024:
        return f"{format_number(size / 1024, 0)} kB"
    return f"{format_number(size / (1024 * 1024), 0)} MB"


def too_big(name: str, limit: int, what: str = "bestand", return_form: bool = True) -> UploadRefused:
    """The refusal of a file over ``limit``; ``return_form``: it was sent as a return."""
    hint = " Een ingevuld formulier is veel kleiner." if return_form and what == "bestand" else ""
    return UploadRefused(f"{name} is niet toegevoegd: het {what} is groter dan {megabytes(limit)}.{hint}")


def too_many(name: str, limit: int) -> UploadRefused:
    return UploadRefused(f"{name} is niet toegevoegd: een controle kan hoogstens {plural(limit, 'bestand', 'bestanden')}"
                         " bevatten. Begin voor de rest een tweede controle.")


@dataclass
class Outcome:
    """What became of one upload: the names stored, and what was not stored and why."""

    added: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (name as sent, Dutch reason)
    present: list[str] = field(default_factory=list)  # the same file was there already

    def as_json(self) -> dict:
        return {
            "toegevoegd": self.added,
            "al_aanwezig": self.present,
            "geweigerd": [{"naam": name, "reden": reason} for name, reason in self.refused],
        }


def safe_name(sent: str, fallback: str = "bestand") -> str:
    """The last part of ``sent`` as a plain file name, safe on every system."""
    name = re.split(r"[\\/]", sent or "")[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join("_" if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") else ch for ch in name)
    name = _FORBIDDEN.sub("_", name)
    name = re.sub(r"\.{2,}", ".", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        stem, suffix = name, ""
    suffix = suffix[:10]
    budget = MAX_NAME - len(suffix) - 1
    while len(stem.encode("utf-8")) > budget or len(stem) > budget:
        stem = stem[:-1]
    stem = stem.rstrip(" .") or fallback
    if stem.split(".")[0].upper() in _RESERVED:
        stem = f"_{stem}"
    return f"{stem}.{suffix}" if suffix else stem


def skip_reason(sent: str, what: str = "opgave") -> str | None:
    """Why a file is not a return (or ``what`` else is asked for) at all (None: it may be
    one). The reader would skip it silently; here the officer is told."""
    name = re.split(r"[\\/]", sent or "")[-1]
    if name.startswith("~$"):
        return f"{name} is niet toegevoegd: het is een tijdelijk bestand van Excel of Word, geen {what}."
    if name.lower() in SYSTEM_FILES or name == ".DS_Store":
        return f"{name} is niet toegevoegd: het is een systeembestand, geen {what}."
    if name.startswith("."):
        return f"{name} is niet toegevoegd: het is een verborgen bestand (de naam begint met een punt)."
    return None


def count_files(folder: Path) -> int:
    try:
        with os.scandir(folder) as entries:
            return sum(1 for e in entries if not e.name.startswith("."))
    except FileNotFoundError:
        return 0


#: Files per folder as counted by :func:`place` (recounted at each request: :func:`recount`).
_COUNTED: dict[Path, int] = {}


def recount(folder: Path) -> None:
    """Count ``folder`` again when next a file is placed in it (once per request, not per file)."""
    with _PLACING:
        _COUNTED.pop(Path(folder), None)


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def temp_path(folder: Path) -> Path:
    """A hidden file in ``folder`` for data still arriving (the reader skips hidden files)."""
    return folder / f".upload-{secrets.token_hex(8)}"


async def receive(chunks: AsyncIterator[bytes], target: Path, limit: int, name: str, what: str = "bestand",
                  return_form: bool = True) -> str:
    """Write ``chunks`` to ``target``, refusing (and removing it) past ``limit`` bytes.
    Returns the SHA-256 of what was written."""
    digest, size = hashlib.sha256(), 0
    try:
        with open(target, "xb") as handle:
            os.chmod(target, 0o600)
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise too_big(name, limit, what, return_form)
                digest.update(chunk)
                handle.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return digest.hexdigest()


def place(tmp: Path, folder: Path, sent: str, sha256: str, modified: float | None, max_files: int, outcome: Outcome) -> None:
    """Move ``tmp`` into ``folder`` under a safe, unique name (recorded in ``outcome``).

    The same name with the same contents is there already: nothing is added. The same
    name with other contents: the new file gets ' (2)', ' (3)', ... before its suffix.
    """
    name = safe_name(sent)
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    folder = Path(folder)
    with _PLACING:
        used = _COUNTED.get(folder)
        if used is None:
            used = _COUNTED[folder] = count_files(folder)
        if used >= max_files:
            tmp.unlink(missing_ok=True)
            outcome.refused.append((sent, str(too_many(sent, max_files))))
            return
        number = 1
        while True:
            candidate = name if number == 1 else f"{stem} ({number})" + (f".{suffix}" if suffix else "")
            target = folder / candidate
            if not os.path.lexists(target):
                break
            if target.is_file() and not target.is_symlink() and _digest(target) == sha256:
                tmp.unlink(missing_ok=True)
                outcome.present.append(candidate)
                return
            number += 1
        if modified is not None:
            os.utime(tmp, (time.time(), modified))
        os.rename(tmp, target)
        _COUNTED[folder] = used + 1
    outcome.added.append(candidate)


# ------------------------------------------------------------------ many files in one request
#: A bundle is many small files in one request body: per file one line of JSON
#: {"naam": ..., "grootte": bytes, "gewijzigd": ms since 1970} and then exactly that many
#: bytes. A thousand files then cost a few dozen requests, not a thousand.
MAX_HEADER = 4096
MAX_BUNDLE_FILES = 500


class _Frames:
    """Reads a bundle from the request's chunks without holding more than one chunk."""

    def __init__(self, chunks: AsyncIterator[bytes]):
        self._chunks = chunks.__aiter__()
        self._buffer = bytearray()
        self._ended = False

    async def _more(self) -> bool:
        if self._ended:
            return False
        try:
            self._buffer += await self._chunks.__anext__()
        except StopAsyncIteration:
            self._ended = True
            return False
        return True

    async def header(self) -> dict | None:
        """The next file's header (None at the end of the body)."""
        import json

        while b"\n" not in self._buffer:
            if len(self._buffer) > MAX_HEADER or not await self._more():
                if not self._buffer.strip():
                    return None
                raise UploadRefused("De bestanden kwamen niet goed aan. Probeer het opnieuw.")
        line, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer = bytearray(rest)
        try:
            header = json.loads(line)
            if not (isinstance(header.get("naam"), str) and isinstance(header.get("grootte"), int) and header["grootte"] >= 0):
                raise ValueError
        except (ValueError, AttributeError):
            raise UploadRefused("De bestanden kwamen niet goed aan. Probeer het opnieuw.") from None
        return header

    async def copy(self, size: int, handle, digest) -> None:
        """Write the next ``size`` bytes to ``handle``."""
        while size:
            if not self._buffer and not await self._more():
                raise UploadRefused("De bestanden kwamen niet helemaal aan. Probeer het opnieuw.")
            part = self._buffer[:size]
            del self._buffer[: len(part)]
            digest.update(part)
            handle.write(part)
            size -= len(part)


async def receive_bundle(chunks: AsyncIterator[bytes], folder: Path, limits: Limits, store) -> None:
    """Store every file of a bundle with ``store(tmp, name, sha256, modified)``. A file over
    its limit ends the request (its bytes are not read): it and the rest are refused."""
    frames = _Frames(chunks)
    for _ in range(MAX_BUNDLE_FILES):
        header = await frames.header()
        if header is None:
            return
        name, size = header["naam"][:255], header["grootte"]
        is_zip = name.lower().endswith(".zip")
        limit = limits.zip_bytes if is_zip else limits.file_bytes
        if size > limit:
            raise too_big(name, limit, "zip-bestand" if is_zip else "bestand")
        modified = header.get("gewijzigd")
        modified = modified / 1000 if isinstance(modified, (int, float)) and 0 < modified < 10**14 else None
        tmp = temp_path(folder)
        digest = hashlib.sha256()
        try:
            with open(tmp, "xb") as handle:
                os.chmod(tmp, 0o600)
                await frames.copy(size, handle, digest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        await store(tmp, name, digest.hexdigest(), modified)
    raise UploadRefused(f"Stuur hoogstens {MAX_BUNDLE_FILES} bestanden tegelijk.")


# ------------------------------------------------------------------ zip files of returns
def _member_problem(info: zipfile.ZipInfo, limits: Limits) -> str | None:
    """Why a member of a zip file is not unpacked (None: it is)."""
    raw = info.filename.replace("\\", "/")
    parts = PurePosixPath(raw).parts
    if raw.startswith("/") or re.match(r"^[A-Za-z]:", raw) or ".." in parts:
        return f"{info.filename} is niet uitgepakt: het pad wijst buiten het zip-bestand."
    if info.flag_bits & 0x1:
        return f"{info.filename} is niet uitgepakt: het is in het zip-bestand met een wachtwoord beveiligd."
    if info.file_size > limits.file_bytes:
        return str(too_big(info.filename, limits.file_bytes))
    return skip_reason(parts[-1] if parts else "")


def _zip_date(info: zipfile.ZipInfo) -> float | None:
    try:
        return time.mktime((*info.date_time, 0, 0, -1))
    except (OverflowError, ValueError):
        return None


def unpack_zip(path: Path, sent: str, folder: Path, limits: Limits) -> Outcome:
    """Unpack the returns in the zip file ``path`` into ``folder`` (flat: folders inside
    the zip are not kept, names are made safe and unique)."""
    outcome = Outcome()
    try:
        archive = open_zip(path)
    except UnreadableFile as exc:
        reason = {
            "te groot": f"het is te groot om veilig uit te pakken (hoogstens {plural(MAX_MEMBERS, 'bestand', 'bestanden')}"
                        f" en {megabytes(MAX_UNCOMPRESSED)} uitgepakt)",
            "beveiligd": "het is met een wachtwoord beveiligd",
        }.get(exc.kind, "het is beschadigd of geen zip-bestand")
        outcome.refused.append((sent, f"{sent} is niet uitgepakt: {reason}."))
        return outcome
    with archive:
        for info in archive.infolist():
            if info.is_dir() or info.filename.replace("\\", "/").startswith("__MACOSX/"):
                continue
            problem = _member_problem(info, limits)
            if problem is not None:
                outcome.refused.append((info.filename, problem))
                continue
            tmp = temp_path(folder)
            digest = hashlib.sha256()
            try:
                with archive.open(info) as source, open(tmp, "xb") as handle:
                    os.chmod(tmp, 0o600)
                    while chunk := source.read(_CHUNK):
                        digest.update(chunk)
                        handle.write(chunk)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError):
                tmp.unlink(missing_ok=True)
                outcome.refused.append((info.filename, f"{info.filename} is niet uitgepakt: het is beschadigd in het zip-bestand."))
                continue
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            place(tmp, folder, info.filename, digest.hexdigest(), _zip_date(info), limits.files, outcome)
    return outcome

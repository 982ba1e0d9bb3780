"""Finding the files in the inbox, and their provenance (size, time, SHA-256)."""

from __future__ import annotations

import hashlib
import os
import stat as statmod
from dataclasses import dataclass, field
from pathlib import Path

from kvcompliance.errors import KvError
from kvcompliance.model import SourceFile

#: Files that operating systems leave in shared folders; never a return.
SYSTEM_FILES = {"thumbs.db", "desktop.ini", "ehthumbs.db", ".ds_store"}
HASH_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Skipped:
    """An inbox entry that is not read on purpose, with the kind of reason (catalogue
    ``schemas/overgeslagen.toml``) and the values its Dutch reason names."""

    path: Path
    kind: str
    values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Survey:
    """Everything in the inbox: the files to read, and what is skipped on purpose."""

    files: list[Path]
    skipped: list[Skipped]


def _skip_kind(name: str) -> str | None:
    from kvcompliance.catalogue import skipped
    from kvcompliance.outputs import is_internal_name

    if is_internal_name(name):  # before 'hidden': the tool's own files start with a dot too
        return skipped.WORK_FILE
    if name.startswith("~$"):
        return skipped.OFFICE_LOCK
    if name.lower() in SYSTEM_FILES or name.startswith("._"):
        return skipped.SYSTEM_FILE
    if name.startswith("."):
        return skipped.HIDDEN
    return None


def survey(inbox: Path) -> Survey:
    """Every entry below ``inbox`` (recursively): the files to read, sorted by relative
    path, and every entry skipped on purpose, with its kind.

    Skipped: Office lock files (``~$…``), hidden files and folders (``.…``), system files
    such as ``Thumbs.db``, the tool's own work files, the files an earlier run wrote (by
    the manifest of its output folder, whatever it is called; an officer's own files next
    to them are read), links (never followed, so only what is really in the folder is
    read), pipes, sockets and devices. A sub-folder that cannot be read is skipped with
    the reason, and so is an empty one. Nothing in the inbox goes unaccounted for.
    """
    from kvcompliance.catalogue import skipped
    from kvcompliance.errors import os_reason
    from kvcompliance.outputs import EarlierOutputs

    inbox = Path(inbox)
    if not inbox.is_dir():
        raise KvError(f"De map {inbox} bestaat niet of is geen map.")
    earlier = EarlierOutputs()
    files: list[tuple[str, Path]] = []
    skips: list[tuple[str, Skipped]] = []
    errors: list[OSError] = []

    def skip(path: Path, kind: str, **values: str) -> None:
        skips.append((relative_path(path, inbox), Skipped(path, kind, values)))

    for folder, dirs, names in os.walk(inbox, onerror=errors.append, followlinks=False):
        if not dirs and not names and Path(folder) != inbox:
            skip(Path(folder), skipped.EMPTY_FOLDER, naam=Path(folder).name)
        kept = []
        for name in dirs:
            path = Path(folder) / name
            kind = _skip_kind(name)
            if kind is None and os.path.islink(path):
                kind = skipped.LINK
            if kind is None:
                kept.append(name)
            else:
                skip(path, kind, naam=name, doel=_target(path))
        dirs[:] = kept
        for name in names:
            path = Path(folder) / name
            kind = _skip_kind(name)
            if kind is not None:
                skip(path, kind, naam=name)
                continue
            try:
                mode = path.lstat().st_mode
            except OSError:  # gone while we looked
                continue
            if statmod.S_ISLNK(mode):
                skip(path, skipped.LINK, naam=name, doel=_target(path))
            elif not statmod.S_ISREG(mode):  # sockets, pipes, devices: never read them
                skip(path, skipped.SPECIAL, naam=name, wat=skipped.special_kind(mode))
            elif path in earlier:
                skip(path, skipped.EARLIER_OUTPUT, naam=name)
            else:
                files.append((relative_path(path, inbox), path))
    for error in errors:
        folder = Path(error.filename) if error.filename else None
        if folder is not None and folder != inbox and folder.is_relative_to(inbox):
            skip(folder, skipped.UNREADABLE_FOLDER, naam=folder.name, fout=os_reason(error, reading=True))
    files.sort(key=lambda item: item[0])
    skips.sort(key=lambda item: item[0])
    return Survey([path for _, path in files], [entry for _, entry in skips])


def _target(path: Path) -> str:
    try:
        return display_name(os.readlink(path))
    except OSError:
        return "een onbekende plaats"


def discover(inbox: Path) -> list[Path]:
    """The files below ``inbox`` to read, sorted by relative path (see :func:`survey`)."""
    return survey(inbox).files


def display_name(name: str) -> str:
    """A file name as text: each byte that is not UTF-8 (kept by the OS as a surrogate)
    shown escaped, ``opgave-\\xe9.xlsx``, so a name never stops the audit or its log, is
    plain ASCII where it was not text (safe on a terminal and in a spreadsheet), and two
    such files (``\\xe9`` and ``\\xe8``) stay two names in the log, the overview and
    on screen. The web pages find a file back by this name."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")


def relative_path(path: Path, inbox: Path) -> str:
    """The path of a file as the reports name it: relative to the inbox, with forward slashes."""
    try:
        return display_name(Path(path).relative_to(inbox).as_posix())
    except ValueError:
        return display_name(Path(path).name)


def source_file(path: Path, inbox: Path) -> SourceFile:
    """Provenance of an input file: relative path, size, modification time and SHA-256.

    The hash is computed in chunks, so large files do not fill memory. Raises
    ``OSError`` when the file cannot be read (the caller turns that into a rejected file).
    Only regular files are opened: a pipe or device would block or never end.
    """
    path = Path(path)
    relative = relative_path(path, inbox)
    stat = path.stat()
    if not statmod.S_ISREG(stat.st_mode):  # an unreadable sub-folder listed by discover(), a pipe
        return SourceFile(relative, 0, stat.st_mtime, "")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return SourceFile(relative, stat.st_size, stat.st_mtime, digest.hexdigest())

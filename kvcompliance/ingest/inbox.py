"""Finding the files in the inbox, and their provenance (size, time, SHA-256)."""

from __future__ import annotations

import hashlib
import os
import stat as statmod
from pathlib import Path

from kvcompliance.errors import KvError
from kvcompliance.model import SourceFile

#: Files that operating systems leave in shared folders; never a return.
SYSTEM_FILES = {"thumbs.db", "desktop.ini", "ehthumbs.db"}
HASH_CHUNK = 1024 * 1024


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


def relative_path(path: Path, inbox: Path) -> str:
    """The path of a file as the reports name it: relative to the inbox, with forward slashes."""
    try:
        return Path(path).relative_to(inbox).as_posix()
    except ValueError:
        return Path(path).name


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

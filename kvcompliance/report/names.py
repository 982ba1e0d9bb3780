"""Safe, unique file names for the provider workbooks.

A provider chooses its own name, so the name may contain anything: slashes, ``..``,
colons, control characters, Windows device names. The file name built here is always a
plain name (never a path) that is valid on Windows, macOS and Linux, so the workbook
always lands inside the output folder.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

UNKNOWN = "onbekend"
EXTENSION = ".xlsx"
MAX_CHARS = 120  # whole file name, extension included
MAX_BYTES = 200  # UTF-8; most file systems allow 255 bytes per name
_PART_LIMITS = (10, 70, 40)  # verslagjaar, naam, contractnummer

# Characters not allowed (or dangerous) in a file name on some system, plus '#' and '%',
# which break links to the file.
_FORBIDDEN = re.compile(r'[\\/:*?"<>|#%\x00-\x1f\x7f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{base}{n}" for base in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")
}


def _clean_part(value: Any, limit: int) -> str:
    """One part of the name: unsafe characters become '_', whitespace one space."""
    text = "" if value is None else str(value)
    text = unicodedata.normalize("NFC", text)
    # Control, format, surrogate and unassigned characters and separators other than space.
    text = "".join(
        " " if unicodedata.category(ch) in ("Zs", "Zl", "Zp") or ch in "\t\r\n"
        else "_" if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn")
        else ch
        for ch in text
    )
    text = _FORBIDDEN.sub("_", text)
    text = re.sub(r"\.{2,}", ".", text)  # no '..' anywhere
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"_{2,}", "_", text)
    text = text.strip(" ._-")
    text = _cap(text, limit).strip(" ._-")
    return text or UNKNOWN


def _cap(text: str, chars: int, max_bytes: int = MAX_BYTES) -> str:
    text = text[:chars]
    while len(text.encode("utf-8")) > max_bytes:
        text = text[:-1]
    return text


def _is_reserved(stem: str) -> bool:
    return stem.split(".")[0].strip().upper() in _RESERVED


def provider_filename(verslagjaar: Any, naam: Any, contractnummer: Any, taken: set[str]) -> str:
    """``<verslagjaar>_<naam>_<contractnummer>.xlsx``, safe and unique among ``taken``.

    Missing parts become "onbekend". Uniqueness is case-insensitive (Windows and macOS
    file systems are); a clash gets ``_2``, ``_3``, ... before the extension. ``taken``
    holds the names given out so far, case-folded (``str.casefold``); it is not changed:
    the caller adds the returned name's case-folded form to it.
    """
    year = verslagjaar
    if isinstance(year, float) and year.is_integer():
        year = int(year)
    parts = [_clean_part(p, limit) for p, limit in zip((year, naam, contractnummer), _PART_LIMITS)]
    stem = "_".join(parts)
    if _is_reserved(stem):
        stem = f"_{stem}"
    budget = MAX_CHARS - len(EXTENSION)
    number = 1
    while True:
        suffix = "" if number == 1 else f"_{number}"
        base = _cap(stem, budget - len(suffix), MAX_BYTES - len(suffix) - len(EXTENSION)).rstrip(" .")
        name = f"{base}{suffix}{EXTENSION}"
        if name.casefold() not in taken:
            return name
        number += 1

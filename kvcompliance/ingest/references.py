"""Cell references: ``B7`` <-> (row, column), and the targets of defined names."""

from __future__ import annotations

import functools
import re

from kvcompliance.model import CellRef

_CELL = re.compile(r"^([A-Z]{1,3})([0-9]+)$")
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
_VERSION_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)*")


def column_number(letters: bytes | str) -> int:
    """'A' -> 0, 'AB' -> 27."""
    number = 0
    for letter in letters.upper() if isinstance(letters, str) else letters.upper().decode("ascii"):
        number = number * 26 + (ord(letter) - 64)
    return number - 1


@functools.lru_cache(maxsize=4096)
def cell_position(cell: str) -> tuple[int, int]:
    """'B7' -> (6, 1): zero-based row and column."""
    match = _CELL.match(cell.upper())
    if not match:
        raise ValueError(cell)
    return int(match.group(2)) - 1, column_number(match.group(1))


def cell_name(row: int, col: int) -> str:
    """(6, 1) -> 'B7'."""
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"


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


def parse_ods_reference(target: str | None) -> CellRef | None:
    """``$'My sheet'.$B$7`` (an .ods named range) -> CellRef; anything else -> None."""
    if not target or "#REF" in target.upper():
        return None
    match = _ODS_REFERENCE.match(target.strip())
    return _cellref(match) if match else None


def _cellref(match: re.Match[str]) -> CellRef:
    sheet = match.group("quoted").replace("''", "'") if match.group("quoted") else match.group("plain").strip()
    return CellRef(sheet, f"{match.group('col').upper()}{int(match.group('row'))}")


def constant(target: str | None) -> str | None:
    """The text of a constant defined name such as ``="2026.1"`` or ``2026.1``."""
    if target is None:
        return None
    text = target.strip()
    if text.startswith("of:"):
        text = text[3:]
    text = text.lstrip("=").strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1].replace('""', '"')
    if _VERSION_NUMBER.fullmatch(text):
        return text
    return None

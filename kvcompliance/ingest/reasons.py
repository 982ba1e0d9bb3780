"""Refusing a file: the reasons, by their key in ``schemas/bestanden.toml``.

Every refusal of the reader is an :class:`~kvcompliance.errors.UnreadableFile` made here,
so the Dutch text and the kind of each reason live in the catalogue only.
"""

from __future__ import annotations

import math
from typing import Any

from kvcompliance.catalogue import load_file_reasons
from kvcompliance.errors import UnreadableFile


def refusal(key: str, **values: Any) -> UnreadableFile:
    """The exception that refuses a file for reason ``key`` (placeholders from ``values``)."""
    return load_file_reasons().unreadable(key, **values)


def kind_of(key: str) -> str:
    """The short kind ('te groot', 'beveiligd', ...) of reason ``key``."""
    return load_file_reasons().kind(key)


def describe(what: str, **values: Any) -> str:
    """What a file is, in Dutch ('een pdf-document'), by its key in [wat]."""
    return load_file_reasons().describe(what, **values)


def not_spreadsheet(what: str, **values: Any) -> UnreadableFile:
    """'Het bestand is een pdf-document, geen spreadsheet.' for the [wat] key ``what``."""
    return refusal("geen_spreadsheet", wat=describe(what, **values))


def os_cause(exc: OSError) -> str:
    """Why the operating system did not open a file, in Dutch where we know the words."""
    causes = load_file_reasons().causes
    if isinstance(exc, PermissionError):
        return causes["geen_rechten"]
    if isinstance(exc, FileNotFoundError):
        return causes["verdwenen"]
    if isinstance(exc, IsADirectoryError):
        return causes["map"]
    return exc.strerror or exc.__class__.__name__


def cannot_open(exc: OSError) -> UnreadableFile:
    return refusal("niet_te_openen", oorzaak=os_cause(exc))


def megabytes(size: int) -> str:
    """A size for a reason: '51 MB' (rounded up)."""
    return f"{math.ceil(size / (1024 * 1024))} MB"

"""The Bevindingen table as a CSV file for Excel and other tools.

Format: ``;``-separated (what Dutch Excel expects), UTF-8 with a byte order mark (so
Excel reads the accents right), one header row with the same column names as the
Bevindingen sheet, the status as its catalogue label. :func:`write_csv` writes every CSV
file of the tool this way (the mailing list too); :func:`findings_table` is the table
itself, built once for the Bevindingen sheet and this file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Iterable, Sequence

from kvcompliance.catalogue import Status
from kvcompliance.model import AuditResult
from kvcompliance.report.xlsx import atomic_path
from kvcompliance.report.tables import FINDINGS_COLUMNS, iter_findings_rows

#: A cell starting with one of these is run as a formula when Excel opens a CSV file.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The field separator and line end of every CSV file written here.
DELIMITER, LINE_END = ";", "\r\n"
#: A field holding one of these is put in double quotes (Python's ``csv.QUOTE_MINIMAL``).
_NEEDS_QUOTES = re.compile('[;"\r\n]').search
#: Lines handed to the file at a time: few writes, little memory for a big table.
_LINES_PER_WRITE = 2000


def guard_formula(text: str) -> str:
    """Prefix ``'`` to text Excel would otherwise read as a formula (CSV injection).

    Excel treats a CSV cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
    carriage return as a formula, so a provider typing ``=HYPERLINK(...)`` as its name
    could plant a live link or command in the officer's spreadsheet. Such a cell gets a
    leading apostrophe: Excel then shows the text, and a program reading the CSV can
    recognise and strip the ``'``. Other text is unchanged.
    """
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def unguard_formula(field: str) -> str:
    """The text :func:`guard_formula` was given: the ``'`` it added is removed (a text
    that itself starts with ``'``, like "'t Erf", is left as it is)."""
    return field[1:] if field.startswith("'") and field[1:].startswith(FORMULA_STARTS) else field


class _Fields(dict):
    """Text -> the CSV field showing it: guarded, quoted when needed, each text done once
    (names, titles, norms and standard messages recur on many rows)."""

    def __missing__(self, text: str) -> str:
        field = guard_formula(text)
        if _NEEDS_QUOTES(field):
            field = '"' + field.replace('"', '""') + '"'
        self[text] = field
        return field


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """Write a ``;``-separated CSV for Excel to ``path``, whole or not at all.

    UTF-8 with a byte order mark, ``\\r\\n`` line ends, fields quoted exactly as Python's
    ``csv`` module quotes them (``QUOTE_MINIMAL``). Every data cell (text) passes
    :func:`guard_formula`; the header row is fixed text.
    """
    field = _Fields().__getitem__
    join = DELIMITER.join
    with atomic_path(path) as tmp:
        with tmp.open("w", encoding="utf-8-sig", newline="") as handle:
            handle.write(join(header) + LINE_END)
            lines = []
            for row in rows:
                line = join(map(field, row))
                lines.append(line if line or len(row) != 1 else '""')  # as csv: a lone empty field is quoted
                if len(lines) == _LINES_PER_WRITE:
                    lines.append("")
                    handle.write(LINE_END.join(lines))
                    lines = []
            if lines:
                lines.append("")
                handle.write(LINE_END.join(lines))


@dataclass(frozen=True)
class FindingsTable:
    """The Bevindingen table (:func:`~kvcompliance.report.tables.iter_findings_rows`) as
    plain rows: ``rows[i]`` holds the texts in :data:`FINDINGS_COLUMNS` order, ``statuses[i]``
    the status of that row."""

    statuses: list[Status]
    rows: list[tuple[str, ...]]


def findings_table(result: AuditResult) -> FindingsTable:
    """The Bevindingen table of ``result``: build it once and hand it to both the overview
    sheet and the CSV (about 2 kB per return; the texts are shared with the findings)."""
    cells_of = itemgetter(*FINDINGS_COLUMNS)
    statuses, rows = [], []
    for row in iter_findings_rows(result):
        statuses.append(row.status)
        rows.append(cells_of(row.cells))
    return FindingsTable(statuses, rows)


def write_findings_csv(result: AuditResult, path: Path, table: FindingsTable | None = None) -> None:
    """Write the findings (one row per return × rule) to ``path``, whole or not at all."""
    write_csv(path, FINDINGS_COLUMNS, (table or findings_table(result)).rows)

"""The Bevindingen table as a CSV file for Excel and other tools.

Format: ``;``-separated (what Dutch Excel expects), UTF-8 with a byte order mark (so
Excel reads the accents right), one header row with the same column names as the
Bevindingen sheet, the status as its catalogue label.
"""

from __future__ import annotations

import csv
from pathlib import Path

from kvcompliance.model import AuditResult
from kvcompliance.report.output import atomic_path
from kvcompliance.report.tables import FINDINGS_COLUMNS, iter_findings_rows

#: A cell starting with one of these is run as a formula when Excel opens a CSV file.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def guard_formula(text: str) -> str:
    """Prefix ``'`` to text Excel would otherwise read as a formula (CSV injection).

    Excel treats a CSV cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
    carriage return as a formula, so a provider typing ``=HYPERLINK(...)`` as its name
    could plant a live link or command in the officer's spreadsheet. Such a cell gets a
    leading apostrophe: Excel then shows the text, and a program reading the CSV can
    recognise and strip the ``'``. Other text is unchanged.
    """
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def write_findings_csv(result: AuditResult, path: Path) -> None:
    """Write the findings (one row per return × rule) to ``path``, whole or not at all.

    Every data cell passes :func:`guard_formula`; the header row is fixed text.
    """
    with atomic_path(path) as tmp:
        with tmp.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
            writer.writerow(FINDINGS_COLUMNS)
            writer.writerows([guard_formula(row.cells[name]) for name in FINDINGS_COLUMNS] for row in iter_findings_rows(result))

"""``kvcompliance dossier export --csv MAP``: every table of the dossier as a CSV file for
Excel and BI tools: ``;``-separated, UTF-8 with a byte order mark, text guarded against
formulas (:func:`kvcompliance.report.csvout.write_csv`), decimal numbers with a comma as
Dutch Excel expects, empty for NULL. One read transaction, so the files fit together.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kvcompliance.dossier.schema import TABLES, Dossier, columns, dutch_reason
from kvcompliance.errors import DossierError


@dataclass(frozen=True)
class ExportedTable:
    table: str
    path: Path
    rows: int


def _field(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value).replace(".", ",") if not value.is_integer() else str(int(value))
    return str(value)


def export_csv(dossier: Dossier, folder: Path) -> list[ExportedTable]:
    """Write ``<tabel>.csv`` for every table into ``folder`` (made when missing)."""
    from kvcompliance.report.csvout import write_csv

    folder = Path(folder)
    conn = dossier.connect()
    exported = []
    try:
        conn.execute("BEGIN")
        for table in TABLES:
            names = columns(conn, table)
            rows = [tuple(_field(v) for v in row) for row in conn.execute(f"SELECT * FROM {table} ORDER BY rowid")]
            path = folder / f"{table}.csv"
            write_csv(path, names, rows)
            exported.append(ExportedTable(table, path, len(rows)))
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        raise DossierError(dutch_reason(exc, dossier.path)) from None
    finally:
        conn.close()
    return exported

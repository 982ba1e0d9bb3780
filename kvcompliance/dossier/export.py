"""``kvcompliance dossier export --csv MAP``: every table of the dossier as a CSV file for
Excel and BI tools: ``;``-separated, UTF-8 with a byte order mark, text guarded against
formulas (:func:`kvcompliance.report.csvout.write_csv`), decimal numbers with a comma as
Dutch Excel expects, empty for NULL. One read transaction, so the files fit together.

An export replaces only the files an earlier export wrote: their names and SHA-256 are
kept in ``.kvcompliance-export.json`` in the folder. A ``<tabel>.csv`` it did not write
(the ``bevindingen.csv`` of an audit's output folder, an officer's own file), or one
changed since, stops the export before anything is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kvcompliance.dossier.schema import TABLES, Dossier, columns, dutch_reason
from kvcompliance.errors import DossierError, OutputError

#: The files the last export wrote into a folder, with their SHA-256.
RECORD_FILE = ".kvcompliance-export.json"
PROGRAM = "kvcompliance"


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
    names = [f"{table}.csv" for table in TABLES]
    record = _read_record(folder)
    _refuse_foreign(folder, [n for n in names if os.path.lexists(folder / n) and not _ours(folder / n, record.get(n))])
    conn = dossier.connect()
    exported = []
    try:
        conn.execute("BEGIN")
        # Noted before writing, so that an export that is interrupted still knows them as its own.
        _write_record(folder, {**record, **{n: "" for n in names}})
        for table in TABLES:
            header = columns(conn, table)
            rows = [tuple(_field(v) for v in row) for row in conn.execute(f"SELECT * FROM {table} ORDER BY rowid")]
            path = folder / f"{table}.csv"
            write_csv(path, header, rows)
            record[path.name] = _sha256(path)
            exported.append(ExportedTable(table, path, len(rows)))
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        raise DossierError(dutch_reason(exc, dossier.path)) from exc
    finally:
        conn.close()
    _write_record(folder, record)
    return exported


def _refuse_foreign(folder: Path, foreign: list[str]) -> None:
    if not foreign:
        return
    one = len(foreign) == 1
    names = foreign[0] if one else ", ".join(foreign[:-1]) + " en " + foreign[-1]
    raise OutputError(
        f"In {folder} {'staat' if one else 'staan'} al {names}, niet geschreven door kvcompliance dossier export"
        f" (of daarna gewijzigd). {'Dat wordt' if one else 'Die worden'} niet overschreven: verplaats of verwijder"
        f" {'het' if one else 'ze'}, of kies met --csv een andere map."
    )


def _ours(path: Path, digest: str | None) -> bool:
    """Whether ``path`` is still the file an export wrote (digest '': written by an export
    that was interrupted before it could note the digest)."""
    return digest is not None and not path.is_symlink() and (not digest or _sha256(path) == digest)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1024 * 1024):
                digest.update(chunk)
    except OSError:
        return "?"  # never equal to a digest noted
    return digest.hexdigest()


def _read_record(folder: Path) -> dict[str, str]:
    with contextlib.suppress(OSError, ValueError):
        data = json.loads((folder / RECORD_FILE).read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("programma") == PROGRAM and isinstance(data.get("bestanden"), dict):
            return {n: d for n, d in data["bestanden"].items() if isinstance(n, str) and isinstance(d, str)}
    return {}


def _write_record(folder: Path, record: dict[str, str]) -> None:
    from kvcompliance.report.xlsx import atomic_path

    with atomic_path(folder / RECORD_FILE) as tmp:
        tmp.write_text(json.dumps({"programma": PROGRAM, "bestanden": record}, indent=1), encoding="utf-8")

"""``kvcompliance dossier export --csv MAP``: every table of the dossier as a CSV file for
Excel and BI tools: ``;``-separated, UTF-8 with a byte order mark, text guarded against
formulas (:func:`kvcompliance.report.csvout.write_csv`), decimal numbers with a comma as
Dutch Excel expects, empty for NULL. One read transaction, so the files fit together.

An export is whole or absent: the tables are written into a hidden staging folder in the
target and moved into place together (:func:`export_csv`).

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
import secrets
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kvcompliance.dossier.schema import TABLES, Dossier, columns, dutch_reason
from kvcompliance.errors import DossierError, OutputError, os_reason
from kvcompliance.values import listing

#: The files the last export wrote into a folder, with their SHA-256.
RECORD_FILE = ".kvcompliance-export.json"
#: An export writes its tables in a hidden folder with this prefix in the target first.
STAGING_PREFIX = ".kvcompliance-export-nieuw-"
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
    """Write ``<tabel>.csv`` for every table into ``folder`` (made when missing), whole or
    not at all: every table is written into a hidden staging folder in ``folder`` first
    (one read transaction), and only then moved into place, all at once with Ctrl-C held
    off. An export stopped or failing before that leaves ``folder`` as it was (a folder it
    made is removed again)."""
    from kvcompliance.report.csvout import write_csv

    folder = Path(folder)
    names = [f"{table}.csv" for table in TABLES]
    record = _read_record(folder)
    _refuse_foreign(folder, [n for n in names if os.path.lexists(folder / n) and not _ours(folder / n, record.get(n))])
    created = not folder.exists()
    staging = folder / f"{STAGING_PREFIX}{secrets.token_hex(6)}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(folder)
        staging.mkdir()
    except OSError as exc:
        raise OutputError(f"De map {folder} kan niet worden gebruikt: {os_reason(exc)}.") from None
    exported, digests = [], {}
    try:
        conn = dossier.connect()
        try:
            conn.execute("BEGIN")
            for table in TABLES:
                header = columns(conn, table)
                rows = [tuple(_field(v) for v in row) for row in conn.execute(f"SELECT * FROM {table} ORDER BY rowid")]
                write_csv(staging / f"{table}.csv", header, rows)
                digests[f"{table}.csv"] = _sha256(staging / f"{table}.csv")
                exported.append(ExportedTable(table, folder / f"{table}.csv", len(rows)))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise DossierError(dutch_reason(exc, dossier.path)) from exc
        finally:
            conn.close()
        _move_in(folder, staging, names, record, digests)
    except BaseException:
        _remove(staging)
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # made by this export and still empty: leave nothing behind
        raise
    _remove(staging)
    return exported


def _move_in(folder: Path, staging: Path, names: list[str], record: dict[str, str], digests: dict[str, str]) -> None:
    """Move the staged tables into ``folder`` at once: a stop (Ctrl-C, SIGTERM) meanwhile
    waits until they are all in place; a failure puts the earlier export back."""
    from kvcompliance.stops import LateStops

    backup = staging / "oud"
    held = LateStops()
    held.hold()
    moved: list[str] = []
    try:
        # Noted first, so that an export killed halfway (power cut) still knows them as its own.
        _write_record(folder, {**record, **{n: "" for n in names}})
        backup.mkdir()
        for name in names:
            if os.path.lexists(folder / name):  # the earlier table, to put back on a failure
                try:
                    os.link(folder / name, backup / name)
                except OSError:  # a file system without hard links
                    shutil.copy2(folder / name, backup / name)
            os.replace(staging / name, folder / name)
            moved.append(name)
        _write_record(folder, {**record, **digests})
    except OSError as exc:
        for name in reversed(moved):
            with contextlib.suppress(OSError):
                if os.path.lexists(backup / name):
                    os.replace(backup / name, folder / name)
                elif record.get(name) is None:  # there was none
                    os.unlink(folder / name)
        raise OutputError(f"De CSV-bestanden konden niet in {folder} worden gezet: {os_reason(exc)}. "
                          "De vorige export staat er nog.") from None
    finally:
        held.release()  # all in place (or put back): a stop that came meanwhile changes nothing now


def _remove_leftovers(folder: Path) -> None:
    """Staging folders of exports that were killed before they could clean up."""
    for entry in os.listdir(folder):
        if entry.startswith(STAGING_PREFIX):
            _remove(folder / entry)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


def _refuse_foreign(folder: Path, foreign: list[str]) -> None:
    if not foreign:
        return
    one = len(foreign) == 1
    names = listing(foreign)
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

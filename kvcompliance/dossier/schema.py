"""The dossier file: opening it, recognising it, and bringing its schema up to date.

The dossier is one SQLite file (standard library ``sqlite3``). ``PRAGMA application_id``
marks it as a kvcompliance dossier, ``PRAGMA user_version`` holds its schema version:
the number of :data:`MIGRATIONS` applied. Opening an older dossier applies the missing
migrations in one transaction, after a copy of the file is made next to it. A file that
is no SQLite database, another program's database, a dossier of a newer kvcompliance or a
damaged one is refused with a Dutch message before anything else happens.

The tables and columns are documented for analysts in ``docs/DOSSIER.md``; a test keeps
that document and :data:`MIGRATIONS` in step.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from kvcompliance.errors import DossierError

#: 'KVDS' in the file header: this SQLite file is a kvcompliance dossier.
APPLICATION_ID = 0x4B564453
#: Seconds to wait for another program that is writing the dossier.
BUSY_TIMEOUT = 15

#: The schema, as the ordered list of changes that build it. Never edit a migration that
#: has been released: add a new one. Each is a tuple of single SQL statements.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE controles (
            id INTEGER PRIMARY KEY,
            uitgevoerd_op TEXT NOT NULL,
            opgeslagen_op TEXT NOT NULL,
            controlejaar INTEGER NOT NULL,
            herkomst_controlejaar TEXT NOT NULL DEFAULT '',
            versie TEXT NOT NULL,
            regelbestand TEXT NOT NULL DEFAULT '',
            regels TEXT NOT NULL,
            escalatieladder TEXT NOT NULL,
            afzender TEXT NOT NULL DEFAULT '',
            map TEXT NOT NULL DEFAULT '',
            opgaven INTEGER NOT NULL DEFAULT 0,
            niet_verwerkt INTEGER NOT NULL DEFAULT 0,
            vervangen INTEGER NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE opgaven (
            id INTEGER PRIMARY KEY,
            controle_id INTEGER NOT NULL REFERENCES controles(id),
            controlejaar INTEGER NOT NULL,
            kvk_nummer TEXT NOT NULL DEFAULT '',
            contractnummer TEXT NOT NULL DEFAULT '',
            contract_sleutel TEXT NOT NULL DEFAULT '',
            aanbieder TEXT NOT NULL DEFAULT '',
            sector TEXT,
            meldcodeplicht TEXT,
            relatie TEXT,
            verslagjaar INTEGER,
            bestand TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            eindoordeel TEXT NOT NULL,
            inhoud TEXT NOT NULL,
            aanlevering TEXT NOT NULL
        )""",
        "CREATE INDEX opgaven_aanbieder ON opgaven (kvk_nummer, contract_sleutel, controlejaar)",
        "CREATE INDEX opgaven_controle ON opgaven (controle_id)",
        """CREATE TABLE waarden (
            opgave_id INTEGER NOT NULL REFERENCES opgaven(id) ON DELETE CASCADE,
            veld TEXT NOT NULL,
            waarde,
            getypt TEXT,
            niet_begrepen TEXT,
            PRIMARY KEY (opgave_id, veld)
        )""",
        """CREATE TABLE bevindingen (
            opgave_id INTEGER NOT NULL REFERENCES opgaven(id) ON DELETE CASCADE,
            regel TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('rood', 'oranje', 'grijs', 'groen', 'nvt')),
            waarde TEXT NOT NULL DEFAULT '',
            norm TEXT NOT NULL DEFAULT '',
            toelichting TEXT NOT NULL DEFAULT '',
            grondslag TEXT NOT NULL DEFAULT '',
            herkomst TEXT NOT NULL DEFAULT '',
            ontbrekend TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (opgave_id, regel)
        )""",
        """CREATE TABLE kengetallen (
            opgave_id INTEGER NOT NULL REFERENCES opgaven(id) ON DELETE CASCADE,
            kengetal TEXT NOT NULL,
            waarde REAL,
            PRIMARY KEY (opgave_id, kengetal)
        )""",
        """CREATE TABLE escalaties (
            opgave_id INTEGER NOT NULL REFERENCES opgaven(id) ON DELETE CASCADE,
            regel TEXT NOT NULL,
            trede INTEGER NOT NULL,
            naam TEXT NOT NULL,
            reden TEXT NOT NULL,
            PRIMARY KEY (opgave_id, regel)
        )""",
        """CREATE TABLE afspraken (
            id INTEGER PRIMARY KEY,
            kvk_nummer TEXT NOT NULL,
            contractnummer TEXT NOT NULL DEFAULT '',
            contract_sleutel TEXT NOT NULL DEFAULT '',
            controlejaar INTEGER NOT NULL,
            aanbieder TEXT NOT NULL DEFAULT '',
            sleutel TEXT NOT NULL,
            regel TEXT,
            veld TEXT,
            onderwerp TEXT NOT NULL DEFAULT '',
            afspraak TEXT NOT NULL,
            wie TEXT NOT NULL DEFAULT '',
            termijn TEXT NOT NULL DEFAULT '',
            afgesproken_op TEXT,
            werkboek TEXT NOT NULL,
            werkboek_sha256 TEXT NOT NULL,
            ingelezen_op TEXT NOT NULL
        )""",
        "CREATE INDEX afspraken_aanbieder ON afspraken (kvk_nummer, contract_sleutel, controlejaar)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
#: The tables, in the order an export writes them.
TABLES = ("controles", "opgaven", "waarden", "bevindingen", "kengetallen", "escalaties", "afspraken")


@dataclass(frozen=True)
class Dossier:
    """A checked dossier file, ready to be read and written."""

    path: Path
    created: bool = False  # made by this run
    migrated_from: int | None = None  # the schema version before this run brought it up to date
    backup: Path | None = None  # the copy made before migrating
    new_file: bool = False  # the file did not exist before this run

    @property
    def name(self) -> str:
        return self.path.name

    def connect(self) -> sqlite3.Connection:
        """A connection in autocommit mode (transactions are explicit), foreign keys on."""
        return connect(self.path)


def connect(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT)
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as exc:
        raise DossierError(dutch_reason(exc, path)) from exc
    return conn


def dutch_reason(exc: BaseException, path: Path) -> str:
    """A Dutch sentence for what went wrong with the dossier ``path``. SQLite's own words
    are English and technical: they are never part of it; raise the :class:`DossierError`
    ``from`` the SQLite error, so that ``--debug`` shows them to the beheerder."""
    text = str(exc).lower()
    name = Path(path).name
    if "locked" in text or "busy" in text:
        return (f"Het dossier {name} is in gebruik door een ander programma of een andere controle. "
                "Wacht tot dat klaar is en probeer het opnieuw.")
    if "not a database" in text or "file is encrypted" in text:
        return f"{name} is geen dossier van kvcompliance (het is geen SQLite-database). Kies het juiste bestand of een nieuwe naam."
    if "malformed" in text or "corrupt" in text:
        return f"Het dossier {name} is beschadigd. Zet een reservekopie terug; kvcompliance schrijft er niet in."
    if "readonly" in text or "read-only" in text:
        return f"Het dossier {name} kan niet worden beschreven (alleen-lezen)."
    if "disk is full" in text or "disk i/o" in text:
        return f"Het dossier {name} kan niet worden geschreven: de schijf is vol of gaf een fout."
    if "unable to open" in text:
        return f"Het dossier {name} kan niet worden geopend (bestaat de map {Path(path).parent}, en mag u daar schrijven?)."
    return (f"Het dossier {name} kan niet worden gebruikt: SQLite gaf een onverwachte fout. Gebeurt dat opnieuw, start "
            "kvcompliance dan nog eens met --debug en stuur wat er verschijnt naar de beheerder.")


def open_dossier(path: Path | str, *, create: bool = True, write: bool = True) -> Dossier:
    """Check the dossier at ``path`` and bring its schema up to date.

    A missing file is made (with ``create``), with the whole schema. With ``write`` it is
    checked now, before any return is read, that this run will be able to store in it.
    Raises :class:`DossierError` with a Dutch message for anything that is not a usable
    dossier.
    """
    path = Path(path)
    if path.is_dir():
        raise DossierError(f"{path} is een map; geef een bestandsnaam voor het dossier, bijvoorbeeld {path / 'dossier.sqlite'}.")
    exists = path.exists()
    if exists and not path.is_file():  # a pipe or a device: SQLite would hang or fail obscurely
        raise DossierError(f"{path} is geen gewoon bestand (maar bijvoorbeeld een pipe of een apparaat); geef een bestandsnaam"
                           " voor het dossier, bijvoorbeeld dossier.sqlite.")
    if not exists:
        if not create:
            raise DossierError(f"Het dossier {path} bestaat niet. Maak het met kvcompliance audit ... --dossier {path}.")
        if not path.parent.is_dir():
            raise DossierError(f"De map {path.parent} bestaat niet; het dossier {path.name} kan daar niet worden gemaakt.")
    conn = connect(path)
    try:
        version = _version(conn, path)
        backup = None
        if version < SCHEMA_VERSION:
            if version > 0:
                backup = _backup(conn, path, version)
            migrate(conn, path)
        if write:
            _can_write(conn, path)
    except sqlite3.Error as exc:
        raise DossierError(dutch_reason(exc, path)) from exc
    finally:
        conn.close()
    return Dossier(path, created=not exists or version == 0, migrated_from=version if 0 < version < SCHEMA_VERSION else None,
                   backup=backup, new_file=not exists)


@contextlib.contextmanager
def discarded_unless_used(dossier: Dossier | None) -> Iterator[None]:
    """Around a run that stores in ``dossier``: when the run ends early (a refused output
    folder, an error, Ctrl+C, a stop from the browser), a dossier file that this run made
    and nothing was stored in is removed again, so the officer finds no empty dossier
    nobody asked for. An existing dossier is never touched."""
    try:
        yield
    except BaseException:
        if dossier is not None and dossier.new_file:
            with contextlib.suppress(OSError, sqlite3.Error, DossierError):
                if _is_empty(dossier.path):
                    dossier.path.unlink()
        raise


def _is_empty(path: Path) -> bool:
    """Whether no table of the dossier at ``path`` holds a row."""
    conn = connect(path)
    try:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return not any(conn.execute(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone() for name in tables)
    finally:
        conn.close()


def _version(conn: sqlite3.Connection, path: Path) -> int:
    """The schema version of the open file (0: an empty file), after checking what it is."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if app_id != APPLICATION_ID:
        if version == 0 and tables == 0:
            return 0
        raise DossierError(
            f"{path.name} is een database, maar geen dossier van kvcompliance. Kies het juiste bestand,"
            " of een nieuwe naam: dan wordt een nieuw dossier gemaakt."
        )
    if version > SCHEMA_VERSION:
        raise DossierError(
            f"Het dossier {path.name} is gemaakt met een nieuwere versie van kvcompliance (dossierversie {version};"
            f" deze versie kent tot en met {SCHEMA_VERSION}). Werk kvcompliance bij."
        )
    problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
    if problems != ["ok"]:
        raise DossierError(f"Het dossier {path.name} is beschadigd. Zet een reservekopie terug; kvcompliance schrijft er niet in.")
    return version


def _can_write(conn: sqlite3.Connection, path: Path) -> None:
    """Take and release the write lock: the file and its folder (where SQLite keeps its
    journal) are writable, and no other program holds the dossier."""
    if not os.access(path.parent, os.W_OK):
        raise DossierError(f"In de map {path.parent} mag u niet schrijven; het dossier {path.name} kan daar niet worden bijgewerkt.")
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("ROLLBACK")


def _backup(conn: sqlite3.Connection, path: Path, version: int) -> Path:
    """A copy of the dossier as it is, before it is migrated: ``<naam>.dossierversie-<n>``."""
    target = path.with_name(f"{path.name}.dossierversie-{version}")
    copy = sqlite3.connect(str(target))
    try:
        conn.backup(copy)
    finally:
        copy.close()
    return target


def migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Apply the missing migrations in one transaction (another process may do it first)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for statements in MIGRATIONS[version:]:
            for statement in statements:
                conn.execute(statement)
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def columns(conn: sqlite3.Connection, table: str) -> list[str]:
    """The column names of ``table`` (one of :data:`TABLES`), in order."""
    if table not in TABLES:
        raise KeyError(table)
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]

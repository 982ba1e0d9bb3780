"""Reading back what was agreed: the Afspraak, Wie and Termijn cells the officer filled in
the provider workbooks after the accountgesprekken (``kvcompliance afspraken``).

A workbook names itself through its custom document properties (``kv_kvk``,
``kv_contractnummer``, ``kv_controlejaar``); the workbook-level name ``kv_agenda`` gives
the agenda table, header row first, whose last column holds each row's key ('KV07',
'veld:<key>' or 'overig'). The columns are found by their headers, so rows the officer
inserted in the agenda and a changed layout around it are read as well. A workbook that
cannot be read is reported with a Dutch reason, never a crash; the others are stored.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kvcompliance.catalogue import Catalogue
from kvcompliance.dossier.schema import Dossier, dutch_reason
from kvcompliance.errors import DossierError, KvError
from kvcompliance.outputs import OVERVIEW_FILE, is_internal_name
from kvcompliance.report.conversation import AGENDA_NAME, AGREEMENT_COLUMNS, OTHER_KEY
from kvcompliance.text import quoted

#: A provider workbook is some 100 kB; anything this big is something else.
MAX_SIZE = 20 * 1024 * 1024
#: Characters kept of one agreement cell.
MAX_TEXT = 2000
KEY_HEADER = "sleutel"
TOPIC_HEADER = "Onderwerp"
TITLE_PREFIX = "Accountgesprek kindermishandeling — "
PROPERTIES = ("kv_kvk", "kv_contractnummer", "kv_controlejaar")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
#: Formats a workbook can be saved to but that afspraken cannot read back.
OTHER_SPREADSHEETS = (".ods", ".xls", ".xlsb")


class NotAgreements(KvError):
    """This file is no provider workbook at all (skipped, not an error)."""


@dataclass(frozen=True)
class Agreement:
    row: int  # the row in the workbook, as Excel numbers it
    key: str  # 'KV07', 'veld:fte' or 'overig'
    rule_id: str
    field: str
    topic: str
    agreement: str
    who: str
    deadline: str  # ISO date when a date was typed, else the text


@dataclass(frozen=True)
class AgreementWorkbook:
    path: Path
    kvk: str
    contract: str
    year: int
    provider: str
    saved_on: date | None  # the workbook's last save: when the agreements were written down
    sha256: str
    agreements: tuple[Agreement, ...]
    notes: tuple[str, ...] = ()  # Dutch remarks about single rows

    @property
    def key(self) -> tuple[str, str, int]:
        from kvcompliance.register import contract_key  # not at the top: it imports pandas

        return (self.kvk, contract_key(self.contract), self.year)


@dataclass
class FolderAgreements:
    """Every workbook in a folder: read, skipped (not a provider workbook) or unreadable."""

    read: list[AgreementWorkbook] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    unreadable: list[tuple[Path, str]] = field(default_factory=list)


def read_folder(folder: Path, catalogue: Catalogue) -> FolderAgreements:
    """Read every .xlsx/.xlsm under ``folder`` (or the one file ``folder``).

    Of two workbooks for the same provider, contract and year, one with agreements wins
    over one without (the workbook as the audit wrote it, next to the copy the officer
    typed in), else the one saved last. A workbook saved in another spreadsheet format
    (.ods, .xls, .xlsb) cannot be read back and is named, never passed over in silence.
    Hidden files and folders are not searched, above all the tool's own work folders: a
    killed audit's staging and backup folders hold workbooks that never counted.
    """
    folder = Path(folder)
    candidates = [folder] if folder.is_file() else sorted(
        p for p in folder.rglob("*") if p.suffix.lower() in (*WORKBOOK_SUFFIXES, *OTHER_SPREADSHEETS) and p.is_file()
        and not p.name.startswith("~$") and p.name != OVERVIEW_FILE and not _hidden(p.relative_to(folder))
    )
    found = FolderAgreements()
    newest: dict[tuple[str, str, int], AgreementWorkbook] = {}
    for path in candidates:
        if path.suffix.lower() in OTHER_SPREADSHEETS:
            found.skipped.append((path, f"geen Excel-werkboek ({path.suffix.lower()}): staan hierin afspraken, open het dan, sla"
                                        " het op als Excel-werkboek (.xlsx) en lees het opnieuw in"))
            continue
        try:
            book = read_workbook(path, catalogue)
        except NotAgreements as exc:
            found.skipped.append((path, str(exc)))
            continue
        except KvError as exc:
            found.unreadable.append((path, str(exc)))
            continue
        other = newest.get(book.key)
        if other is not None:
            older, book = sorted((other, book), key=_recency)
            if older.agreements or not book.agreements:
                reason = f"een ouder werkboek voor dezelfde aanbieder en hetzelfde jaar als {book.path.name}"
            else:
                reason = f"geen afspraken ingevuld; die van dezelfde aanbieder en hetzelfde jaar komen uit {book.path.name}"
            found.skipped.append((older.path, reason))
        newest[book.key] = book
    found.read = list(newest.values())
    return found


def _hidden(rel: Path) -> bool:
    """Whether a file is, or is in, something hidden: the tool's own work folders above all
    (the staging folder of a killed audit holds workbooks that never counted), and hidden
    folders and files, as the inbox skips them."""
    return any(is_internal_name(part) or part.startswith(".") for part in rel.parts)


def _recency(book: AgreementWorkbook) -> tuple:
    """Sort key: agreements first, then the day it was saved, then the file's own time."""
    try:
        mtime = book.path.stat().st_mtime
    except OSError:
        mtime = 0.0
    return (bool(book.agreements), book.saved_on or date.min, mtime, str(book.path))


def read_workbook(path: Path, catalogue: Catalogue) -> AgreementWorkbook:
    """The agreements in one provider workbook; :class:`KvError` with the Dutch reason if not."""
    import openpyxl

    path = Path(path)
    try:
        data = path.read_bytes() if path.stat().st_size <= MAX_SIZE else None
    except OSError as exc:
        from kvcompliance.errors import os_reason

        raise KvError(f"kan niet worden gelezen: {os_reason(exc)}") from None
    if data is None:
        raise KvError(f"is te groot voor een werkboek voor het accountgesprek (meer dan {MAX_SIZE // 1024 // 1024} MB)")
    _refuse_zip_bomb(path)
    try:
        book = openpyxl.load_workbook(path, data_only=True, read_only=True)
    except Exception as exc:  # noqa: BLE001 - whatever a broken file raises, it is a Dutch reason
        raise KvError(f"is geen leesbaar Excel-werkboek (beschadigd, of beveiligd met een wachtwoord?) ({exc.__class__.__name__})") from None
    try:
        return _agreements(book, path, data, catalogue)
    except KvError:
        raise
    except Exception as exc:  # noqa: BLE001 - an agenda changed in a way nobody foresaw
        raise KvError(f"de gespreksagenda is zo veranderd dat ze niet meer te lezen is ({exc.__class__.__name__})") from None
    finally:
        book.close()


def _refuse_zip_bomb(path: Path) -> None:
    """Refuse a workbook that would unpack far beyond any provider workbook, before openpyxl
    unpacks it (a 1 MB file can hold gigabytes of shared strings: minutes and gigabytes of
    memory, in the web server's own process). The reader's container guards decide."""
    from kvcompliance.errors import UnreadableFile
    from kvcompliance.ingest.containers import open_zip

    try:
        open_zip(path).close()
    except UnreadableFile as exc:
        if exc.kind == "te groot":
            raise KvError("wordt uitgepakt veel groter dan een werkboek voor het accountgesprek ooit is (mogelijk een"
                          " ‘zip-bom’); het is voor de veiligheid niet geopend") from None
        # damaged or protected: openpyxl says so in the reason below


def _agreements(book: Any, path: Path, data: bytes, catalogue: Catalogue) -> AgreementWorkbook:
    from openpyxl.utils import range_boundaries

    props = {p.name: p.value for p in book.custom_doc_props.props}
    if not all(name in props for name in PROPERTIES):
        raise NotAgreements("geen werkboek voor een accountgesprek (de kenmerken van kvcompliance ontbreken)")
    kvk, contract = str(props["kv_kvk"]).strip(), str(props["kv_contractnummer"]).strip()
    try:
        year = int(str(props["kv_controlejaar"]).strip())
    except ValueError:
        raise KvError(f"het kenmerk kv_controlejaar is geen jaartal ({quoted(props['kv_controlejaar'])})") from None
    if not kvk or kvk == "onbekend":
        raise KvError("het werkboek hoort bij een opgave zonder KvK-nummer; de afspraken zijn niet aan een aanbieder te koppelen")
    if contract == "onbekend":
        contract = ""
    name = book.defined_names.get(AGENDA_NAME)
    destinations = list(name.destinations) if name is not None else []
    if len(destinations) != 1 or destinations[0][0] not in book.sheetnames or "#REF" in destinations[0][1]:
        raise KvError(
            f"de gespreksagenda is niet meer te vinden (de naam {AGENDA_NAME} ontbreekt of wijst nergens meer naar;"
            " is het tabblad Samenvatting verwijderd of de agenda gewist?)"
        )
    sheet_name, ref = destinations[0]
    first_col, first_row, last_col, last_row = range_boundaries(ref.replace("$", ""))
    if last_row <= first_row:
        raise KvError("de gespreksagenda is te klein geworden: er staan geen rijen meer onder de kopjes")
    rows = list(book[sheet_name].iter_rows(min_row=first_row, max_row=last_row, min_col=first_col, max_col=last_col))
    header = [_text(cell.value) for cell in rows[0]]
    wanted = (TOPIC_HEADER, *AGREEMENT_COLUMNS)
    at = {name: header.index(name) for name in wanted if name in header}
    if len(at) != len(wanted) or header[-1] != KEY_HEADER:
        raise KvError(
            f"de kopjes van de gespreksagenda zijn gewijzigd (in rij {first_row} horen {', '.join(wanted)} en als laatste"
            f" kolom {KEY_HEADER} te staan)"
        )
    rule_ids = {rule.id for rule in catalogue.rules}
    agreements, notes = [], []
    for number, cells in enumerate(rows[1:], start=first_row + 1):
        agreement, who = _text(cells[at["Afspraak"]].value), _text(cells[at["Wie"]].value)
        deadline = _deadline(cells[at["Termijn"]].value)
        if not agreement:
            if who or deadline:
                notes.append(f"rij {number}: Wie of Termijn ingevuld zonder afspraak; niet opgeslagen")
            continue
        key = _text(cells[-1].value)
        rule_id = key if key in rule_ids else ""
        field_key = key[5:] if key.startswith("veld:") and catalogue.has_field(key[5:]) else ""
        if not rule_id and not field_key and key != OTHER_KEY:
            notes.append(f"rij {number}: {'geen sleutel' if not key else f'onbekende sleutel {quoted(key)}'}; opgeslagen als overige afspraak")
            key = OTHER_KEY
        topic = _text(cells[at[TOPIC_HEADER]].value) or "Overige afspraak"
        agreements.append(Agreement(number, key, rule_id, field_key, topic, agreement, who, deadline))
    modified = book.properties.modified
    saved_on = modified.date() if isinstance(modified, datetime) else datetime.fromtimestamp(path.stat().st_mtime).date()
    title = book.properties.title or ""
    provider = title[len(TITLE_PREFIX):] if title.startswith(TITLE_PREFIX) else ""
    return AgreementWorkbook(path, kvk, contract, year, provider, saved_on, hashlib.sha256(data).hexdigest(), tuple(agreements),
                             tuple(notes))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        from kvcompliance.settings import date_in_words

        return date_in_words(value)
    return " ".join(str(value).split())[:MAX_TEXT]


def _deadline(value: Any) -> str:
    """A date typed in Excel as an ISO date; anything else as text."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return _text(value)


@dataclass(frozen=True)
class StoredAgreements:
    agreements: int
    providers: int
    replaced: int  # agreements imported earlier from workbooks of the same provider and year


def store_agreements(dossier: Dossier, books: list[AgreementWorkbook]) -> StoredAgreements:
    """Store the agreements of ``books`` in one transaction. A workbook read again replaces
    what was imported from it before; a workbook without agreements changes nothing."""
    now = datetime.now().replace(microsecond=0).isoformat(sep=" ")
    conn = dossier.connect()
    stored = replaced = 0
    try:
        conn.execute("BEGIN IMMEDIATE")
        for book in books:
            if not book.agreements:
                continue
            kvk, key, year = book.key
            replaced += max(conn.execute(
                "DELETE FROM afspraken WHERE kvk_nummer = ? AND contract_sleutel = ? AND controlejaar = ?", (kvk, key, year)
            ).rowcount, 0)
            conn.executemany(
                "INSERT INTO afspraken (kvk_nummer, contractnummer, contract_sleutel, controlejaar, aanbieder, sleutel, regel, veld,"
                " onderwerp, afspraak, wie, termijn, afgesproken_op, werkboek, werkboek_sha256, ingelezen_op)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (kvk, book.contract, key, year, book.provider, a.key, a.rule_id or None, a.field or None, a.topic, a.agreement,
                     a.who, a.deadline, book.saved_on.isoformat() if book.saved_on else None, book.path.name, book.sha256, now)
                    for a in book.agreements
                ],
            )
            stored += len(book.agreements)
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise DossierError(dutch_reason(exc, dossier.path)) from exc
    finally:
        conn.close()
    return StoredAgreements(stored, sum(1 for b in books if b.agreements), replaced)


def summary(folder: Path, found: FolderAgreements, stored: StoredAgreements, dossier: Path,
            names_only: bool = False) -> tuple[list[str], list[str], list[str]]:
    """Dutch lines for the terminal: (what was done, remarks to check, workbooks not read).
    ``names_only``: files and dossier by their names (for the web page, whose folders are its own)."""
    from kvcompliance.values import plural

    def shown(path: Path) -> Path | str:
        return path.name if names_only else path

    notes = [f"  Let op: {book.path.name}, {note}" for book in found.read for note in book.notes]
    empty = sum(1 for book in found.read if not book.agreements)
    lines = [
        f"{plural(len(found.read), 'werkboek', 'werkboeken')} gelezen: {plural(stored.agreements, 'afspraak', 'afspraken')} van"
        f" {plural(stored.providers, 'aanbieder', 'aanbieders')} bewaard in {shown(dossier)}"
        + (f" ({stored.replaced} eerder bewaarde vervangen)" if stored.replaced else "")
        + (f"; in {plural(empty, 'werkboek', 'werkboeken')} is niets afgesproken" if empty else "")
        + "."
    ]
    lines += [f"  overgeslagen: {shown(path)} — {reason}" for path, reason in found.skipped]
    if not found.read and not found.unreadable:
        notes.append("Let op: geen van de toegevoegde bestanden is een werkboek voor een accountgesprek." if names_only
                     else f"Let op: in {folder} staat geen werkboek voor een accountgesprek.")
    return lines, notes, [f"  niet gelezen: {shown(path)} — {reason}" for path, reason in found.unreadable]

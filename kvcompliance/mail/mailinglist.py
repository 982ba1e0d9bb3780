"""``verzendlijst.csv`` read back: who gets which workbook, as the latest audit decided.

The audit writes it (:func:`kvcompliance.report.logbook.write_mailing_list`); this module
reads it with the same columns, undoing the formula guard of the CSV writer, and checks
that the workbooks it names are there, and that every workbook there is in it.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from kvcompliance.errors import MailError
from kvcompliance.outputs import LOG_FILE, MAILING_FILE, PROVIDER_DIR
from kvcompliance.report.csvout import DELIMITER, unguard_formula
from kvcompliance.report.logbook import MAILING_COLUMNS
from kvcompliance.text import quoted
from kvcompliance.values import plural

#: A mailing list larger than this is not the audit's (10,000 providers take some 5 MB).
MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class MailRow:
    """One row of verzendlijst.csv: a return with its workbook, or a contract without one."""

    line: int  # line number in the CSV (header = 1)
    provider: str
    contact: str
    contract: str
    kvk: str
    address: str
    address_check: str  # the audit's adrescontrole text
    workbook: str  # 'accountgesprek/<name>.xlsx', or '' for a contract without a return
    year: str
    overall: str  # status labels as the catalogue writes them ('' without a return)
    content: str
    delivery: str
    to_complete: tuple[str, ...]  # what is missing or unreadable, one phrase each

    @property
    def has_return(self) -> bool:
        return bool(self.workbook)

    @property
    def workbook_name(self) -> str:
        return self.workbook.rsplit("/", 1)[-1]


def read_mailing_list(out_dir: Path) -> list[MailRow]:
    """The rows of ``out_dir/verzendlijst.csv``; a :class:`MailError` when it is missing,
    unreadable or written by an older version (without the columns verzend needs)."""
    path = Path(out_dir) / MAILING_FILE
    try:
        if path.stat().st_size > MAX_BYTES:
            raise MailError(f"{path} is te groot voor een verzendlijst van kvcompliance.")
        with path.open(encoding="utf-8-sig", newline="") as handle:
            table = list(csv.reader(handle, delimiter=DELIMITER))
    except FileNotFoundError:
        raise MailError(
            f"In {out_dir} staat geen {MAILING_FILE}. Geef de uitvoermap van een controle op "
            f"(kvcompliance audit opgaven -o {out_dir})."
        ) from None
    except (UnicodeDecodeError, csv.Error):
        raise MailError(f"{path} is geen verzendlijst van kvcompliance (niet te lezen). Draai de controle opnieuw.") from None
    except OSError as exc:
        from kvcompliance.report.xlsx import os_reason

        raise MailError(f"{path} kan niet worden gelezen: {os_reason(exc)}.") from None
    if not table or tuple(table[0]) != MAILING_COLUMNS:
        raise MailError(
            f"{path} heeft niet de kolommen die verzend nodig heeft (geschreven door een oudere versie, of met de hand "
            "veranderd). Draai de controle opnieuw."
        )
    rows = []
    for line, cells in enumerate(table[1:], start=2):
        if not any(cells):
            continue
        if len(cells) != len(MAILING_COLUMNS):
            raise MailError(f"{path}, regel {line}: {plural(len(cells), 'kolom', 'kolommen')} in plaats van {len(MAILING_COLUMNS)}."
                            " Draai de controle opnieuw.")
        value = dict(zip(MAILING_COLUMNS, (unguard_formula(c) for c in cells)))
        rows.append(
            MailRow(
                line=line,
                provider=value["aanbieder"],
                contact=value["contactpersoon"],
                contract=value["contractnummer"],
                kvk=value["kvk_nummer"],
                address=value["contact_email"].strip(),
                address_check=value["adrescontrole"],
                workbook=value["werkboek"],
                year=value["controlejaar"],
                overall=value["eindoordeel"],
                content=value["inhoud"],
                delivery=value["aanlevering"],
                to_complete=tuple(p for p in value["aan_te_vullen"].split("\n") if p.strip()),
            )
        )
    return rows


def workbook_problem(out_dir: Path, row: MailRow) -> str:
    """Why the workbook of ``row`` cannot be sent ('' when it can): it must be a plain
    file in ``accountgesprek/``, as the audit wrote it."""
    folder, _, name = row.workbook.rpartition("/")
    if folder != PROVIDER_DIR or not name or name in (".", "..") or "\\" in name:
        return f"het werkboek {quoted(row.workbook)} staat niet in {PROVIDER_DIR}/"
    path = Path(out_dir) / PROVIDER_DIR / name
    if path.is_symlink() or not path.is_file():
        return f"het werkboek {name} staat niet (meer) in {PROVIDER_DIR}/; draai de controle opnieuw"
    return ""


def unlisted_workbooks(out_dir: Path, rows: list[MailRow]) -> list[str]:
    """Workbooks in ``accountgesprek/`` that the latest audit did not write (not in the list)."""
    listed = {row.workbook_name.casefold() for row in rows if row.has_return}
    folder = Path(out_dir) / PROVIDER_DIR
    try:
        names = sorted(p.name for p in folder.iterdir() if p.suffix.lower() == ".xlsx" and not p.name.startswith((".", "~$")))
    except OSError:
        return []
    return [name for name in names if name.casefold() not in listed]


def return_hashes(out_dir: Path) -> dict[str, str]:
    """Workbook ('accountgesprek/<name>.xlsx') -> SHA-256 of the return file it was made
    from, from the audit's ``verwerking.jsonl`` (empty when that cannot be read)."""
    found = {}
    try:
        with (Path(out_dir) / LOG_FILE).open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if isinstance(entry, dict) and isinstance(entry.get("werkboek"), str) and isinstance(entry.get("sha256"), str):
                    found[entry["werkboek"]] = entry["sha256"]
    except OSError:
        return {}
    return found

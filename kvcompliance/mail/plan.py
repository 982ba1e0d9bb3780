"""What goes out, and what does not: one decision per row of the mailing list.

:func:`make_plan` reads ``verzendlijst.csv`` of an output folder and gives, per provider,
either an :class:`Outgoing` e-mail (its letter, its workbook, the name of its draft) or a
:class:`Left` entry with the Dutch reason why nothing goes to it: no address, a malformed
one, one shared with another provider, or a workbook that is not the latest audit's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from email.headerregistry import Address
from pathlib import Path

from kvcompliance.mail.addresses import SHARED, VALID, AddressCheck, Recipient, address_pattern, check_addresses, state_of
from kvcompliance.mail.letters import COMPLETION, COVER, REMINDER, Letter, compose
from kvcompliance.mail.mailinglist import MailRow, read_mailing_list, return_hashes, unlisted_workbooks, workbook_problem
from kvcompliance.outputs import MAILING_FILE, PROVIDER_DIR
from kvcompliance.settings import Settings

#: The two mailings: the workbooks with their cover letter, and the reminders.
WORKBOOKS, REMINDERS = "werkboek", "herinnering"
REMINDER_PREFIX = "herinnering_"
DRAFT_SUFFIX = ".eml"


@dataclass(frozen=True)
class Outgoing:
    """One e-mail to send: to ``row``'s address, ``letter``, and for a cover letter the workbook."""

    row: MailRow
    kind: str  # letters.COVER, letters.REMINDER or letters.COMPLETION
    letter: Letter
    draft_name: str  # its file name in verzending/
    attachment: bytes | None = field(default=None, repr=False)
    sha256: str = ""  # of the attachment ('' without one)
    return_sha256: str = ""  # of the return file the workbook was made from ('' when unknown)

    @property
    def who(self) -> str:
        return self.row.provider or self.row.workbook_name or "onbekende aanbieder"


@dataclass(frozen=True)
class Left:
    """A provider (or workbook) that gets nothing, and why (Dutch)."""

    who: str
    address: str
    reason: str


@dataclass(frozen=True)
class Plan:
    out_dir: Path
    mailing: str  # WORKBOOKS or REMINDERS
    rows: int  # rows read from the mailing list
    outgoing: tuple[Outgoing, ...]
    left: tuple[Left, ...]
    missing: int = 0  # rows for a contract without a return: a reminder mailing writes to them
    incomplete: int = 0  # rows for a return with something to complete (grijs): a reminder mailing asks for it


def make_plan(out_dir: Path, settings: Settings, reminders: bool = False, catalogue=None) -> Plan:
    """The e-mails of one mailing for the output folder ``out_dir`` (see the module docstring)."""
    from kvcompliance.catalogue import Status, load_catalogue

    catalogue = catalogue or load_catalogue()
    out_dir = Path(out_dir)
    rows = read_mailing_list(out_dir)
    sources = return_hashes(out_dir)
    checks = _checks(rows, catalogue)
    grey = catalogue.status_info(Status.GRIJS).label
    taken: set[str] = set()
    outgoing: list[Outgoing] = []
    left: list[Left] = []
    for row, check in zip(rows, checks):
        if reminders:
            if not row.has_return:
                kind = REMINDER
            elif row.to_complete or row.delivery == grey:
                kind = COMPLETION
            else:
                continue
        elif row.has_return:
            kind = COVER
        else:
            continue
        reason = check.reason if not check.ok else ""
        if kind == COVER and not reason:
            reason = workbook_problem(out_dir, row)
        if reason:
            left.append(Left(row.provider or row.workbook_name or "onbekende aanbieder", row.address, reason))
            continue
        name = _draft_name(row, kind, taken)
        taken.add(name.casefold())
        data, digest = None, ""
        if kind == COVER:
            try:
                data = (out_dir / PROVIDER_DIR / row.workbook_name).read_bytes()
            except OSError:
                left.append(Left(row.provider, row.address, f"het werkboek {row.workbook_name} kan niet worden gelezen"))
                continue
            digest = hashlib.sha256(data).hexdigest()
        letter = compose(row, kind, settings, catalogue)
        outgoing.append(Outgoing(row, kind, letter, name, data, digest, sources.get(row.workbook, "") if data else ""))
    if not reminders:
        for name in unlisted_workbooks(out_dir, rows):
            left.append(Left(name, "", f"niet in de laatste controle: dit werkboek staat niet in {MAILING_FILE}"))
    missing = sum(1 for row in rows if not row.has_return)
    incomplete = sum(1 for row in rows if row.has_return and (row.to_complete or row.delivery == grey))
    return Plan(out_dir, REMINDERS if reminders else WORKBOOKS, len(rows), tuple(outgoing), tuple(left), missing, incomplete)


def _checks(rows: list[MailRow], catalogue) -> list[AddressCheck]:
    """The address check of every row: the audit's column and the check made again here
    (on the list as it is now); the stricter wins. An address Python's e-mail package
    cannot put in a header is malformed too."""
    again = check_addresses([Recipient(r.address, r.kvk, r.provider) for r in rows], address_pattern(catalogue))
    checks = []
    for row, check in zip(rows, again):
        audit_state = state_of(row.address_check)
        if check.ok and audit_state != VALID:
            others = (row.address_check.split(" met ", 1)[1],) if audit_state == SHARED and " met " in row.address_check else ()
            check = AddressCheck(audit_state if audit_state else "ongeldig", others)
        if check.ok and not _header_safe(row.address):
            check = AddressCheck("ongeldig")
        checks.append(check)
    return checks


def _header_safe(address: str) -> bool:
    try:
        return Address(addr_spec=address).addr_spec == address
    except (ValueError, IndexError):
        return False


def _draft_name(row: MailRow, kind: str, taken: set[str]) -> str:
    """``<workbook name>.eml``; a reminder ``herinnering_<workbook or jaar_naam_contract>.eml``."""
    from kvcompliance.report.names import provider_filename

    if row.has_return:
        stem = Path(row.workbook_name).stem
    else:
        stem = Path(provider_filename(row.year or None, row.provider or None, row.contract or None, set())).stem
    stem = (REMINDER_PREFIX if kind != COVER else "") + stem
    name, number = f"{stem}{DRAFT_SUFFIX}", 1
    while name.casefold() in taken:
        number += 1
        name = f"{stem}_{number}{DRAFT_SUFFIX}"
    return name

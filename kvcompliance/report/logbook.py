"""The processing log and the mailing list: what was received, what was done, who gets what.

``verwerking.jsonl`` has one JSON object per input file (path, size, SHA-256, outcome,
reason, the return it became and its workbook), so an officer can show exactly what
was received and what was done with it. ``verzendlijst.csv`` lists per return who gets
which workbook (and, with the contract register, every contract without a return): the
source of ``kvcompliance verzend`` and usable for a mail merge.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from kvcompliance.model import AuditResult
from kvcompliance.report.csvout import write_csv
from kvcompliance.report.xlsx import atomic_path

AUDITED = "gecontroleerd"
NOT_PROCESSED = "niet verwerkt"
REPLACED = "vervangen"
SKIPPED = "overgeslagen"
#: Kinds of a file that was not audited because another return for the same contract was.
REPLACED_KINDS = ("vervangen", "dubbel", "ander jaar")

#: The columns of verzendlijst.csv (``kvcompliance.mail.mailinglist`` reads them back).
MAILING_COLUMNS = (
    "aanbieder", "contactpersoon", "contractnummer", "kvk_nummer", "contact_email", "adrescontrole", "werkboek",
    "controlejaar", "eindoordeel", "inhoud", "aanlevering", "aan_te_vullen",
)
#: ``aan_te_vullen`` of a contract without a return.
NO_RETURN = "er is geen opgave ontvangen"


def _column(result: AuditResult, key: str) -> dict[str, object]:
    """Return id -> value of one frame column as a plain value."""
    from kvcompliance.normalise import plain

    frame = result.frame
    return {rid: plain(value) for rid, value in zip(frame.index, frame[key].tolist())}


def log_entries(result: AuditResult, files: dict[str, str], provider_dir: str) -> list[dict]:
    """One entry per input file, sorted by path."""
    entries = []
    names = _column(result, "aanbieder_naam")
    for record in result.returns:
        source = record.source
        entries.append(
            {
                "bestand": source.path,
                "grootte_bytes": source.size,
                "gewijzigd": datetime.fromtimestamp(source.modified).isoformat(timespec="seconds"),
                "sha256": source.sha256,
                "uitkomst": AUDITED,
                "reden": "; ".join(record.notes) or None,
                "opgave": record.return_id,
                "aanbieder": names[record.return_id],
                "eindoordeel": result.catalogue.status_info(result.overall[record.return_id]).label,
                "werkboek": f"{provider_dir}/{files[record.return_id]}",
            }
        )
    skipped = {id(entry) for entry in result.skipped}
    for rejected in (*result.rejected, *result.skipped):
        source = rejected.source
        outcome = SKIPPED if id(rejected) in skipped else REPLACED if rejected.kind in REPLACED_KINDS else NOT_PROCESSED
        entries.append(
            {
                "bestand": source.path,
                "grootte_bytes": source.size,
                "gewijzigd": datetime.fromtimestamp(source.modified).isoformat(timespec="seconds") if source.modified else None,
                "sha256": source.sha256 or None,
                "uitkomst": outcome,
                "soort": rejected.kind,
                "reden": rejected.reason,
                "opgave": None,
                "werkboek": None,
            }
        )
    return sorted(entries, key=lambda e: e["bestand"])


def write_processing_log(result: AuditResult, path: Path, files: dict[str, str], provider_dir: str) -> None:
    with atomic_path(path) as tmp:
        with tmp.open("w", encoding="utf-8", newline="\n") as handle:
            for entry in log_entries(result, files, provider_dir):
                handle.write(json.dumps(entry, ensure_ascii=False) + "\n")


def write_mailing_list(result: AuditResult, path: Path, files: dict[str, str], provider_dir: str) -> None:
    """``verzendlijst.csv``: per return the provider, its contact and address (the
    register's first, then the form's), the address check, its workbook and verdicts, and
    what is missing or could not be read (:func:`to_complete`); with the contract register
    also one row per contract without a return (no workbook)."""
    from kvcompliance.mail.addresses import Recipient, address_pattern, check_addresses

    catalogue = result.catalogue
    label = lambda status: catalogue.status_info(status).label  # noqa: E731
    year = str(result.audit_year)
    rows, recipients = [], []
    for record in result.returns:
        rid = record.return_id
        who, verdict = result.identities[rid], result.verdicts[rid]
        rows.append([who.name, who.contact_name, who.contract, who.kvk, who.contact_email, "", f"{provider_dir}/{files[rid]}",
                     year, label(verdict.overall), label(verdict.content), label(verdict.delivery),
                     "\n".join(to_complete(result, rid))])
        recipients.append(Recipient(who.contact_email, who.kvk, who.name))
    for contract in result.register.missing if result.register is not None else ():
        rows.append([contract.aanbieder_naam, "", contract.contractnummer, contract.kvk_nummer, contract.contact_email, "", "",
                     year, "", "", "", NO_RETURN])
        recipients.append(Recipient(contract.contact_email, contract.kvk_nummer, contract.aanbieder_naam))
    for row, check in zip(rows, check_addresses(recipients, address_pattern(catalogue))):
        row[MAILING_COLUMNS.index("adrescontrole")] = check.text
    write_csv(path, MAILING_COLUMNS, [[str(cell or "") for cell in row] for row in rows])


def to_complete(result: AuditResult, return_id: str) -> list[str]:
    """What a provider must add or correct before its return can be fully judged, one Dutch
    phrase per field or finding: every grijs finding, of the Aanlevering (a required field)
    and of the Inhoud (an optional field a rule needs, a date that cannot be right); empty
    when nothing is. The call list, the reminders and the audit's summary all use this."""
    from kvcompliance.catalogue import Status
    from kvcompliance.wording import missing_phrase

    catalogue = result.catalogue
    issues = {issue.field: issue for issue in result.issues_for(return_id)}
    items: list[str] = []
    for finding in result.findings_for(return_id):
        if finding.status != Status.GRIJS:
            continue
        phrases = [missing_phrase(catalogue, key, issues.get(key)) for key in finding.missing] or [finding.message]
        items += [p for p in phrases if p not in items]
    return items

"""The processing log and the mailing list: what was received, what was done, who gets what.

``verwerking.jsonl`` has one JSON object per input file (path, size, SHA-256, outcome,
reason, the return it became and its workbook), so an officer can show exactly what
was received and what was done with it. ``verzendlijst.csv`` lists per return the
provider, its e-mail address, its workbook and its overall status, for a mail merge.
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
REPLACED_KINDS = ("vervangen", "dubbel")

MAILING_COLUMNS = ("aanbieder", "contact_email", "bestand", "eindoordeel")


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
    """``verzendlijst.csv``: per return the provider, its e-mail, its workbook and status.

    The e-mail address comes from the return; when it is empty and the contract register
    has one for the contract, the register's address is used.
    """
    register = result.register
    names, emails = _column(result, "aanbieder_naam"), _column(result, "contact_email")
    rows = []
    for record in result.returns:
        rid = record.return_id
        email = emails[rid]
        if not email and register is not None and rid in register.matched:
            email = register.matched[rid].contact_email
        status = result.catalogue.status_info(result.overall[rid]).label
        rows.append((str(names[rid] or ""), str(email or ""), f"{provider_dir}/{files[rid]}", status))
    write_csv(path, MAILING_COLUMNS, rows)

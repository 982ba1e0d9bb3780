"""Stand-ins for the features other issues add (e-mail drafts, the dossier), to test how
the web app plugs them in (see kvcompliance/web/extras.py). Real files: each draft is an
RFC 5322 message made with Python's email package, the dossier a real SQLite file."""

from __future__ import annotations

import sqlite3
from email.message import EmailMessage
from pathlib import Path


class Drafts:
    def __init__(self, skipped):
        self.skipped = skipped


def write_drafts(out_dir: Path, settings) -> Drafts:
    folder = Path(out_dir) / "verzending"
    folder.mkdir(exist_ok=True)
    for workbook in sorted((Path(out_dir) / "accountgesprek").glob("*.xlsx")):
        message = EmailMessage()
        message["Subject"] = f"Uw werkboek {workbook.stem}"
        message["From"] = settings.letterhead().email or "inkoop@gemeente.example"
        message["To"] = "aanbieder@example.org"
        message["X-Unsent"] = "1"
        message.set_content("Beste aanbieder,\n\nIn de bijlage vindt u uw werkboek.\n")
        message.add_attachment(workbook.read_bytes(), maintype="application", subtype="octet-stream", filename=workbook.name)
        (folder / f"{workbook.stem}.eml").write_bytes(bytes(message))
    return Drafts([("Onbekende aanbieder", "geen e-mailadres")])


def record_audit(path: Path, result, reports) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE IF NOT EXISTS controle (jaar INTEGER, opgaven INTEGER, werkboeken INTEGER)")
        db.execute("INSERT INTO controle VALUES (?, ?, ?)", (result.audit_year, len(result.returns), len(reports.provider_files)))

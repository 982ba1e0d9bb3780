"""Storing one audit in the dossier: everything in ONE transaction, or nothing.

Called after the reports are written. The run (date, audit year, tool version, the rules
applied with their norms and herkomst, the escalation ladder, the sender), every return
(identity, source file and its SHA-256, verdicts), its values (typed and as typed), its
findings, its key figures and the escalation steps shown to the officer go in between one
``BEGIN IMMEDIATE`` and one ``COMMIT``: a process that is killed or fails halfway leaves
the dossier exactly as it was (SQLite's rollback journal undoes the rest when the file is
next opened).

A return audited again for the same audit year (same KvK-nummer and contractnummer, or
without a KvK-nummer the same file) replaces its earlier record for that year; the earlier
run stays in ``controles`` with the number of its returns that were replaced.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import kvcompliance
from kvcompliance.dossier.schema import SCHEMA_VERSION, Dossier, dutch_reason
from kvcompliance.errors import DossierError
from kvcompliance.register import contract_key

if TYPE_CHECKING:  # pragma: no cover
    from kvcompliance.audit import Progress
    from kvcompliance.catalogue import Catalogue
    from kvcompliance.model import AuditResult


@dataclass(frozen=True)
class StoredRun:
    """What one audit added to the dossier."""

    path: Path
    run_id: int
    year: int
    returns: int
    replaced: int  # records of the same year from earlier runs that these returns replaced

    def summary(self, context: Any) -> list[str]:
        """Dutch lines for the terminal: what was stored, and the escalation steps reached."""
        from collections import Counter

        from kvcompliance.values import plural

        replaced = f"; {plural(self.replaced, 'eerdere opgave', 'eerdere opgaven')} over {self.year} vervangen" if self.replaced else ""
        lines = [f"Dossier:     {self.path} ({plural(self.returns, 'opgave', 'opgaven')} over {self.year} bewaard{replaced};"
                 f" jaren in het dossier: {', '.join(str(y) for y in context.years)})"]
        steps = Counter(o.top.step for o in context.officer.values() if o.top is not None)
        if steps:
            parts = [f"trede {s.step} ({s.name}) {plural(n, 'opgave', 'opgaven')}" for s, n in sorted(steps.items(), key=lambda i: -i[0].step)]
            lines.append(f"Escalatie:   {', '.join(parts)} (zie de bellijst; u beslist)")
        return lines


def rules_applied(catalogue: "Catalogue") -> list[dict[str, Any]]:
    """Every rule of this run with its norm and who set it (the ``regels`` JSON of a run)."""
    from kvcompliance.explain import basis_summary, norm_text, params_text
    from kvcompliance.wording import origin_text

    return [
        {
            "regel": rule.id,
            "titel": rule.title,
            "actief": rule.active,
            "norm": norm_text(catalogue, rule),
            "parameters": params_text(catalogue, rule),
            "herkomst": origin_text(catalogue, rule),
            "vastgesteld": rule.adopted,
            "grondslag": basis_summary(catalogue, rule),
        }
        for rule in catalogue.rules
    ]


def typed_columns(result: "AuditResult") -> dict[str, list[Any]]:
    """Field key -> its typed values in frame order, as SQLite stores them: numbers as
    numbers, ja/nee as 1/0, dates as 'jjjj-mm-dd', empty as None (column by column)."""
    columns = {}
    for field in result.catalogue.fields:
        if field.key not in result.frame.columns:
            continue
        series = result.frame[field.key]
        if field.type == "datum":
            series = series.dt.strftime("%Y-%m-%d")
        columns[field.key] = series.astype(object).where(series.notna(), None).tolist()
    return columns


#: Returns inserted at a time: few calls into SQLite, and progress the officer can follow.
CHUNK = 100

_INSERT = {
    "opgaven": "INSERT INTO opgaven (id, controle_id, controlejaar, kvk_nummer, contractnummer, contract_sleutel, aanbieder, sector,"
               " meldcodeplicht, relatie, verslagjaar, bestand, sha256, eindoordeel, inhoud, aanlevering)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "waarden": "INSERT INTO waarden (opgave_id, veld, waarde, getypt, niet_begrepen) VALUES (?, ?, ?, ?, ?)",
    "bevindingen": "INSERT INTO bevindingen (opgave_id, regel, status, waarde, norm, toelichting, grondslag, herkomst, ontbrekend)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "kengetallen": "INSERT INTO kengetallen (opgave_id, kengetal, waarde) VALUES (?, ?, ?)",
    "escalaties": "INSERT INTO escalaties (opgave_id, regel, trede, naam, reden) VALUES (?, ?, ?, ?, ?)",
}


def store_audit(dossier: Dossier, result: "AuditResult", *, sender: str = "", progress: "Progress | None" = None) -> StoredRun:
    """Store ``result`` in the dossier in one transaction; see the module docstring."""
    from kvcompliance.values import raw_text

    catalogue = result.catalogue
    context = result.dossier
    columns = typed_columns(result)
    position = {rid: n for n, rid in enumerate(result.frame.index)}
    conn = dossier.connect()
    try:
        conn.execute("BEGIN IMMEDIATE")
        if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            raise DossierError(f"Het dossier {dossier.name} is tijdens de controle verwijderd of vervangen; er is niets in opgeslagen.")
        run_id = conn.execute(
            "INSERT INTO controles (uitgevoerd_op, opgeslagen_op, controlejaar, herkomst_controlejaar, versie, regelbestand, regels,"
            " escalatieladder, afzender, map, niet_verwerkt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                result.run_date.isoformat(sep=" "),
                datetime.now().replace(microsecond=0).isoformat(sep=" "),
                result.audit_year,
                result.audit_year_source,
                kvcompliance.__version__,
                Path(catalogue.rules_file).name if catalogue.rules_file else "",
                json.dumps(rules_applied(catalogue), ensure_ascii=False),
                json.dumps([{"trede": s.step, "naam": s.name, "uitleg": s.explanation} for s in catalogue.escalation],
                           ensure_ascii=False),
                sender,
                result.inbox,
                len(result.rejected),
            ),
        ).lastrowid
        next_id = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM opgaven").fetchone()[0]
        if progress is not None:
            progress.stage("Dossier bijwerken", len(result.returns))
        replaced = 0
        for start in range(0, len(result.returns), CHUNK):
            chunk = result.returns[start: start + CHUNK]
            rows: dict[str, list[tuple]] = {table: [] for table in _INSERT}
            by_kvk, by_file = [], []
            for offset, record in enumerate(chunk):
                rid, opgave = record.return_id, next_id + start + offset
                who, verdict = result.identities[rid], result.verdicts[rid]
                key = contract_key(who.contract) if who.contract else ""
                if who.kvk:
                    by_kvk.append((result.audit_year, who.kvk, key, run_id))
                else:
                    by_file.append((result.audit_year, record.source.sha256, run_id))
                rows["opgaven"].append((
                    opgave, run_id, result.audit_year, who.kvk, who.contract, key, who.name, who.sector_key, who.duty, who.relation,
                    who.year if isinstance(who.year, int) else None, record.source.path, record.source.sha256,
                    str(verdict.overall), str(verdict.content), str(verdict.delivery),
                ))
                issues = {issue.field: issue.reason for issue in result.issues_for(rid)}
                pos = position[rid]
                rows["waarden"] += [(opgave, field, values[pos], raw_text(record.values.get(field)) or None, issues.get(field))
                                    for field, values in columns.items()]
                rows["bevindingen"] += [(opgave, f.rule_id, str(f.status), f.value, f.norm, f.message, f.basis, f.origin,
                                         ",".join(f.missing)) for f in result.findings_for(rid)]
                rows["kengetallen"] += [(opgave, figure, value) for figure, value in result.figures.get(rid, {}).items()]
                officer = context.officer.get(rid) if context is not None else None
                if officer is not None:
                    rows["escalaties"] += [(opgave, m.rule_id, m.step.step, m.step.name, m.reason) for m in officer.escalations]
            # An earlier run's record of the same return and year goes, with everything that hangs from it.
            replaced += max(conn.executemany(
                "DELETE FROM opgaven WHERE controlejaar = ? AND kvk_nummer = ? AND contract_sleutel = ? AND controle_id <> ?", by_kvk
            ).rowcount, 0)
            replaced += max(conn.executemany(
                "DELETE FROM opgaven WHERE controlejaar = ? AND kvk_nummer = '' AND sha256 = ? AND controle_id <> ?", by_file
            ).rowcount, 0)
            for table, statement in _INSERT.items():
                conn.executemany(statement, rows[table])
            if progress is not None:
                progress.step(len(chunk))
        conn.execute("UPDATE controles SET opgaven = ?, vervangen = ? WHERE id = ?", (len(result.returns), replaced, run_id))
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        _rollback(conn)
        raise DossierError(dutch_reason(exc, dossier.path)) from exc
    except BaseException:  # also a DossierError or Ctrl+C: nothing of this run stays
        _rollback(conn)
        raise
    finally:
        conn.close()
        if progress is not None:
            progress.done()
    return StoredRun(dossier.path, run_id, result.audit_year, len(result.returns), replaced)


def _rollback(conn: sqlite3.Connection) -> None:
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    except sqlite3.Error:
        pass  # closing the connection rolls back too

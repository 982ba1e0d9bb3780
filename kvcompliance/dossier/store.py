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
from datetime import date, datetime
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


def _cell(value: Any) -> Any:
    """A typed value as SQLite stores it: numbers as numbers, ja/nee as 1/0, dates ISO."""
    from kvcompliance.normalise import plain

    value = plain(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def store_audit(dossier: Dossier, result: "AuditResult", *, sender: str = "", progress: "Progress | None" = None) -> StoredRun:
    """Store ``result`` in the dossier in one transaction; see the module docstring."""
    from kvcompliance.values import raw_text

    catalogue = result.catalogue
    context = result.dossier
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
        if progress is not None:
            progress.stage("Dossier bijwerken", len(result.returns))
        columns = {f.key: result.frame[f.key].tolist() for f in catalogue.fields if f.key in result.frame.columns}
        position = {rid: n for n, rid in enumerate(result.frame.index)}
        replaced = 0
        for record in result.returns:
            rid = record.return_id
            who = result.identities[rid]
            verdict = result.verdicts[rid]
            key = contract_key(who.contract) if who.contract else ""
            if who.kvk:
                gone = conn.execute(
                    "DELETE FROM opgaven WHERE controlejaar = ? AND kvk_nummer = ? AND contract_sleutel = ? AND controle_id <> ?",
                    (result.audit_year, who.kvk, key, run_id),
                )
            else:
                gone = conn.execute(
                    "DELETE FROM opgaven WHERE controlejaar = ? AND kvk_nummer = '' AND sha256 = ? AND controle_id <> ?",
                    (result.audit_year, record.source.sha256, run_id),
                )
            replaced += max(gone.rowcount, 0)
            opgave = conn.execute(
                "INSERT INTO opgaven (controle_id, controlejaar, kvk_nummer, contractnummer, contract_sleutel, aanbieder, sector,"
                " meldcodeplicht, relatie, verslagjaar, bestand, sha256, eindoordeel, inhoud, aanlevering)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id, result.audit_year, who.kvk, who.contract, key, who.name, who.sector_key, who.duty, who.relation,
                    who.year if isinstance(who.year, int) else None, record.source.path, record.source.sha256,
                    str(verdict.overall), str(verdict.content), str(verdict.delivery),
                ),
            ).lastrowid
            issues = {issue.field: issue.reason for issue in result.issues_for(rid)}
            pos = position[rid]
            conn.executemany(
                "INSERT INTO waarden (opgave_id, veld, waarde, getypt, niet_begrepen) VALUES (?, ?, ?, ?, ?)",
                [
                    (opgave, key_, _cell(values[pos]), raw_text(record.values.get(key_)) or None, issues.get(key_))
                    for key_, values in columns.items()
                ],
            )
            conn.executemany(
                "INSERT INTO bevindingen (opgave_id, regel, status, waarde, norm, toelichting, grondslag, herkomst, ontbrekend)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (opgave, f.rule_id, str(f.status), f.value, f.norm, f.message, f.basis, f.origin, ",".join(f.missing))
                    for f in result.findings_for(rid)
                ],
            )
            conn.executemany(
                "INSERT INTO kengetallen (opgave_id, kengetal, waarde) VALUES (?, ?, ?)",
                [(opgave, figure, value) for figure, value in result.figures.get(rid, {}).items()],
            )
            officer = context.officer.get(rid) if context is not None else None
            if officer is not None:
                conn.executemany(
                    "INSERT INTO escalaties (opgave_id, regel, trede, naam, reden) VALUES (?, ?, ?, ?, ?)",
                    [(opgave, m.rule_id, m.step.step, m.step.name, m.reason) for m in officer.escalations],
                )
            if progress is not None:
                progress.step()
        conn.execute("UPDATE controles SET opgaven = ?, vervangen = ? WHERE id = ?", (len(result.returns), replaced, run_id))
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        _rollback(conn)
        raise DossierError(dutch_reason(exc, dossier.path)) from None
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

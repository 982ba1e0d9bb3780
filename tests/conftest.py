"""Shared test helpers: a small hand-built AuditResult for the report tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from kvcompliance.catalogue import Status, load_catalogue
from kvcompliance.explain import norm_text
from kvcompliance.wording import basis_text, origin_text
from kvcompliance.history import NEW, PreviousReturn, Trend, trend_of
from kvcompliance.model import AuditResult, CellRef, Finding, RejectedFile, ReturnRecord, SourceFile
from kvcompliance.normalise import identities, typed_frame
from kvcompliance.validate import evaluate, verdicts

#: A complete, valid return (raw values as a provider would type them).
GOOD_RETURN: dict[str, Any] = {
    "aanbieder_naam": "Stichting Voorbeeld Jeugdhulp",
    "kvk_nummer": "12345678",
    "agb_code": None,
    "contractnummer": "JH-2025-001",
    "sector": "jeugdhulp",
    "verslagjaar": 2025,
    "contact_naam": "A. de Vries",
    "contact_email": "a.devries@voorbeeld.nl",
    "medewerkers": 40,
    "fte": "32,5",
    "clienten_minderjarig": 300,
    "clienten_volwassen": 0,
    "meldcode_aanwezig": "ja",
    "meldcode_datum": datetime(2024, 3, 1),
    "meldcode_afwegingskader": True,
    "meldcode_kindcheck": "n.v.t.",
    "verwijsindex_aangesloten": "ja",
    "af_aantal": 2,
    "af_uren_per_week": 6,
    "af_opgeleid": "ja",
    "af_consultaties": 25,
    "medewerkers_getraind": 36,
    "trainingsuren": 120,
    "intervisie_bijeenkomsten": 6,
    "meldingen_veilig_thuis": 3,
    "adviesvragen_veilig_thuis": 5,
    "signalen_verwijsindex": 2,
    "keurmerk_meldcode": "ja",
    "kwaliteitskader_smb": "ja",
    "toelichting": None,
}


#: The meldcode duty by sector, as normalisation decides it.
DUTIES = {s.key: "wettelijk" if s.statutory else "contractueel" for s in load_catalogue().sectors}


def make_result(
    *providers: dict[str, Any],
    rejected: tuple[RejectedFile, ...] = (),
    audit_year: int = 2025,
) -> AuditResult:
    """An AuditResult with one return per ``providers`` entry.

    Each entry overrides fields of GOOD_RETURN; special keys: ``statuses`` ({rule id:
    Status}, default groen), ``notes`` (tuple of Dutch remarks), ``file`` (input path),
    ``previous`` ({rule id: Status} of last year's audit, other rules as this year; when
    any provider has it, the result has ``trends`` as ``--vorige`` gives them, and
    providers without it are new). Values that cannot be parsed become FieldIssues, like
    the real normalise stage.
    """
    catalogue = load_catalogue()
    returns, findings, overall = [], [], {}
    previous: dict[str, dict[str, Status]] = {}
    for n, spec in enumerate(providers or ({},), start=1):
        spec = dict(spec)
        statuses = spec.pop("statuses", {})
        notes = tuple(spec.pop("notes", ()))
        if "previous" in spec:
            previous[f"R{n:04d}"] = spec.pop("previous")
        path = spec.pop("file", f"opgaven/opgave_{n}.xlsx")
        rid = f"R{n:04d}"
        raw = {**GOOD_RETURN, **spec}
        returns.append(
            ReturnRecord(
                return_id=rid,
                source=SourceFile(path, 1000, 0.0, "0" * 64),
                values=raw,
                cells={f.key: CellRef("Formulier", f"C{i + 5}") for i, f in enumerate(catalogue.fields)},
                form_version=catalogue.form_version,
                sheet="Formulier",
                notes=notes,
            )
        )
        worst = Status.GROEN
        for rule in catalogue.active_rules:
            status = Status(statuses.get(rule.id, Status.GROEN))
            findings.append(
                Finding(
                    return_id=rid,
                    rule_id=rule.id,
                    status=status,
                    fields=rule.inputs,
                    value=f"waarde {rule.id} van {raw['aanbieder_naam']}",
                    norm=norm_text(catalogue, rule),
                    message=rule.texts.get(status.value, f"{rule.title}: {status.value}"),
                    agenda=rule.agenda.get(status.value),
                    basis=basis_text(catalogue, rule, DUTIES.get(raw.get("sector")), None, raw.get("sector")),
                    origin=origin_text(catalogue, rule),
                )
            )
            if status.severity > worst.severity:
                worst = status
        overall[rid] = worst
    # Values, identities and key figures as the real stages make them; statuses as given.
    frame, issues = typed_frame(returns, catalogue)
    evaluation = evaluate(frame, issues, catalogue, audit_year)
    statuses = pd.DataFrame([{f.rule_id: f.status for f in findings if f.return_id == r.return_id} for r in returns],
                            index=[r.return_id for r in returns])
    trends = _trends(findings, overall, previous) if previous else None
    return AuditResult(
        catalogue=catalogue,
        audit_year=audit_year,
        audit_year_source="het verslagjaar van de meeste opgaven",
        run_date=datetime(2026, 2, 3, 14, 30),
        returns=tuple(returns),
        frame=frame,
        findings=tuple(findings),
        issues=tuple(issues),
        overall=overall,
        rejected=tuple(rejected),
        identities=identities(returns, frame, catalogue),
        figures=evaluation.figures,
        verdicts=verdicts(statuses, catalogue),
        inbox="/data/opgaven",
        trends=trends,
        previous_dir="/data/controle-vorig-jaar" if trends is not None else None,
    )


def _trends(findings: list[Finding], overall: dict[str, Status], previous: dict[str, dict[str, Status]]) -> dict[str, Trend]:
    """Trends as kvcompliance.history.compare makes them, from last year's statuses."""
    trends = {}
    for rid in overall:
        if rid not in previous:
            trends[rid] = Trend(None, NEW)
            continue
        now = {f.rule_id: f.status for f in findings if f.return_id == rid}
        before = PreviousReturn({**now, **previous[rid]})
        rules = {rule_id: (before.statuses.get(rule_id), trend_of(before.statuses.get(rule_id), status)) for rule_id, status in now.items()}
        trends[rid] = Trend(before.overall, trend_of(before.overall, overall[rid]), rules)
    return trends

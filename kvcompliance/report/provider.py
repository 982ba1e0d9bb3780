"""The accountgesprek workbook for ONE return: the agenda the gemeente sends the provider.

Two steps, so that many workbooks can later be written in parallel processes:
:func:`provider_view` copies only this provider's data out of the audit result into a
plain, picklable :class:`ProviderView`; :func:`render_provider` writes that view. The view
holds nothing of any other provider, so a workbook cannot leak another provider's data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, Sequence

import kvcompliance
from kvcompliance.catalogue import Catalogue, Rule, Status
from kvcompliance.explain import source_text
from kvcompliance.model import AuditResult, FieldIssue, Finding
from kvcompliance.report.output import new_workbook
from kvcompliance.report.styles import (
    AGENDA_STATUSES,
    STATUS_ORDER,
    Styles,
    fit_row,
    rules_file_text,
    run_date_text,
    set_widths,
    setup_print,
    status_label,
    write_norms_sheet,
)
from kvcompliance.report.tables import identity
from kvcompliance.values import raw_text

NOTE_LIMIT = 1200  # characters in one cell note


@dataclass(frozen=True)
class ProviderView:
    """Everything one provider's workbook shows, and nothing else. Plain and picklable."""

    return_id: str
    name: str
    kvk: str
    contract: str
    sector_label: str
    obligation: str
    reporting_year: int | str | None
    source_name: str
    notes: tuple[str, ...]
    values: dict[str, Any]  # field key -> raw value as typed
    cells: dict[str, str]  # field key -> "Sheet!C5"
    findings: tuple[Finding, ...]  # catalogue order
    issues: tuple[FieldIssue, ...]
    overall: Status
    audit_year: int
    run_date: datetime
    tool_version: str = field(default=kvcompliance.__version__)


def provider_view(result: AuditResult, return_id: str) -> ProviderView:
    """Copy one provider's data out of ``result``."""
    record = next((r for r in result.returns if r.return_id == return_id), None)
    if record is None:
        raise KeyError(return_id)
    who = identity(result, record)
    return ProviderView(
        return_id=return_id,
        name=who.name,
        kvk=who.kvk,
        contract=who.contract,
        sector_label=who.sector_label,
        obligation=who.obligation,
        reporting_year=who.year,
        source_name=who.source_name,
        notes=tuple(record.notes),
        values=dict(record.values),
        cells={key: str(ref) for key, ref in record.cells.items()},
        findings=tuple(result.findings_for(return_id)),
        issues=tuple(result.issues_for(return_id)),
        overall=Status(result.overall[return_id]),
        audit_year=result.audit_year,
        run_date=result.run_date,
    )


def render_provider(view: ProviderView, catalogue: Catalogue, path: Path) -> None:
    """Write the accountgesprek workbook of ``view`` to ``path`` (whole or not at all)."""
    name = view.name or "onbekende aanbieder"
    title = f"Accountgesprek kindermishandeling — {name}"
    footer = f"Verslagjaar {view.audit_year} · gemaakt op {run_date_text(view.run_date)}"
    with new_workbook(path) as workbook:
        workbook.set_properties(
            {"title": title, "subject": "Accountgesprek kindermishandeling", "author": "kvcompliance", "comments": f"kvcompliance {view.tool_version}"}
        )
        styles = Styles(workbook, catalogue)
        _summary_sheet(workbook, styles, view, title, footer)
        _return_sheet(workbook, styles, view, title, footer)
        meta = [
            ("Versie kvcompliance", view.tool_version),
            ("Controlejaar", str(view.audit_year)),
            ("Datum controle", run_date_text(view.run_date)),
            ("Regels", rules_file_text(catalogue, full_path=False)),
            ("Formulierversie", catalogue.form_version),
        ]
        write_norms_sheet(workbook, styles, meta, header_left=title, footer_left=footer)


# ------------------------------------------------------------------ Samenvatting
SUMMARY_COLUMNS = (
    ("Regel", 7),
    ("Omschrijving", 26),
    ("Status", 11),
    ("Uw waarde", 24),
    ("Norm", 36),
    ("Toelichting", 50),
    ("Bron", 24),
)


def _rule_lookup(catalogue: Catalogue) -> dict[str, Rule]:
    return {rule.id: rule for rule in catalogue.rules}


def _summary_sheet(workbook: Any, styles: Styles, view: ProviderView, title: str, footer: str) -> None:
    catalogue = styles.catalogue
    rules = _rule_lookup(catalogue)
    sheet = workbook.add_worksheet("Samenvatting")
    sheet.hide_gridlines(2)
    widths = [w for _, w in SUMMARY_COLUMNS]
    set_widths(sheet, widths)

    sheet.set_row(0, 28)
    sheet.write_string(0, 0, title, styles.get("title"))
    sheet.write_string(
        1,
        0,
        f"Verslagjaar {view.audit_year} · gemaakt op {run_date_text(view.run_date)} met kvcompliance {view.tool_version}",
        styles.get("subtitle"),
    )

    info = [
        ("Organisatie", view.name or "onbekend"),
        ("KvK-nummer", view.kvk or "onbekend"),
        ("Contractnummer", view.contract or "onbekend"),
        ("Sector", view.sector_label),
        ("Meldcodeplicht", view.obligation),
        ("Verslagjaar opgave", "" if view.reporting_year is None else str(view.reporting_year)),
        ("Uw bestand", view.source_name),
    ]
    row = 3
    for label, value in info:
        sheet.write_string(row, 0, label, styles.get("label"))
        sheet.merge_range(row, 2, row, 3, "", styles.get("plain"))
        sheet.write_string(row, 2, value or "onbekend", styles.get("plain"))
        fit_row(sheet, row, [(value, widths[2] + widths[3])])
        row += 1

    # Legend beside the identity block: swatch in Norm, meaning in Toelichting.
    sheet.write_string(3, 4, "Legenda", styles.get("label"))
    for offset, status in enumerate(STATUS_ORDER, start=1):
        styles.status_cell(sheet, 3 + offset, 4, status)
        sheet.write_string(3 + offset, 5, styles.colours[status].meaning, styles.get("legend_text"))

    row += 1
    sheet.set_row(row, 30)
    sheet.write_string(row, 0, "Eindoordeel", styles.get("label_middle"))
    styles.status_cell(sheet, row, 2, view.overall, big=True)
    sheet.merge_range(row, 3, row, 5, "", styles.get("meaning_big"))
    sheet.write_string(
        row,
        3,
        f"{styles.colours[view.overall].meaning} (het zwaarste oordeel over alle regels)",
        styles.get("meaning_big"),
    )
    row += 1
    for note in view.notes:
        sheet.merge_range(row, 0, row, 6, "", styles.get("note"))
        sheet.write_string(row, 0, f"Let op: {note}", styles.get("note"))
        fit_row(sheet, row, [(f"Let op: {note}", sum(widths))])
        row += 1

    row += 1
    header_row = row
    for col, (name, _) in enumerate(SUMMARY_COLUMNS):
        sheet.write_string(row, col, name, styles.get("header"))
    for finding in view.findings:
        row += 1
        rule = rules.get(finding.rule_id)
        sheet.write_string(row, 0, finding.rule_id, styles.get("id"))
        sheet.write_string(row, 1, rule.title if rule else "", styles.get("text"))
        styles.status_cell(sheet, row, 2, finding.status)
        sheet.write_string(row, 3, finding.value, styles.get("text"))
        sheet.write_string(row, 4, finding.norm, styles.get("text"))
        sheet.write_string(row, 5, finding.message, styles.get("text"))
        source = source_text(catalogue, rule) if rule else ""
        sheet.write_string(row, 6, source, styles.get("text"))
        texts = (finding.rule_id, rule.title if rule else "", "", finding.value, finding.norm, finding.message, source)
        fit_row(sheet, row, list(zip(texts, widths)))
    sheet.freeze_panes(header_row + 1, 0)

    row += 2
    _agenda(sheet, styles, view, rules, row, widths)
    setup_print(
        sheet, landscape=True, header_left=title, header_right="Samenvatting", footer_left=footer, repeat_rows=(header_row, header_row)
    )


def agenda_items(findings: Sequence[Finding]) -> list[Finding]:
    """The findings to discuss: rood, then oranje, then grijs; catalogue order within each."""
    return [f for status in AGENDA_STATUSES for f in findings if f.status == status]


def _agenda(sheet: Any, styles: Styles, view: ProviderView, rules: dict[str, Rule], row: int, widths: list[float]) -> int:
    sheet.set_row(row, 22)
    sheet.write_string(row, 0, "Gespreksagenda", styles.get("heading"))
    for col in range(1, 7):
        sheet.write_blank(row, col, None, styles.get("heading"))
    row += 1
    items = agenda_items(view.findings)
    if not items:
        sheet.merge_range(row, 0, row, 6, "", styles.get("plain"))
        sheet.write_string(
            row, 0, "Er zijn geen punten om te bespreken: de opgave voldoet aan alle normen die van toepassing zijn.", styles.get("plain")
        )
        return row + 1
    sheet.write_string(
        row, 0, "Graag bespreken we in het accountgesprek de volgende punten, het zwaarste eerst.", styles.get("subtitle")
    )
    row += 1
    for col, name in enumerate(("Nr.", "Onderwerp", "Status", "Vraag aan u")):
        if col == 3:
            sheet.merge_range(row, 3, row, 6, "", styles.get("header"))
        sheet.write_string(row, col, name, styles.get("header"))
    question_width = sum(widths[3:7])
    for number, finding in enumerate(items, start=1):
        row += 1
        rule = rules.get(finding.rule_id)
        topic = f"{finding.rule_id} {rule.title}" if rule else finding.rule_id
        question = finding.agenda or finding.message
        sheet.write_number(row, 0, number, styles.get("count"))
        sheet.write_string(row, 1, topic, styles.get("text"))
        styles.status_cell(sheet, row, 2, finding.status)
        sheet.merge_range(row, 3, row, 6, "", styles.get("text"))
        sheet.write_string(row, 3, question, styles.get("text"))
        fit_row(sheet, row, [(question, question_width), (topic, widths[1])], min_height=18)
    return row + 1


# ------------------------------------------------------------------ Aanlevering
RETURN_COLUMNS = (
    ("Vraag", 46),
    ("Uw antwoord", 28),
    ("Cel in uw bestand", 16),
    ("Status", 11),
    ("Waarom deze kleur", 56),
)


def field_status(statuses: Sequence[Status], has_issue: bool) -> Status | None:
    """The colour of a field: its worst finding, ignoring groen and n.v.t. unless all are groen.

    A value that was not understood is at least grijs. ``None``: not touched, no colour.
    """
    relevant = [s for s in statuses if s not in (Status.GROEN, Status.NVT)]
    if has_issue:
        relevant.append(Status.GRIJS)
    if relevant:
        return max(relevant, key=lambda s: s.severity)
    if Status.GROEN in statuses:
        return Status.GROEN
    return None


def _why(catalogue: Catalogue, rules: dict[str, Rule], findings: Sequence[Finding], issues: Sequence[FieldIssue]) -> tuple[str, str]:
    """(cell note, short printable line) explaining a field's colour."""
    note, short = [], []
    for finding in findings:
        if finding.status in (Status.GROEN, Status.NVT):
            continue
        rule = rules.get(finding.rule_id)
        label = status_label(catalogue, finding.status)
        note.append(f"{finding.rule_id} ({label}): {finding.message}")
        short.append(f"{finding.rule_id} {rule.title if rule else ''} ({label.lower()})".replace("  ", " "))
    for issue in issues:
        note.append(f"Niet begrepen: {issue.reason}")
        short.append(f"niet begrepen: {issue.reason}")
    if not note:
        passed = [f.rule_id for f in findings if f.status == Status.GROEN]
        if passed:
            note.append(f"{status_label(catalogue, Status.GROEN)}: voldoet aan {', '.join(passed)}.")
    text = "\n".join(note)
    if len(text) > NOTE_LIMIT:
        text = text[: NOTE_LIMIT - 1] + "…"
    return text, "\n".join(short)


def _note_options(text: str) -> dict[str, Any]:
    lines = sum(max(1, math.ceil(len(part) / 55)) for part in text.split("\n"))
    return {"visible": False, "x_scale": 2.6, "y_scale": max(1.0, min(8.0, (lines * 12 + 12) / 74)), "author": "kvcompliance"}


def _write_raw(sheet: Any, styles: Styles, row: int, col: int, value: Any, status: Status | None) -> None:
    """The provider's value as typed: numbers as numbers, dates as dates, ja/nee, text as text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        sheet.write_blank(row, col, None, styles.get("text", status))
    elif isinstance(value, bool):
        sheet.write_string(row, col, "ja" if value else "nee", styles.get("text", status))
    elif isinstance(value, (int, float, Decimal)) and math.isfinite(float(value)):
        sheet.write_number(row, col, float(value) if isinstance(value, Decimal) else value, styles.get("number", status))
    elif isinstance(value, (datetime, date)) and not isinstance(value, time):
        if isinstance(value, datetime) and value.time() != time(0, 0):
            sheet.write_string(row, col, raw_text(value), styles.get("text", status))
        else:
            sheet.write_datetime(row, col, value, styles.get("date", status))
    else:
        text = value if isinstance(value, str) else raw_text(value)
        sheet.write_string(row, col, text, styles.get("text", status))


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _return_sheet(workbook: Any, styles: Styles, view: ProviderView, title: str, footer: str) -> None:
    catalogue = styles.catalogue
    rules = _rule_lookup(catalogue)
    sheet = workbook.add_worksheet("Aanlevering")
    sheet.hide_gridlines(2)
    set_widths(sheet, [w for _, w in RETURN_COLUMNS])
    sheet.set_row(0, 28)
    sheet.write_string(0, 0, f"Uw aanlevering — {view.name or 'onbekende aanbieder'}", styles.get("title"))
    sheet.write_string(
        1,
        0,
        "Uw antwoorden zoals ze in uw formulier stonden. Een gekleurde cel heeft een notitie met uitleg (wijs de cel aan).",
        styles.get("subtitle"),
    )
    header_row = 3
    for col, (name, _) in enumerate(RETURN_COLUMNS):
        sheet.write_string(header_row, col, name, styles.get("header"))
    touching: dict[str, list[Finding]] = {}
    for finding in view.findings:
        for key in finding.fields:
            touching.setdefault(key, []).append(finding)
    issues: dict[str, list[FieldIssue]] = {}
    for issue in view.issues:
        issues.setdefault(issue.field, []).append(issue)

    row = header_row
    for section in catalogue.sections:
        fields = catalogue.fields_in(section.key)
        if not fields:
            continue
        row += 1
        sheet.write_string(row, 0, section.title, styles.get("section"))
        for col in range(1, len(RETURN_COLUMNS)):
            sheet.write_blank(row, col, None, styles.get("section"))
        for fld in fields:
            row += 1
            found = touching.get(fld.key, [])
            its_issues = issues.get(fld.key, [])
            status = field_status([f.status for f in found], bool(its_issues))
            label = fld.label + (" *" if fld.required else "")
            sheet.write_string(row, 0, label, styles.get("text"))
            _write_raw(sheet, styles, row, 1, view.values.get(fld.key), status)
            sheet.write_string(row, 2, view.cells.get(fld.key, ""), styles.get("text"))
            styles.status_cell(sheet, row, 3, status)
            note, short = _why(catalogue, rules, found, its_issues)
            sheet.write_string(row, 4, short, styles.get("text"))
            fit_row(sheet, row, [(label, RETURN_COLUMNS[0][1]), (short, RETURN_COLUMNS[4][1]), (_shown(view.values.get(fld.key)), RETURN_COLUMNS[1][1])])
            if status is not None and note:
                sheet.write_comment(row, 1, note, _note_options(note))
    row += 2
    sheet.write_string(row, 0, "* verplicht veld", styles.get("subtitle"))
    sheet.freeze_panes(header_row + 1, 0)
    setup_print(
        sheet, landscape=True, header_left=title, header_right="Aanlevering", footer_left=footer, repeat_rows=(header_row, header_row)
    )

"""The accountgesprek workbook for ONE return: the agenda the gemeente sends the provider.

Two steps, so that many workbooks can later be written in parallel processes:
:func:`provider_view` copies only this provider's data out of the audit result into a
plain, picklable :class:`ProviderView`; :func:`render_provider` writes that view. The view
holds nothing of any other provider, so a workbook cannot leak another provider's data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import kvcompliance
from kvcompliance.catalogue import Catalogue, Status
from kvcompliance.model import AuditResult, FieldIssue, Finding, Verdict
from kvcompliance.report.compare import (
    AgendaItem,
    SectorFigure,
    YearOnYear,
    agenda,
    sector_comparisons,
    year_on_year,
)
from kvcompliance.report.answers import write_answers_sheet
from kvcompliance.report.conversation import write_agenda, write_sector_section
from kvcompliance.report.xlsx import new_workbook
from kvcompliance.settings import Letterhead, date_in_words
from kvcompliance.report.styles import (
    STATUS_ORDER,
    Styles,
    fit_row,
    rules_file_text,
    run_date_text,
    set_widths,
    setup_print,
    write_norms_sheet,
)
from kvcompliance.values import format_date



@dataclass(frozen=True)
class ProviderView:
    """Everything one provider's workbook shows, and nothing else. Plain and picklable."""

    return_id: str
    name: str
    kvk: str
    contract: str
    sector_label: str
    sector_in_sentence: str  # the sector's label inside a sentence ('jeugdhulp', 'Wmo')
    obligation: str
    reporting_year: int | str | None
    source_name: str
    notes: tuple[str, ...]
    values: dict[str, Any]  # field key -> raw value as typed
    cells: dict[str, str]  # field key -> "Sheet!C5"
    findings: tuple[Finding, ...]  # catalogue order
    issues: tuple[FieldIssue, ...]
    overall: Status
    verdict: Verdict  # Inhoud, Aanlevering and Eindoordeel
    audit_year: int
    run_date: datetime  # also the workbook's creation date, so equal input gives equal files
    agenda: tuple[AgendaItem, ...]  # the points for the accountgesprek, in order
    sector: tuple[SectorFigure, ...]  # own figures beside the sector median (never others' values)
    history: YearOnYear | None = None  # None without --vorige
    #: earlier years from the dossier (kvcompliance.dossier.model.ProviderHistory); None without --dossier
    dossier: Any = None
    letterhead: Letterhead = field(default_factory=Letterhead)  # who sends it, when the conversation is
    tool_version: str = field(default=kvcompliance.__version__)


def provider_view(
    result: AuditResult,
    return_id: str,
    comparisons: Mapping[str, tuple[SectorFigure, ...]] | None = None,
    letterhead: Letterhead | None = None,
) -> ProviderView:
    """Copy one provider's data out of ``result``. ``comparisons``: every return's sector
    comparison (:func:`sector_comparisons`), when the caller makes many views;
    ``letterhead``: the sender and dates from the settings."""
    record = result.record(return_id)
    if record is None:
        raise KeyError(return_id)
    who = result.identities[return_id]
    if comparisons is None:
        comparisons = sector_comparisons(result)
    findings = tuple(result.findings_for(return_id))
    history = year_on_year(result, return_id)
    past = result.dossier.providers.get(return_id) if result.dossier is not None else None
    return ProviderView(
        return_id=return_id,
        name=who.name,
        kvk=who.kvk,
        contract=who.contract,
        sector_label=who.sector_label,
        sector_in_sentence=result.catalogue.sector(who.sector_key).label_in_sentence if who.sector_key else who.sector_label,
        obligation=who.obligation,
        reporting_year=who.year,
        source_name=who.source_name,
        notes=tuple(record.notes),
        values=dict(record.values),
        cells={key: ref.in_words() for key, ref in record.cells.items()},
        findings=findings,
        issues=tuple(result.issues_for(return_id)),
        overall=Status(result.overall[return_id]),
        verdict=result.verdicts[return_id],
        audit_year=result.audit_year,
        run_date=result.run_date,
        agenda=agenda(findings, result.catalogue, history.worsened() if history else frozenset(), result.issues_for(return_id),
                      past.agreements if past is not None else ()),
        sector=comparisons[return_id],
        history=history,
        dossier=past,
        letterhead=letterhead or Letterhead(),
    )


def render_provider(view: ProviderView, catalogue: Catalogue, path: Path) -> None:
    """Write the accountgesprek workbook of ``view`` to ``path`` (whole or not at all)."""
    name = view.name or "onbekende aanbieder"
    title = f"Accountgesprek kindermishandeling — {name}"
    # Short enough for a third of the page (LibreOffice cuts a longer footer off).
    footer = f"{view.letterhead.name or view.letterhead.sender} · verslagjaar {view.audit_year} · {format_date(view.run_date.date())}"
    with new_workbook(path) as workbook:
        workbook.set_properties(
            {
                "title": title,
                "subject": "Accountgesprek kindermishandeling",
                "author": view.letterhead.sender,
                "company": view.letterhead.name,
                "comments": f"Gemaakt met kvcompliance {view.tool_version}",
                "created": view.run_date,
            }
        )
        # What kvcompliance afspraken matches the workbook on, next year.
        for key, value in (("kv_kvk", view.kvk), ("kv_contractnummer", view.contract), ("kv_controlejaar", str(view.audit_year))):
            workbook.set_custom_property(key, value or "onbekend")
        styles = Styles(workbook, catalogue)
        summary = workbook.add_worksheet("Samenvatting")
        answers = workbook.add_worksheet("Aanlevering")
        meta = [
            ("Versie kvcompliance", view.tool_version),
            ("Controlejaar", str(view.audit_year)),
            ("Datum controle", run_date_text(view.run_date)),
            ("Regels", rules_file_text(catalogue, full_path=False)),
            ("Formulierversie", catalogue.form_version),
        ]
        _summary_sheet(summary, workbook, styles, view, title, footer)
        write_answers_sheet(answers, styles, view, title, footer)
        if view.dossier is not None:
            from kvcompliance.report.history_sheet import write_history_sheet

            write_history_sheet(workbook, styles, view, title, footer)
        write_norms_sheet(workbook, styles, meta, header_left=title, footer_left=footer)


# ------------------------------------------------------------------ Samenvatting
SUMMARY_COLUMNS = (
    ("Regel", 7),
    ("Omschrijving", 20),
    ("Status", 10),
    ("Uw waarde", 20),
    ("Norm", 34),
    ("Toelichting", 46),
    ("Grondslag", 30),
    ("Herkomst norm", 20),
)
#: Inserted after Status when the audit compares with last year (--vorige).
TREND_COLUMNS = (("Vorig jaar", 11), ("Ontwikkeling", 15))


def summary_columns(with_history: bool) -> tuple[tuple[str, float], ...]:
    """The columns of the rules table on Samenvatting (and so of the whole sheet)."""
    if not with_history:
        return SUMMARY_COLUMNS
    status = [name for name, _ in SUMMARY_COLUMNS].index("Status")
    return SUMMARY_COLUMNS[: status + 1] + TREND_COLUMNS + SUMMARY_COLUMNS[status + 1 :]


@lru_cache(maxsize=8)
def _rule_titles(catalogue: Catalogue) -> dict[str, str]:
    return {rule.id: rule.title for rule in catalogue.rules}


@lru_cache(maxsize=8)
def _group_rules(catalogue: Catalogue) -> dict[str, str]:
    """Group -> its active rule ids as a short range ('KV01–KV13, KV93')."""
    from kvcompliance.catalogue import GROUP_CONTENT, GROUP_DELIVERY

    return {group: id_ranges([r.id for r in catalogue.active_rules if r.group == group]) for group in (GROUP_CONTENT, GROUP_DELIVERY)}


def id_ranges(ids: Sequence[str]) -> str:
    """'KV01–KV11, KV93' for KV01, KV02, ..., KV11, KV93."""
    runs: list[list[str]] = []
    for rule_id in ids:
        number = int(rule_id[2:]) if rule_id[2:].isdigit() else None
        last = runs[-1][-1] if runs else None
        if number is not None and last is not None and last[2:].isdigit() and int(last[2:]) + 1 == number:
            runs[-1].append(rule_id)
        else:
            runs.append([rule_id])
    return ", ".join(run[0] if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs)


#: Protection of the workbook's sheets: against accidental edits, not a secret (no password).
#: Rows may be made taller, to read or write more in the agreement cells.
PROTECTION = {"format_rows": True, "format_columns": True, "select_locked_cells": True, "select_unlocked_cells": True}


def _letterhead_rows(view: ProviderView) -> list[tuple[str, str]]:
    """(label, text) of the sender block: who sends, whom to contact, when to talk and answer."""
    head = view.letterhead
    rows = [("Van", head.sender)]
    if head.contact_line:
        rows.append(("Contactpersoon", head.contact_line))
    if head.period:
        rows.append(("Accountgesprek", head.period))
    if head.respond_by:
        rows.append(("Reageren vóór", date_in_words(head.respond_by)))
    return rows


def _summary_sheet(sheet: Any, workbook: Any, styles: Styles, view: ProviderView, title: str, footer: str) -> None:
    catalogue = styles.catalogue
    sheet.hide_gridlines(2)
    columns = summary_columns(view.history is not None)
    col = {name: n for n, (name, _) in enumerate(columns)}
    last = len(columns) - 1
    widths = [w for _, w in columns]
    set_widths(sheet, widths)

    sheet.set_row(0, 28)
    sheet.write_string(0, 0, title, styles.get("title"))
    sheet.write_string(
        1,
        0,
        f"De uitkomst van uw opgave over {view.audit_year}: per voorwaarde uw antwoord, de norm, het oordeel en de grond"
        " waarop de gemeente het vraagt. Onderaan de punten voor het gesprek.",
        styles.get("subtitle"),
    )
    # Identity values run from the Status column up to the legend (Norm, Toelichting).
    legend_col = col["Norm"]
    value_end = legend_col - 1
    value_width = sum(widths[2 : value_end + 1])
    identity = [
        ("Organisatie", view.name or "onbekend"),
        ("KvK-nummer", view.kvk or "onbekend"),
        ("Contractnummer", view.contract or "onbekend"),
        ("Sector", view.sector_label),
        ("Meldcodeplicht", view.obligation),
        ("Verslagjaar opgave", "" if view.reporting_year is None else str(view.reporting_year)),
        ("Uw bestand", view.source_name),
    ]
    row = 3
    for block in (_letterhead_rows(view), identity):
        for n, (label, value) in enumerate(block):
            sheet.write_string(row, 0, label, styles.get("label"))
            kind = "letterhead" if block is not identity and n == 0 else "plain"
            styles.merged(sheet, row, 2, value_end, value or "onbekend", kind)
            fit_row(sheet, row, [(value, value_width * (0.85 if kind == "letterhead" else 1))])
            row += 1
        row += 1  # a blank line after each block
    row -= 1

    # Legend beside the identity block: swatch in Norm, meaning in Toelichting.
    sheet.write_string(3, legend_col, "Legenda", styles.get("label"))
    for offset, status in enumerate(STATUS_ORDER, start=1):
        styles.status_cell(sheet, 3 + offset, legend_col, status)
        sheet.write_string(3 + offset, legend_col + 1, styles.colours[status].meaning, styles.get("legend_text"))

    row += 1
    meaning_end = col["Toelichting"]
    sheet.set_row(row, 30)
    sheet.write_string(row, 0, "Eindoordeel", styles.get("label_middle"))
    styles.status_cell(sheet, row, 2, view.overall, big=True)
    meaning = f"{styles.colours[view.overall].meaning} (het zwaarste van de twee oordelen hieronder)"
    styles.merged(sheet, row, 3, meaning_end, meaning, "meaning_big")
    row += 1
    groups = _group_rules(catalogue)
    for label, status, what in (
        ("Inhoud", view.verdict.content, f"Oordeel over de voorwaarden zelf ({groups['inhoud']})"),
        ("Aanlevering", view.verdict.delivery, f"Oordeel over de volledigheid en juistheid van de opgave ({groups['aanlevering']})"),
    ):
        sheet.write_string(row, 0, label, styles.get("label_middle"))
        styles.status_cell(sheet, row, 2, status)
        styles.merged(sheet, row, 3, meaning_end, what, "meaning")
        sheet.set_row(row, 18)
        row += 1
    if view.history is not None:
        history = view.history
        sheet.set_row(row, 30)
        sheet.write_string(row, 0, "Vorig jaar", styles.get("label_middle"))
        if history.previous_overall is not None:
            styles.status_cell(sheet, row, 2, history.previous_overall)
        else:
            sheet.write_string(row, 2, "geen opgave", styles.toned("legend_text", history.overall.tone))
        sheet.merge_range(row, 3, row, meaning_end, "", None)  # no border or fill to repeat
        sheet.write_rich_string(
            row,
            3,
            styles.toned("meaning", history.overall.tone),
            history.overall.text,
            styles.get("meaning"),
            f": {history.sentence}",
            styles.get("meaning"),
        )
        fit_row(sheet, row, [(f"{history.overall.text}: {history.sentence}", sum(widths[3 : meaning_end + 1]) * 0.9)], min_height=30)
        row += 1
    for note in view.notes:
        styles.merged(sheet, row, 0, last, f"Let op: {note}", "note")
        fit_row(sheet, row, [(f"Let op: {note}", sum(widths))])
        row += 1

    row += 1
    header_row = row
    for n, (name, _) in enumerate(columns):
        sheet.write_string(row, n, name, styles.get("header"))
    rule_history = view.history.rules if view.history is not None else {}
    titles = _rule_titles(catalogue)
    id_format, text_format = styles.get("id"), styles.get("text")
    write = sheet.write_string
    at = [col[name] for name in ("Regel", "Omschrijving", "Uw waarde", "Norm", "Toelichting", "Grondslag", "Herkomst norm")]
    at_widths = [widths[n] for n in at]
    status_col = col["Status"]
    for finding in view.findings:
        row += 1
        cells = (finding.rule_id, titles.get(finding.rule_id, ""), finding.value, finding.norm, finding.message,
                 finding.basis, finding.origin)
        write(row, at[0], cells[0], id_format)
        for n in range(1, len(cells)):
            write(row, at[n], cells[n], text_format)
        styles.status_cell(sheet, row, status_col, finding.status)
        if view.history is not None:
            previous, mark = rule_history.get(finding.rule_id, (None, None))
            styles.status_cell(sheet, row, col["Vorig jaar"], previous)
            if mark is None:
                sheet.write_blank(row, col["Ontwikkeling"], None, text_format)
            else:
                sheet.write_string(row, col["Ontwikkeling"], mark.text, styles.toned("trend", mark.tone))
        fit_row(sheet, row, zip(cells, at_widths))
    sheet.freeze_panes(header_row + 1, 0)

    row += 2
    row = write_agenda(sheet, workbook, styles, view, row, widths)
    row += 1
    write_sector_section(sheet, styles, view, row, widths)
    sheet.protect("", PROTECTION)
    setup_print(
        sheet, landscape=True, header_left=title, header_right="Samenvatting", footer_left=footer, repeat_rows=(header_row, header_row)
    )
